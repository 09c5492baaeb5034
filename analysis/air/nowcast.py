"""EPA NowCast for particulate matter (PM2.5 and PM10), scalar and vectorised.

Sources: EPA fact sheet "PM NowCast" and slide deck "Computing the NowCast"; EPA-454/B-24-002,
"How the NowCast is calculated"; the validity and missing-hour rules as implemented by AirMonitor
(``.nowcast``) and EPA ORD's sensortoolkit.

With ``c_1`` the most recent hour and ``c_12`` the hour 11 hours earlier::

    w* = 1 - (c_max - c_min) / c_max      over the valid hours of the 12-h window
    w  = max(w*, 0.5)
    NowCast = Σ w^(k) c_(k+1) / Σ w^(k)    over valid hours, k = hours ago (0 for the newest)

- At least 2 of the 3 most recent hours must be valid, otherwise there is no NowCast.
- A missing hour drops out of both sums; the other hours keep their exponent (hours ago).
- An hour is valid when it is a finite, non-negative number. ``None``, NaN and negative values
  count as missing.
- When ``c_max`` is 0 (every valid hour is 0) the NowCast is 0.

The result is not truncated; ``nowcast_aqi`` truncates it (0.1 µg/m³ PM2.5, 1 µg/m³ PM10) before
the AQI lookup. The scalar and the Polars versions use the same floating-point operations in the
same order, so they return identical floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
from typing import Literal, TypeVar

import polars as pl

from smartcity.analysis.air.aqi import aqi

WINDOW_HOURS = 12
MIN_WEIGHT = 0.5
RECENT_HOURS = 3
MIN_RECENT_VALID = 2


def _valid(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def nowcast(hourly: Sequence[float | None], *, min_weight: float = MIN_WEIGHT) -> float | None:
    """EPA PM NowCast (µg/m³) over up to 12 hourly means, **most recent first**.

    Parameters
    ----------
    hourly
        Hourly mean concentrations, ``hourly[0]`` the latest hour; ``None`` or NaN for a missing
        hour. A sequence shorter than 12 treats the hours it does not reach as missing.
    min_weight
        The floor of the weight factor: 0.5 for PM (EPA). It must lie in (0, 1].

    Returns
    -------
    The NowCast, or ``None`` when fewer than 2 of the 3 most recent hours are valid.
    """
    if len(hourly) > WINDOW_HOURS:
        msg = f"`hourly` holds at most {WINDOW_HOURS} values, got {len(hourly)}"
        raise ValueError(msg)
    if not 0 < min_weight <= 1:
        msg = f"`min_weight` must lie in (0, 1], got {min_weight}"
        raise ValueError(msg)
    values = [_valid(v) for v in hourly] + [None] * (WINDOW_HOURS - len(hourly))
    if sum(v is not None for v in values[:RECENT_HOURS]) < MIN_RECENT_VALID:
        return None
    present = [v for v in values if v is not None]
    c_max, c_min = max(present), min(present)
    if c_max == 0:
        return 0.0
    weight = max(1.0 - (c_max - c_min) / c_max, min_weight)
    numerator = 0.0
    denominator = 0.0
    power = 1.0
    for value in values:
        if value is not None:
            numerator = numerator + power * value
            denominator = denominator + power
        power = power * weight
    return numerator / denominator


def nowcast_aqi(hourly: Sequence[float | None], pollutant: Literal["pm25", "pm10"] = "pm25") -> int | None:
    """AQI of the NowCast: the NowCast truncated (0.1 µg/m³ PM2.5, 1 µg/m³ PM10) and looked up
    in the 24-h PM table, as AirNow reports hourly PM AQI."""
    if pollutant not in ("pm25", "pm10"):
        msg = f"the PM NowCast applies to `pm25` or `pm10`, got {pollutant!r}"
        raise ValueError(msg)
    return aqi(pollutant, nowcast(hourly))


FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
_TMP = "__nowcast_"


def _chain_sum(terms: list[pl.Expr]) -> pl.Expr:
    return reduce(lambda total, term: total + term, terms, pl.lit(0.0))


def nowcast_grid(
    frame: FrameT,
    *,
    value: str = "pm25",
    over: str | Sequence[str] | None = None,
    output: str = "nowcast",
    min_weight: float = MIN_WEIGHT,
) -> FrameT:
    """Add a NowCast column to a frame that is already a **gap-free hourly grid**: one row per hour,
    sorted by time, grouped by ``over`` in contiguous blocks. Missing hours are rows whose ``value``
    is null, NaN or negative. ``nowcast_frame`` builds such a grid from readings with absent hours.

    Works on a ``DataFrame`` or a ``LazyFrame`` and returns the same kind. The work is staged in
    temporary columns (lagged hours, then the weight, then its powers) so that the plan stays small.
    """
    if not 0 < min_weight <= 1:
        msg = f"`min_weight` must lie in (0, 1], got {min_weight}"
        raise ValueError(msg)
    keys = [] if over is None else [over] if isinstance(over, str) else list(over)
    column = pl.col(value).cast(pl.Float64)
    cleaned = pl.when(column.is_finite() & (column >= 0)).then(column)
    position = pl.int_range(pl.len()).over(keys) if keys else pl.int_range(pl.len())
    pos, c_max, c_min, weight, recent = (f"{_TMP}{name}" for name in ("pos", "max", "min", "w", "recent"))
    hours = [f"{_TMP}c{k}" for k in range(WINDOW_HOURS)]
    powers = [f"{_TMP}p{k}" for k in range(WINDOW_HOURS)]

    lagged = [pl.when(pl.col(pos) >= k).then(cleaned.shift(k)).alias(hours[k]) for k in range(WINDOW_HOURS)]
    is_valid = [pl.col(h).is_not_null() for h in hours]
    spread = pl.max_horizontal(1.0 - (pl.col(c_max) - pl.col(c_min)) / pl.col(c_max), pl.lit(min_weight))
    power_terms = [
        reduce(lambda acc, _: acc * pl.col(weight), range(k), pl.lit(1.0)).alias(powers[k])
        for k in range(WINDOW_HOURS)
    ]
    terms = list(zip(is_valid, hours, powers, strict=True))
    numerator = _chain_sum([pl.when(ok).then(pl.col(p) * pl.col(h)).otherwise(0.0) for ok, h, p in terms])
    denominator = _chain_sum([pl.when(ok).then(pl.col(p)).otherwise(0.0) for ok, _, p in terms])
    result = (
        pl.when(pl.col(recent) < MIN_RECENT_VALID)
        .then(None)
        .when(pl.col(c_max) == 0)
        .then(0.0)
        .otherwise(numerator / denominator)
        .cast(pl.Float64)
    )
    return (
        frame.with_columns(position.alias(pos))
        .with_columns(lagged)
        .with_columns(
            pl.max_horizontal(hours).alias(c_max),
            pl.min_horizontal(hours).alias(c_min),
            pl.sum_horizontal(ok.cast(pl.Int32) for ok in is_valid[:RECENT_HOURS]).alias(recent),
        )
        .with_columns(spread.alias(weight))
        .with_columns(power_terms)
        .with_columns(result.alias(output))
        .select(pl.exclude(f"^{_TMP}.*$"))
    )


def nowcast_frame(
    frame: pl.DataFrame,
    *,
    sensor: str | Sequence[str] = "sensor_id",
    time: str = "hour",
    value: str = "pm25",
    output: str = "nowcast",
    min_weight: float = MIN_WEIGHT,
) -> pl.DataFrame:
    """Add a NowCast column to hourly readings of many sensors; agrees exactly with ``nowcast``.

    ``frame`` holds at most one row per sensor and hour (``time`` a datetime at the top of the
    hour), usually sorted by sensor and hour, though any order works. Hours may be absent or carry
    a null value; both count as missing. Rows come back in their input order with ``output`` added.
    """
    keys = [sensor] if isinstance(sensor, str) else list(sensor)
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(output))
    checks = frame.select(
        duplicated=pl.struct([*keys, time]).is_duplicated().any(),
        unaligned=(pl.col(time) != pl.col(time).dt.truncate("1h")).any(),
    ).row(0, named=True)
    if checks["duplicated"]:
        msg = f"`frame` has more than one row for some ({', '.join(keys)}, {time})"
        raise ValueError(msg)
    if checks["unaligned"]:
        msg = f"`{time}` must hold whole hours"
        raise ValueError(msg)
    row = "__row_before_nowcast"
    grid = (
        frame.select([*keys, time, value])
        .with_row_index(row)
        .sort([*keys, time])
        .upsample(time, every="1h", group_by=keys, maintain_order=True)
    )
    computed = nowcast_grid(grid, value=value, over=keys, output=output, min_weight=min_weight)
    ordered = computed.filter(pl.col(row).is_not_null()).sort(row)
    return frame.with_columns(ordered.get_column(output))
