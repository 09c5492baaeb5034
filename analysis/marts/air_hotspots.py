"""Mart ``air_hotspots``: where PM2.5 and NO2 cluster high or low on a day (Getis–Ord Gi*).

Grain: one row per sensor with a reading on the day.

Columns:

- ``date`` (date), ``sensor_id``, ``latitude``/``longitude`` (WGS-84 degrees, the day's last
  reading), ``distance_m`` (the distance band used), ``neighbours`` (other sensors within it).
- ``pm25_hours``, ``no2_hours``: hours of the day with a value (hourly means as in
  ``air_quality_hourly``).
- ``pm25_mean_ugm3`` (µg/m³), ``no2_mean_ppb`` (ppb): the daily mean, the exact mean of the hourly
  means, valid with at least ``min_hours`` hours (default 18 of 24, EPA's 75 % rule).
- ``pm25_gi_z``, ``no2_gi_z``: Getis–Ord Gi* z-score of the sensor's daily mean among the sensors
  with a valid mean that day, with binary weights: 1 for every sensor within ``distance_m`` metres
  (great-circle, haversine), the sensor itself included (``smartcity.analysis.air.gi_star``).
- ``pm25_gi_p``, ``no2_gi_p``: two-sided p-value (normal approximation).
- ``pm25_hotspot``, ``no2_hotspot``: class −3 … +3 (ESRI ``Gi_Bin``: ±3, ±2, ±1 for hot/cold spots at
  99, 95 and 90 % confidence; 0 not significant). ``pm25_hotspot_label``, ``no2_hotspot_label``:
  the same in words, e.g. ``hot spot (95%)``.

Gi* needs at least three sensors with a valid mean; otherwise, and where the statistic is
undefined (every value equal, or every sensor within the band), z and p are null and the class 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypedDict

import numpy as np
import polars as pl

from smartcity.analysis.air.daily import MIN_DAILY_HOURS, exact_mean
from smartcity.analysis.air.hotspots import HOTSPOT_LABELS, distance_band_weights, gi_star
from smartcity.analysis.marts._air import hourly_means, readings
from smartcity.analysis.marts._common import conform_frame, on_day

DISTANCE_M = 1000.0
POLLUTANTS = {"pm25": ("pm25_ugm3", "pm25_mean_ugm3"), "no2": ("no2_ppb", "no2_mean_ppb")}

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "sensor_id": pl.String(),
    "latitude": pl.Float64(),
    "longitude": pl.Float64(),
    "distance_m": pl.Float64(),
    "neighbours": pl.UInt32(),
    "pm25_hours": pl.UInt32(),
    "pm25_mean_ugm3": pl.Float64(),
    "pm25_gi_z": pl.Float64(),
    "pm25_gi_p": pl.Float64(),
    "pm25_hotspot": pl.Int8(),
    "pm25_hotspot_label": pl.String(),
    "no2_hours": pl.UInt32(),
    "no2_mean_ppb": pl.Float64(),
    "no2_gi_z": pl.Float64(),
    "no2_gi_p": pl.Float64(),
    "no2_hotspot": pl.Int8(),
    "no2_hotspot_label": pl.String(),
}


class _LocalGColumns(TypedDict):
    z: list[float | None]
    p: list[float | None]
    bin: list[int]
    label: list[str]


def _local_g(means: list[float | None], coords: np.ndarray, distance_m: float) -> _LocalGColumns:
    n = len(means)
    z: list[float | None] = [None] * n
    p: list[float | None] = [None] * n
    bins = [0] * n
    present = [i for i, value in enumerate(means) if value is not None]
    if len(present) >= 3:
        values = [value for value in means if value is not None]  # the means of ``present``, in order
        result = gi_star(values, coords[present], distance_m, metric="haversine")
        for j, i in enumerate(present):
            if np.isfinite(result.z[j]):
                z[i], p[i] = float(result.z[j]), float(result.p[j])
            bins[i] = int(result.bins[j])
    return {"z": z, "p": p, "bin": bins, "label": [HOTSPOT_LABELS[b] for b in bins]}


def air_hotspots(
    readings_frame: pl.LazyFrame, day: date, *, distance_m: float = DISTANCE_M, min_hours: int = MIN_DAILY_HOURS
) -> pl.DataFrame:
    """Daily PM2.5 and NO2 means per sensor of ``day`` with their Gi* hot/cold spot class."""
    if distance_m <= 0:
        msg = f"`distance_m` must be positive, got {distance_m}"
        raise ValueError(msg)
    hourly = hourly_means(readings(readings_frame).filter(on_day(day, "hour"))).collect(engine="streaming")
    per_sensor = (
        hourly.sort("sensor_id", "hour")
        .group_by("sensor_id", maintain_order=True)
        .agg(
            pl.col("latitude").last(),
            pl.col("longitude").last(),
            *[pl.col(column).drop_nulls().alias(name) for name, (column, _) in POLLUTANTS.items()],
        )
    )
    coords = per_sensor.select("longitude", "latitude").to_numpy().reshape(-1, 2)
    neighbours = distance_band_weights(coords, distance_m, "haversine").sum(axis=1) - 1 if len(coords) else []
    columns: dict[str, Iterable[object]] = {
        "date": [day] * per_sensor.height,
        "sensor_id": per_sensor["sensor_id"],
        "latitude": per_sensor["latitude"],
        "longitude": per_sensor["longitude"],
        "distance_m": [float(distance_m)] * per_sensor.height,
        "neighbours": [int(v) for v in neighbours],
    }
    for name, (_, mean_column) in POLLUTANTS.items():
        values = per_sensor[name].to_list()
        means = [exact_mean(hours, min_valid=min_hours) for hours in values]
        stats = _local_g(means, coords, distance_m)
        columns |= {
            f"{name}_hours": [len(hours) for hours in values],
            mean_column: means,
            f"{name}_gi_z": stats["z"],
            f"{name}_gi_p": stats["p"],
            f"{name}_hotspot": stats["bin"],
            f"{name}_hotspot_label": stats["label"],
        }
    frame = pl.DataFrame({name: pl.Series(name, columns[name], dtype=dtype) for name, dtype in SCHEMA.items()})
    return conform_frame(frame, SCHEMA)
