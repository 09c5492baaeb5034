"""Polars expressions for the US EPA AQI, giving exactly the integers of ``smartcity.analysis.air.aqi``.

The scalar version works on the shortest decimal representation of each float. Here the same
number is found with float operations that are then checked exactly: a candidate count of
millionths ``n`` is accepted only when the decimal boundaries ``(n ± 0.5) / 10^6``, converted to
float (a correctly rounded division of exact integers), bracket the value. Below
``MAX_CONCENTRATION`` every such boundary has at most 13 significant digits, so comparing it
with the float is the same as comparing it with the float's shortest representation. From there
on, truncation, the row lookup and half-up rounding are exact Int64 arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

import polars as pl

from smartcity.analysis.air.aqi import AQI_GROUPS, MAX_CONCENTRATION, PRE_ROUND_DECIMALS, SO2_1H_CEILING_AQI
from smartcity.analysis.air.breakpoints import AQI_CATEGORIES, BreakpointRow, Pollutant, scale_for

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

_MILLION = 10**PRE_ROUND_DECIMALS


def _as_expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def _millionths(column: pl.Expr) -> pl.Expr:
    """Round half-up to a whole number of millionths, as ``Decimal(repr(x)).quantize(1e-6)`` does."""
    x = column.cast(pl.Float64)
    valid = x.is_finite() & (x >= 0) & (x < MAX_CONCENTRATION)
    guess = (x * _MILLION + 0.5).floor()
    # The boundaries must be correctly rounded, so the divisor is a computed column: Polars
    # divides by a scalar (a literal, or a column it holds as one) through its reciprocal.
    divisor = x * 0.0 + 2.0 * _MILLION
    upper = (2 * guess + 1) / divisor
    lower = (2 * guess - 1) / divisor
    count = pl.when(upper <= x).then(guess + 1).when(lower > x).then(guess - 1).otherwise(guess)
    return pl.when(valid).then(count.cast(pl.Int64))


def truncate_units_expr(pollutant: Pollutant, column: str | pl.Expr) -> pl.Expr:
    """Truncated concentration as an Int64 count of truncation steps; see ``truncate_units``."""
    scale = scale_for(pollutant)
    step: int = 10 ** (PRE_ROUND_DECIMALS - scale.decimals)  # millionths per truncation step
    return _millionths(_as_expr(column)) // step


def _row_index(row: BreakpointRow, units: pl.Expr) -> pl.Expr:
    span = row.hi - row.lo
    return row.aqi_lo + (2 * (row.aqi_hi - row.aqi_lo) * (units - row.lo) + span) // (2 * span)


def aqi_expr(pollutant: Pollutant, column: str | pl.Expr) -> pl.Expr:
    """Int64 AQI sub-index of a concentration column; null wherever ``aqi`` returns ``None``."""
    scale = scale_for(pollutant)
    units = truncate_units_expr(pollutant, column)
    chain: Then | ChainedThen = pl.when(units < scale.lowest).then(None)
    for row in scale.rows:
        chain = chain.when(units <= row.hi).then(_row_index(row, units))
    top = _row_index(scale.rows[-1], units) if scale.extrapolate else None
    return chain.otherwise(top).cast(pl.Int64)


def aqi_category_expr(aqi: str | pl.Expr, *, field: str = "name") -> pl.Expr:
    """AQI category per row: ``field`` is ``name``, ``colour`` or ``hex`` (TAD Tables 1 and 2).

    Values above 500 fall in Hazardous, as in ``aqi_category``; nulls and negative values give null.
    """
    if field not in ("name", "colour", "hex"):
        msg = f"`field` must be 'name', 'colour' or 'hex', got {field!r}"
        raise ValueError(msg)
    value = _as_expr(aqi)
    chain: Then | ChainedThen = pl.when(value.is_null() | (value < 0)).then(None)
    for category in AQI_CATEGORIES[:-1]:
        chain = chain.when(value <= category.aqi_hi).then(pl.lit(getattr(category, field)))
    return chain.otherwise(pl.lit(getattr(AQI_CATEGORIES[-1], field))).cast(pl.String)


def o3_aqi_expr(o3_8h: str | pl.Expr | None = None, o3_1h: str | pl.Expr | None = None) -> pl.Expr:
    """Ozone AQI per row, the larger of the 8-h and 1-h sub-indices that exist (``o3_aqi``)."""
    given: tuple[tuple[Pollutant, str | pl.Expr | None], ...] = (("o3_8h", o3_8h), ("o3_1h", o3_1h))
    parts = [aqi_expr(name, col) for name, col in given if col is not None]
    if not parts:
        msg = "give at least one of `o3_8h` and `o3_1h`"
        raise ValueError(msg)
    return pl.max_horizontal(parts)


def so2_aqi_expr(so2_1h: str | pl.Expr | None = None, so2_24h: str | pl.Expr | None = None) -> pl.Expr:
    """SO2 AQI per row from 1-h and 24-h values (``so2_aqi``): 1-h SO2 at or above 305 ppb counts
    as 200 unless the 24-h value gives more."""
    parts: list[pl.Expr] = []
    if so2_1h is not None:
        counted = aqi_expr("so2_1h", so2_1h).fill_null(SO2_1H_CEILING_AQI)
        parts.append(pl.when(truncate_units_expr("so2_1h", so2_1h).is_not_null()).then(counted))
    if so2_24h is not None:
        parts.append(aqi_expr("so2_24h", so2_24h))
    if not parts:
        msg = "give at least one of `so2_1h` and `so2_24h`"
        raise ValueError(msg)
    return pl.max_horizontal(parts)


FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def overall_aqi_frame(
    frame: FrameT,
    columns: Mapping[str, str],
    *,
    output: str = "aqi",
    dominant: str = "aqi_dominant",
    sub_index_prefix: str | None = None,
) -> FrameT:
    """Add the overall AQI and its dominant pollutant group per row, as ``overall_aqi`` computes them.

    ``columns`` maps pollutant names (``pm25``, ``o3_8h``, ``so2_1h``, ...) to concentration
    columns; pollutants not given are treated as missing. With ``sub_index_prefix`` the group
    sub-indices are kept as columns ``<prefix><group>`` (``aqi_pm25``, ``aqi_o3``, ...). Works on a
    ``DataFrame`` or a ``LazyFrame``; sub-indices are computed once, in their own columns.
    """
    for name in columns:
        scale_for(name)
    given = {name: pl.col(col) for name, col in columns.items()}
    single: tuple[Pollutant, ...] = ("pm25", "pm10", "no2", "co")
    groups: dict[str, pl.Expr] = {name: aqi_expr(name, given[name]) for name in single if name in given}
    if "o3_8h" in given or "o3_1h" in given:
        groups["o3"] = o3_aqi_expr(given.get("o3_8h"), given.get("o3_1h"))
    if "so2_1h" in given or "so2_24h" in given:
        groups["so2"] = so2_aqi_expr(given.get("so2_1h"), given.get("so2_24h"))
    if not groups:
        msg = "`columns` names no pollutant"
        raise ValueError(msg)
    prefix = sub_index_prefix if sub_index_prefix is not None else "__aqi_sub_"
    names = {group: f"{prefix}{group}" for group in AQI_GROUPS if group in groups}
    top = pl.max_horizontal([pl.col(column) for column in names.values()])
    leader: Then | ChainedThen = pl.when(pl.col(output).is_null()).then(None)
    for group, column in names.items():
        leader = leader.when(pl.col(column) == pl.col(output)).then(pl.lit(group))
    staged = (
        frame.with_columns(groups[group].alias(column) for group, column in names.items())
        .with_columns(top.alias(output))
        .with_columns(leader.otherwise(None).cast(pl.String).alias(dominant))
    )
    return staged if sub_index_prefix is not None else staged.drop(list(names.values()))
