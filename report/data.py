"""Everything the report shows, gathered from the lake's marts and its raw ``alerts`` dataset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from pathlib import Path

import polars as pl

from smartcity.report.lake import load_mart, raw_dates
from smartcity.storage.marts import mart_dates
from smartcity.storage.scan import read_table

#: Pollutant columns of ``air_quality_hourly``: (label, unit).
POLLUTANTS: dict[str, tuple[str, str]] = {
    "pm25_ugm3": ("PM2.5", "µg/m³"),
    "pm10_ugm3": ("PM10", "µg/m³"),
    "no2_ppb": ("NO2", "ppb"),
    "o3_ppb": ("O3", "ppb"),
    "so2_ppb": ("SO2", "ppb"),
    "co_ppm": ("CO", "ppm"),
}
POLLUTANT_NAMES = {"pm25": "PM2.5", "pm10": "PM10", "no2": "NO2", "o3": "O3", "so2": "SO2", "co": "CO"}
SEVERITY_RANK = {"CRITICAL": 0, "WARNING": 1, "INFO": 2}


@dataclass(frozen=True)
class ReportData:
    """The day's rows of each mart the report reads, the air history and the day's alert episodes."""

    root: Path
    day: Date
    history_months: int
    air_hourly: pl.DataFrame
    hotspots: pl.DataFrame
    trends: pl.DataFrame
    air_daily: pl.DataFrame
    occupancy: pl.DataFrame
    routes: pl.DataFrame
    stations: pl.DataFrame
    alerts: pl.DataFrame
    computed: tuple[str, ...]


def daily_air(hourly: pl.DataFrame) -> pl.DataFrame:
    """Per date: the highest hourly AQI and its sensor, and the mean of every pollutant's hourly means."""
    if hourly.is_empty():
        return pl.DataFrame(schema={"date": pl.Date, "aqi_max": pl.Int64, "sensor_id": pl.String,
                                    **dict.fromkeys(POLLUTANTS, pl.Float64)})
    worst = (hourly.filter(pl.col("aqi").is_not_null()).sort("aqi", "hour", descending=[True, False])
             .group_by("date", maintain_order=True).first().select("date", pl.col("aqi").alias("aqi_max"), "sensor_id"))
    means = hourly.group_by("date").agg(pl.col(c).mean() for c in POLLUTANTS)
    return means.join(worst, on="date", how="left").sort("date")


def history_start(day: Date, months: int) -> Date:
    """The first day of the calendar month ``months - 1`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - (months - 1)
    return Date(index // 12, index % 12 + 1, 1)


def air_history(root: Path, day: Date, months: int, today: pl.DataFrame, computed: list[str]) -> pl.DataFrame:
    """``daily_air`` from the start of the month ``months - 1`` months back to ``day``: stored
    partitions are read, days with raw readings but no partition are computed."""
    stored = set(mart_dates(root, "air_quality_hourly"))
    landed = raw_dates(root, "air_readings")
    frames = [daily_air(today)]
    for k in range(1, (day - history_start(day, months)).days + 1):
        past = day - timedelta(days=k)
        if past in stored or past in landed:
            frames.append(daily_air(load_mart(root, "air_quality_hourly", past, computed)))
    return pl.concat(frames, how="diagonal_relaxed").sort("date")


def alert_episodes(root: Path, day: Date) -> pl.DataFrame:
    """One row per alert with a record on ``day``: first start, last end (null while open), the peak and
    message of its latest record; most severe first, then by start."""
    raw = pl.from_arrow(read_table(root, "alerts", [day]))
    assert isinstance(raw, pl.DataFrame)
    ms = pl.Datetime("ms", "UTC")
    latest = pl.col("event_time_ms").arg_max()
    episodes = (
        raw.group_by("alert_id")
        .agg(
            pl.col("kind", "severity", "state", "subject_type", "subject_id", "route_id", "peak_value",
                   "observed_value", "threshold", "unit", "message").get(latest),
            pl.col("severity").replace_strict(SEVERITY_RANK, default=3, return_dtype=pl.Int8).min().alias("rank"),
            pl.col("start_time_ms").filter(pl.col("start_time_ms") > 0).min().alias("start"),
            pl.col("end_time_ms").filter(pl.col("end_time_ms") > 0).max().alias("end"),
        )
        .with_columns(pl.col("start", "end").cast(ms))
        .sort("rank", "start", "alert_id", nulls_last=True)
    )
    return episodes


def gather(root: Path, day: Date, history_months: int = 3) -> ReportData:
    """Read (or compute) every mart the report needs for ``day``; the air history covers the day's
    calendar month and the ``history_months - 1`` before it."""
    if history_months < 1:
        msg = f"`history_months` must be at least 1, got {history_months}"
        raise ValueError(msg)
    computed: list[str] = []
    hourly = load_mart(root, "air_quality_hourly", day, computed)
    stations = load_mart(root, "station_service", day, computed)
    return ReportData(
        root=root,
        day=day,
        history_months=history_months,
        air_hourly=hourly,
        hotspots=load_mart(root, "air_hotspots", day, computed),
        trends=load_mart(root, "air_trends", day, computed),
        air_daily=air_history(root, day, history_months, hourly, computed),
        occupancy=load_mart(root, "bus_occupancy", day, computed),
        routes=load_mart(root, "route_performance", day, computed).sort("route_id"),
        stations=stations.filter(pl.col("period") == "day"),
        alerts=alert_episodes(root, day),
        computed=tuple(dict.fromkeys(computed)),
    )
