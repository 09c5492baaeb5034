"""Mart ``air_trends``: long-term trend of every pollutant at every sensor, as of a date.

Grain: one row per sensor and pollutant with at least one monthly mean, as of ``date``: the
series holds the calendar months (UTC) that ended on or before ``date`` (a month still running is
left out, so the mart changes once a month).

Columns:

- ``date`` (date): the as-of date. ``sensor_id``, ``pollutant`` (``pm25``, ``pm10``, ``no2``,
  ``o3``, ``so2``, ``co``), ``unit`` (µg/m³, ppb or ppm as measured).
- ``n_months``: monthly means in the series; ``first_month``, ``last_month`` (dates, first day of
  the month); ``mean``: mean of the monthly means (the pollutant's unit).
- ``deseasonalised``: true when the series has more than 24 monthly means; the slope and the test
  then use the deseasonalised series, the monthly means minus their seasonal component from a
  classical additive decomposition (centred 2×12 moving-average trend, mean seasonal index per
  calendar month). openair uses an STL decomposition; both keep a linear trend and remove a
  pattern that repeats every year.
- ``sen_slope_per_year``: Theil–Sen slope in units per year: the median pairwise slope with time
  in days since 1970-01-01 (each month at its first day), × 365, as openair's ``TheilSen``.
  ``sen_slope_pct_per_year``: the same as a percentage of ``mean``.
- ``mk_s``, ``mk_z``, ``mk_p``, ``mk_tau``: Mann–Kendall statistic, z-score, two-sided p-value and
  Kendall's τ of the (deseasonalised) monthly series in time order (``smartcity.analysis.air.mann_kendall``).
- ``trend``: ``increasing`` or ``decreasing`` when ``mk_p`` < 0.05, else ``no trend``.

Slopes and the test need ``min_months`` (default 6) monthly means, as openair requires; with
fewer they are null. A monthly mean is the exact mean of every valid reading of the month (the month
of the hour the reading counts towards, as in ``air_quality_hourly``).
``months`` limits the series to the most recent months; by default all history is used.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from smartcity.analysis.air.trends import mann_kendall, sen_slope
from smartcity.analysis.marts._air import UNITS, reading_hour
from smartcity.analysis.marts._common import DAY, UTC_MS, conform_frame, day_start, exact_mean, micro_units
from smartcity.storage.datasets import POLLUTANT_COLUMNS

MIN_MONTHS = 6
DESEASON_AFTER_MONTHS = 24
ALPHA = 0.05

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "sensor_id": pl.String(),
    "pollutant": pl.String(),
    "unit": pl.String(),
    "n_months": pl.UInt32(),
    "first_month": pl.Date(),
    "last_month": pl.Date(),
    "mean": pl.Float64(),
    "deseasonalised": pl.Boolean(),
    "sen_slope_per_year": pl.Float64(),
    "sen_slope_pct_per_year": pl.Float64(),
    "mk_s": pl.Int64(),
    "mk_z": pl.Float64(),
    "mk_p": pl.Float64(),
    "mk_tau": pl.Float64(),
    "trend": pl.String(),
}


def monthly_means(readings_frame: pl.LazyFrame, day: date, months: int | None = None) -> pl.LazyFrame:
    """Exact monthly means per sensor and pollutant (long format) of the months ended by ``day``.

    Integer sums only, so this runs on the streaming engine over years of readings.
    """
    end = day_start(day) + DAY
    hour = reading_hour(readings_frame)  # a reading's month is that of the hour it counts towards
    month = hour.dt.truncate("1mo")
    complete = month.dt.offset_by("1mo") <= pl.lit(end, UTC_MS)
    rows = readings_frame.filter((hour < end) & complete)
    if months is not None:
        if months < 1:
            msg = f"`months` must be at least 1, got {months}"
            raise ValueError(msg)
        running = end.replace(day=1)
        index = running.year * 12 + running.month - 1 - months
        first = running.replace(year=index // 12, month=index % 12 + 1)
        rows = rows.filter(month >= pl.lit(first, UTC_MS))
    sums = []
    for name, column in POLLUTANT_COLUMNS.items():
        sums += [micro_units(column).sum().alias(f"s_{name}"), micro_units(column).count().alias(f"n_{name}")]
    wide = rows.group_by("sensor_id", month.alias("month")).agg(sums)
    long = [
        wide.select(
            "sensor_id",
            pl.col("month").dt.date(),
            pl.lit(name).alias("pollutant"),
            exact_mean(f"s_{name}", f"n_{name}").alias("value"),
        )
        for name in POLLUTANT_COLUMNS
    ]
    return pl.concat(long).filter(pl.col("value").is_not_null())


def deseasonalise(months: list[date], values: np.ndarray) -> npt.NDArray[np.float64]:
    """The series minus its seasonal component, by classical additive decomposition.

    On the regular monthly grid from the first to the last month (missing months empty), the trend
    is the centred 2×12 moving average; the seasonal index of a calendar month is the mean of
    value − trend over that month's points, centred so the twelve indices sum to zero (a calendar
    month without any contributes 0). A linear trend passes unchanged; a pattern repeating every
    12 months is removed.
    """
    index = np.array([m.year * 12 + m.month - 1 for m in months])
    grid = np.full(index[-1] - index[0] + 1, np.nan)
    grid[index - index[0]] = values
    weights = np.r_[0.5, np.ones(11), 0.5] / 12.0
    trend = np.full(grid.size, np.nan)
    for i in range(6, grid.size - 6):
        window = grid[i - 6 : i + 7]
        if np.all(np.isfinite(window)):
            trend[i] = float(window @ weights)
    calendar = (np.arange(grid.size) + index[0]) % 12
    detrended = grid - trend
    seasonal = np.zeros(12)
    for month in range(12):
        points = detrended[(calendar == month) & np.isfinite(detrended)]
        if points.size:
            seasonal[month] = points.mean()
    seasonal -= seasonal.mean()
    seasonal_of_point: npt.NDArray[np.float64] = seasonal[index % 12]
    return values - seasonal_of_point


def _trend_row(months: list[date], values: np.ndarray, min_months: int) -> dict[str, object]:
    n = len(values)
    mean = float(values.mean())
    row: dict[str, object] = {"n_months": n, "first_month": months[0], "last_month": months[-1], "mean": mean,
                              "deseasonalised": n > DESEASON_AFTER_MONTHS}
    if n < min_months:
        return row
    series = deseasonalise(months, values) if n > DESEASON_AFTER_MONTHS else values
    slope = 365.0 * sen_slope(months, series.tolist())
    test = mann_kendall(series.tolist())
    return row | {
        "sen_slope_per_year": slope,
        "sen_slope_pct_per_year": 100.0 * slope / mean if mean != 0 else None,
        "mk_s": test.s,
        "mk_z": test.z,
        "mk_p": test.p,
        "mk_tau": test.tau,
        "trend": test.trend(ALPHA),
    }


def air_trends(
    readings_frame: pl.LazyFrame,
    day: date,
    *,
    min_months: int = MIN_MONTHS,
    months: int | None = None,
) -> pl.DataFrame:
    """Sen slope and Mann–Kendall trend per sensor and pollutant on monthly means, as of ``day``."""
    if min_months < 2:
        msg = f"`min_months` must be at least 2, got {min_months}"
        raise ValueError(msg)
    series = monthly_means(readings_frame, day, months).collect(engine="streaming").sort("sensor_id", "pollutant",
                                                                                           "month")
    rows = []
    for (sensor, pollutant), group in series.group_by("sensor_id", "pollutant", maintain_order=True):
        months_list = group["month"].to_list()
        values = group["value"].to_numpy()
        rows.append({"date": day, "sensor_id": sensor, "pollutant": pollutant, "unit": UNITS[str(pollutant)],
                     **_trend_row(months_list, values, min_months)})
    frame = pl.DataFrame(rows, schema=SCHEMA) if rows else pl.DataFrame(schema=SCHEMA)
    return conform_frame(frame, SCHEMA)
