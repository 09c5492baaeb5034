"""Hourly means of air-quality readings, shared by the air marts."""

from __future__ import annotations

import polars as pl

from smartcity.analysis.marts._common import dedupe, exact_mean, micro_units
from smartcity.storage.datasets import AVERAGING_HOUR, POLLUTANT_COLUMNS

UNITS: dict[str, str] = {"pm25": "µg/m³", "pm10": "µg/m³", "no2": "ppb", "o3": "ppb", "so2": "ppb", "co": "ppm"}
READING_KEYS = ("sensor_id", "event_time_ms")


def reading_hour(frame: pl.LazyFrame) -> pl.Expr:
    """The UTC hour (its start) a reading of ``frame`` counts towards: ``averaging_hour``, which the sink
    sets from ``[ingest] air_time_marks`` (a reading stamped 10:00 at the end of its interval counts
    towards 09:00); the hour of ``event_time`` where that is null (files landed before the column) or
    the frame has no such column."""
    hour = pl.col("event_time").dt.truncate("1h")
    if AVERAGING_HOUR.name in frame.collect_schema().names():
        return pl.coalesce(pl.col(AVERAGING_HOUR.name), hour)
    return hour


def readings(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Air readings with one row per sensor and event time (duplicates landed twice count once), with the
    ``hour`` each counts towards (``reading_hour``)."""
    columns = ["sensor_id", "event_time_ms", "event_time", "latitude", "longitude", *POLLUTANT_COLUMNS.values()]
    rows = frame.select([*columns, reading_hour(frame).alias("hour"), "_partition", "_offset"])
    return dedupe(rows, READING_KEYS)


def hourly_means(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Per sensor and UTC hour: readings, last position, and the exact mean of every pollutant.

    ``frame`` holds deduplicated readings with their ``hour`` (see ``readings``). A pollutant's hourly
    mean uses its valid readings (finite, non-negative); with none it is null. Counts are ``n_<pollutant>``.
    """
    sums = []
    for column in POLLUTANT_COLUMNS.values():
        sums += [
            micro_units(column).sum().alias(f"__sum_{column}"),
            micro_units(column).count().alias(f"__n_{column}"),
        ]
    return (
        frame.group_by("sensor_id", "hour")
        .agg(
            pl.len().alias("n_readings"),
            pl.col("latitude").sort_by("event_time_ms").last(),
            pl.col("longitude").sort_by("event_time_ms").last(),
            *sums,
        )
        .with_columns(
            *[exact_mean(f"__sum_{c}", f"__n_{c}").alias(c) for c in POLLUTANT_COLUMNS.values()],
            *[pl.col(f"__n_{c}").alias(f"n_{name}") for name, c in POLLUTANT_COLUMNS.items()],
        )
        .drop(pl.selectors.starts_with("__"))
    )
