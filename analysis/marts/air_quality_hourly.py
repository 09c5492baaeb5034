"""Mart ``air_quality_hourly``: hourly air quality per sensor, with US EPA AQI and the European AQI.

Grain: one row per sensor and UTC hour of the day in which the sensor sent at least one reading.
``hour`` is the start of the hour a reading counts towards, its ``averaging_hour`` in the lake: with the
default ``[ingest] air_time_marks = "start"`` a reading at 10:59:59 belongs to 10:00 and one at 10:00 to
10:00; with ``"end"`` (event times mark the end of the averaging interval) a reading at 10:00 belongs to
09:00. Rows landed before ``averaging_hour`` existed count towards the hour of their event time.

Columns (units as in ``air_readings``: PM in µg/m³, NO2/O3/SO2 in ppb, CO in ppm):

- ``date`` (date), ``hour`` (timestamp UTC), ``sensor_id``, ``latitude``/``longitude`` (WGS-84 degrees,
  the hour's last reading), ``n_readings`` (readings in the hour, after duplicates are dropped).
- ``pm25_ugm3``, ``pm10_ugm3``, ``no2_ppb``, ``o3_ppb``, ``so2_ppb``, ``co_ppm``: hourly means of the
  valid readings (finite, non-negative), computed exactly from micro-unit integers; null when the
  sensor has no value of that pollutant in the hour.
- ``pm25_nowcast_ugm3``, ``pm10_nowcast_ugm3``: EPA PM NowCast over the 12 hours ending with this
  one (``smartcity.analysis.air.nowcast_grid``: weight floor 0.5, 2 of the 3 latest hours required).
- ``o3_8h_ppm``: mean of the hourly O3 means of the 8 hours ending with this one, in ppm (ppb / 1000),
  valid with at least 6 of the 8 hours (EPA's completeness rule for 8-h ozone).
- ``co_8h_ppm``: the same 8-hour rule for CO (ppm).
- ``aqi_pm25``, ``aqi_pm10``: AQI of the NowCast on the 24-h PM tables (how AirNow reports hourly PM).
- ``aqi_o3``: the larger of the 8-h O3 sub-index (``o3_8h_ppm``) and the 1-h sub-index (the hourly
  mean in ppm; the 1-h table only defines AQI 101 and above).
- ``aqi_co``: CO sub-index of ``co_8h_ppm``. ``aqi_no2``: NO2 sub-index of the 1-h mean.
  ``aqi_so2``: SO2 sub-index of the 1-h mean (1-h SO2 at or above 305 ppb reports 200, as the 24-h
  mean that defines higher values is not part of an hourly report).
- ``aqi`` (the largest sub-index), ``aqi_category`` (EPA category name), ``aqi_dominant`` (``pm25``,
  ``pm10``, ``o3``, ``no2``, ``so2`` or ``co``; ties in that order).
- ``eaqi_level`` (1 Good .. 6 Extremely poor) and ``eaqi_name``: the European AQI (2024 bands) of the
  hourly means, the poorest level over PM2.5, PM10, NO2, O3 and SO2. Gases are converted to µg/m³
  at the EU reference conditions (20 °C, 1 atm: 24.04 L/mol): µg/m³ = ppb × M / 24.04 with M the molar
  mass (NO2 46.01, O3 48.00, SO2 64.07 g/mol). Station eligibility is not checked.

The previous day's readings are the history the NowCast (12 h) and the 8-h means need.
Sub-indices follow ``smartcity.analysis.air``: truncation to each pollutant's precision, half-up rounding,
and AQI values above 500 extrapolated.
"""

from __future__ import annotations

from datetime import date
from functools import reduce
from typing import Literal

import polars as pl

from smartcity.analysis.air.eaqi import eaqi_level_expr, eaqi_name_expr
from smartcity.analysis.air.expr import aqi_category_expr, overall_aqi_frame
from smartcity.analysis.air.nowcast import nowcast_grid
from smartcity.analysis.air.units import MOLAR_MASS, MOLAR_VOLUME_20C
from smartcity.analysis.marts._air import hourly_means, reading_hour, readings
from smartcity.analysis.marts._common import DAY, UTC_MS, conform, day_start, divide, on_day

EIGHT_HOURS = 8
MIN_EIGHT_HOUR_VALUES = 6
HISTORY_HOURS = 48

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "hour": UTC_MS,
    "sensor_id": pl.String(),
    "latitude": pl.Float64(),
    "longitude": pl.Float64(),
    "n_readings": pl.UInt32(),
    "pm25_ugm3": pl.Float64(),
    "pm10_ugm3": pl.Float64(),
    "no2_ppb": pl.Float64(),
    "o3_ppb": pl.Float64(),
    "so2_ppb": pl.Float64(),
    "co_ppm": pl.Float64(),
    "pm25_nowcast_ugm3": pl.Float64(),
    "pm10_nowcast_ugm3": pl.Float64(),
    "o3_8h_ppm": pl.Float64(),
    "co_8h_ppm": pl.Float64(),
    "aqi_pm25": pl.Int64(),
    "aqi_pm10": pl.Int64(),
    "aqi_o3": pl.Int64(),
    "aqi_no2": pl.Int64(),
    "aqi_so2": pl.Int64(),
    "aqi_co": pl.Int64(),
    "aqi": pl.Int64(),
    "aqi_category": pl.String(),
    "aqi_dominant": pl.String(),
    "eaqi_level": pl.Int8(),
    "eaqi_name": pl.String(),
}

#: Hourly mean columns converted to µg/m³ for the European AQI, with their gas.
_EAQI_GASES: dict[Literal["no2", "o3", "so2"], str] = {"no2": "no2_ppb", "o3": "o3_ppb", "so2": "so2_ppb"}


def trailing_mean(value: str, hours: int, min_hours: int, over: str = "sensor_id") -> tuple[pl.Expr, pl.Expr]:
    """Sum and count of the valid values of the ``hours`` rows ending with this one, on a gap-free
    hourly grid. The sum adds the newest hour first, starting from 0.0, so it is reproducible."""
    lagged = [pl.col(value).shift(k).over(over, order_by="hour") for k in range(hours)]
    total = reduce(lambda acc, item: acc + item.fill_null(0.0), lagged, pl.lit(0.0))
    count = pl.sum_horizontal([item.is_not_null().cast(pl.Int32) for item in lagged])
    return total, pl.when(count >= min_hours).then(count)


def _grid(hourly: pl.LazyFrame, day: date) -> pl.LazyFrame:
    """Every sensor seen × every hour of the previous day and the day, with that hour's means."""
    start = day_start(day) - DAY
    hours = pl.LazyFrame(
        {"hour": pl.datetime_range(start, start + 2 * DAY, "1h", closed="left", time_unit="ms", eager=True)}
    ).with_columns(pl.col("hour").cast(UTC_MS))
    sensors = hourly.select("sensor_id").unique()
    return (
        sensors.join(hours, how="cross")
        .join(hourly, on=["sensor_id", "hour"], how="left")
        .sort("sensor_id", "hour")
    )


def air_quality_hourly(readings_frame: pl.LazyFrame, day: date) -> pl.LazyFrame:
    """Hourly means, NowCast, EPA AQI and European AQI per sensor and hour of ``day``.

    ``readings_frame`` holds ``air_readings`` rows of ``day`` and, for the 12-h and 8-h windows, the
    day before. Rows outside the two days are ignored.
    """
    start = day_start(day) - DAY
    hour = reading_hour(readings_frame)
    hourly = hourly_means(readings(readings_frame.filter((hour >= start) & (hour < start + 2 * DAY))))
    grid = _grid(hourly, day)
    grid = nowcast_grid(grid, value="pm25_ugm3", over="sensor_id", output="pm25_nowcast_ugm3")
    grid = nowcast_grid(grid, value="pm10_ugm3", over="sensor_id", output="pm10_nowcast_ugm3")
    o3_sum, o3_n = trailing_mean("o3_ppb", EIGHT_HOURS, MIN_EIGHT_HOUR_VALUES)
    co_sum, co_n = trailing_mean("co_ppm", EIGHT_HOURS, MIN_EIGHT_HOUR_VALUES)
    # The 8-h means look back over the whole grid, so the day filter comes after them.
    staged = (
        grid.with_columns(
            o3_sum.alias("__o3_sum"), o3_n.alias("__o3_n"), co_sum.alias("__co_sum"), co_n.alias("__co_n")
        )
        .filter(on_day(day, "hour") & pl.col("n_readings").is_not_null())
        .with_columns(
            divide(pl.col("__o3_sum") / pl.col("__o3_n"), 1000.0).alias("o3_8h_ppm"),
            (pl.col("__co_sum") / pl.col("__co_n")).alias("co_8h_ppm"),
            divide("o3_ppb", 1000.0).alias("__o3_1h_ppm"),
        )
    )
    columns = {
        "pm25": "pm25_nowcast_ugm3",
        "pm10": "pm10_nowcast_ugm3",
        "o3_8h": "o3_8h_ppm",
        "o3_1h": "__o3_1h_ppm",
        "no2": "no2_ppb",
        "so2_1h": "so2_ppb",
        "co": "co_8h_ppm",
    }
    rated = overall_aqi_frame(staged, columns, output="aqi", dominant="aqi_dominant", sub_index_prefix="aqi_")
    levels = [eaqi_level_expr("pm25", "pm25_ugm3"), eaqi_level_expr("pm10", "pm10_ugm3")]
    levels += [
        eaqi_level_expr(gas, divide(pl.col(column) * MOLAR_MASS[gas], MOLAR_VOLUME_20C))
        for gas, column in _EAQI_GASES.items()
    ]
    out = rated.with_columns(
        pl.lit(day).alias("date"),
        aqi_category_expr("aqi").alias("aqi_category"),
        pl.max_horizontal(levels).alias("eaqi_level"),
    ).with_columns(eaqi_name_expr("eaqi_level").alias("eaqi_name"))
    return conform(out, SCHEMA).sort("sensor_id", "hour")
