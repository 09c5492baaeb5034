"""Mart ``air_trends``: long-term trend of every pollutant at every sensor, as of a date.

Grain: one row per sensor and pollutant with at least one monthly mean, as of ``date``: the
series holds the calendar months (UTC) that ended on or before ``date`` (a month still running is
left out, so the mart changes once a month).

Columns:

- ``date`` (date): the as-of date. ``sensor_id``, ``pollutant`` (``pm25``, ``pm10``, ``no2``,
  ``o3``, ``so2``, ``co``), ``unit`` (µg/m³, ppb or ppm as measured).
- ``n_months``: monthly means in the series; ``first_month``, ``last_month`` (dates, first day of
  the month); ``mean``: mean of the monthly means (the pollutant's unit).
- ``deseasonalised``: true when the series spans more than 24 months (first to last); the slope,
  its interval and the test then use the deseasonalised series, as openair's
  ``TheilSen(deseason = TRUE)``: missing months imputed by a per-calendar-month line (counted in
  ``n_imputed``), then an STL decomposition (``s.window = 11``, ``s.degree = 1``, robust) whose
  trend + remainder is the series (``smartcity.analysis.air.theilsen``).
- ``sen_slope_per_year``: Theil–Sen slope in units per year: the median pairwise slope with time
  in days since 1970-01-01 (each month at its first day), × 365, as openair's ``TheilSen``.
  ``sen_slope_lower_per_year``, ``sen_slope_upper_per_year``: its 95 % confidence interval from 599
  moving-block bootstrap resamples (blocks of ``round(n^(1/3))`` months, since monthly means are
  autocorrelated; openair's ``autocor = TRUE``), and ``sen_p_bootstrap`` openair's p-value from
  the same resamples. ``sen_slope_pct_per_year``: openair's ``slope.percent``, the change per year
  as a percentage of the fitted line's value at the first month.
- ``mk_s``, ``mk_z``, ``mk_p``, ``mk_tau``: Mann–Kendall statistic, z-score, two-sided p-value and
  Kendall's τ of the (deseasonalised) monthly series in time order (``smartcity.analysis.air.mann_kendall``).
- ``trend``: ``increasing`` or ``decreasing`` when ``mk_p`` < 0.05, else ``no trend``.

Slopes and the test need ``min_months`` (default 6) monthly means, as openair requires; with
fewer they are null. A monthly mean is the exact mean of every valid reading of the month (the month
of the hour the reading counts towards, as in ``air_quality_hourly``). The builder reads the stored
``air_monthly`` mart, not the raw history (``smartcity.analysis.marts.air_monthly``), so its cost
grows with the number of months, not of readings.
``months`` limits the series to the most recent months; by default all history is used.
``autocor = False`` resamples single months (openair's default), ``method = "openair-2.17"`` uses
openair's settings before 2.18 (STL ``s.window = 35``, ``s.degree = 0``, gaps interpolated), which
reproduce the trends published with those versions.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from smartcity.analysis.air.theilsen import Method, theil_sen
from smartcity.analysis.marts._air import UNITS
from smartcity.analysis.marts._common import DAY, conform_frame
from smartcity.analysis.marts.air_monthly import air_daily_sums, month_totals

MIN_MONTHS = 6
ALPHA = 0.05

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "sensor_id": pl.String(),
    "pollutant": pl.String(),
    "unit": pl.String(),
    "n_months": pl.UInt32(),
    "n_imputed": pl.UInt32(),
    "first_month": pl.Date(),
    "last_month": pl.Date(),
    "mean": pl.Float64(),
    "deseasonalised": pl.Boolean(),
    "sen_slope_per_year": pl.Float64(),
    "sen_slope_lower_per_year": pl.Float64(),
    "sen_slope_upper_per_year": pl.Float64(),
    "sen_p_bootstrap": pl.Float64(),
    "sen_slope_pct_per_year": pl.Float64(),
    "mk_s": pl.Int64(),
    "mk_z": pl.Float64(),
    "mk_p": pl.Float64(),
    "mk_tau": pl.Float64(),
    "trend": pl.String(),
}


def _series(monthly: pl.LazyFrame, day: date, months: int | None) -> pl.LazyFrame:
    """``monthly`` (``air_monthly`` rows: ``date`` = month, ``sensor_id``, ``pollutant``, ``value``)
    limited to the months ended by ``day`` and, with ``months``, to the most recent ones."""
    end = day + DAY
    month = pl.col("date")
    rows = monthly.filter((month.dt.offset_by("1mo") <= pl.lit(end)) & pl.col("value").is_not_null())
    if months is not None:
        if months < 1:
            msg = f"`months` must be at least 1, got {months}"
            raise ValueError(msg)
        running = end.replace(day=1)
        index = running.year * 12 + running.month - 1 - months
        rows = rows.filter(month >= pl.lit(running.replace(year=index // 12, month=index % 12 + 1)))
    return rows.select("sensor_id", month.alias("month"), "pollutant", "value")


def monthly_means(readings_frame: pl.LazyFrame, day: date, months: int | None = None) -> pl.LazyFrame:
    """Exact monthly means per sensor and pollutant (long format) of the months ended by ``day``,
    straight from raw readings: what the stored ``air_daily_sums`` and ``air_monthly`` marts give.

    Integer sums only, so this runs on the streaming engine over years of readings.
    """
    return _series(month_totals(air_daily_sums(readings_frame, day)), day, months)


def _trend_row(months: list[date], values: np.ndarray, min_months: int, autocor: bool,
               method: Method) -> dict[str, object]:
    n = len(values)
    row: dict[str, object] = {"n_months": n, "first_month": months[0], "last_month": months[-1],
                              "mean": float(values.mean()), "n_imputed": 0, "deseasonalised": False}
    fit = theil_sen(months, values.tolist(), autocor=autocor, method=method) if n >= min_months else None
    if fit is None:
        return row
    test = fit.mann_kendall
    return row | {
        "n_imputed": fit.n_imputed,
        "deseasonalised": fit.deseasonalised,
        "sen_slope_per_year": fit.slope_per_year,
        "sen_slope_lower_per_year": fit.lower_per_year,
        "sen_slope_upper_per_year": fit.upper_per_year,
        "sen_p_bootstrap": fit.p_bootstrap,
        "sen_slope_pct_per_year": fit.percent_per_year(months[0], months[-1]),
        "mk_s": test.s,
        "mk_z": test.z,
        "mk_p": test.p,
        "mk_tau": test.tau,
        "trend": test.trend(ALPHA),
    }


def air_trends(
    monthly: pl.LazyFrame,
    day: date,
    *,
    min_months: int = MIN_MONTHS,
    months: int | None = None,
    autocor: bool = True,
    method: Method = "openair",
) -> pl.DataFrame:
    """openair's Theil–Sen trend and the Mann–Kendall test per sensor and pollutant on the monthly
    means of ``monthly`` (the ``air_monthly`` mart), as of ``day``."""
    if min_months < 2:
        msg = f"`min_months` must be at least 2, got {min_months}"
        raise ValueError(msg)
    series = _series(monthly, day, months).collect().sort("sensor_id", "pollutant", "month")
    rows = []
    for (sensor, pollutant), group in series.group_by("sensor_id", "pollutant", maintain_order=True):
        months_list = group["month"].to_list()
        values = group["value"].to_numpy()
        rows.append({"date": day, "sensor_id": sensor, "pollutant": pollutant, "unit": UNITS[str(pollutant)],
                     **_trend_row(months_list, values, min_months, autocor, method)})
    frame = pl.DataFrame(rows, schema=SCHEMA) if rows else pl.DataFrame(schema=SCHEMA)
    return conform_frame(frame, SCHEMA)
