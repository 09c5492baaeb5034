"""Helpers shared by the marts: days, deduplication, exact means and output schemas.

Every mart works in UTC, the lake's partitioning time: a mart's day is ``[D 00:00, D+1 00:00)``
UTC of event time, and hours are UTC hours labelled by their start.

Means of concentrations are computed exactly: each reading is rounded half-to-even to micro-units
(10⁻⁶ of its unit) as an integer, the integers are summed, and the mean is one correctly rounded
division. Integer sums do not depend on the order rows are read in, so a mart is identical on
every lake format and engine, and a reading's own decimal value survives (12.3 averages to 12.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import polars as pl

UTC_MS = pl.Datetime("ms", "UTC")
MICRO = 1_000_000
DAY = timedelta(days=1)


def as_date(value: date | datetime | str) -> date:
    """A calendar date from a ``date``, a ``datetime`` (its UTC date) or ``YYYY-MM-DD`` text."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        msg = f"a mart date is a date or YYYY-MM-DD text, got {value!r}"
        raise ValueError(msg) from None


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def on_day(day: date, column: str = "event_time") -> pl.Expr:
    """Rows whose UTC timestamp ``column`` lies in ``day``."""
    start = day_start(day)
    return (pl.col(column) >= start) & (pl.col(column) < start + DAY)


def ms_on_day(day: date, column: str | pl.Expr) -> pl.Expr:
    """Rows whose epoch-millisecond ``column`` (a name or an expression) lies in ``day``."""
    start = int(day_start(day).timestamp() * 1000)
    expr = pl.col(column) if isinstance(column, str) else column
    return (expr >= start) & (expr < start + 86_400_000)


def ms_to_time(column: str | pl.Expr) -> pl.Expr:
    """Epoch milliseconds as a UTC timestamp."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.cast(pl.Int64).cast(UTC_MS)


def valid_value(column: str) -> pl.Expr:
    """The column where it is a finite, non-negative number; null elsewhere."""
    x = pl.col(column).cast(pl.Float64)
    return pl.when(x.is_finite() & (x >= 0)).then(x)


def micro_units(column: str) -> pl.Expr:
    """A valid concentration as an Int64 count of micro-units, rounded half-to-even."""
    return (valid_value(column) * MICRO).round().cast(pl.Int64)


def exact_mean(micro_sum: str, count: str) -> pl.Expr:
    """Mean from a micro-unit sum and a count: one correctly rounded division; null for no values."""
    return (
        pl.when(pl.col(count) > 0)
        .then(pl.col(micro_sum).cast(pl.Float64) / (pl.col(count).cast(pl.Float64) * MICRO))
        .cast(pl.Float64)
    )


def divide(numerator: str | pl.Expr, constant: float) -> pl.Expr:
    """``numerator / constant``, correctly rounded.

    Polars divides by a literal through its reciprocal, which is often one ulp off (−6927 / 1000
    gives −6.9270000000000005) and can differ between its engines. Dividing by a computed column is
    a true IEEE division, identical everywhere and equal to Python's and numpy's.
    """
    x = (pl.col(numerator) if isinstance(numerator, str) else numerator).cast(pl.Float64)
    return x / (x * 0.0 + constant)


def dedupe(frame: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """One row per ``keys``: the first landed (lowest partition and offset). A producer retry
    lands the same message twice under two offsets; it must count once."""
    return frame.sort([*keys, "_partition", "_offset"]).unique(list(keys), keep="first", maintain_order=True)


def conform(frame: pl.LazyFrame, schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """The mart's columns, in order, with their documented types."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def conform_frame(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """``conform`` for an eager frame."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """A frame with no rows and the mart's columns."""
    return pl.DataFrame(schema=dict(schema))
