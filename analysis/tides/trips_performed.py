"""Mart ``trips_performed``: TIDES v1.0 ``trips_performed``, a trip a vehicle performed.

Grain: one row per (service_date, trip_id_performed). A trip belongs to the UTC day of its last
visit so far, so a trip running over midnight is complete in the day it ends; the day before is
read for its start.

Columns: ``service_date``, ``trip_id_performed``, ``vehicle_id``, ``trip_id_scheduled``,
``route_id``, ``trip_start_stop_id`` and ``trip_end_stop_id`` (first and last stop visited),
``schedule_trip_start`` / ``schedule_trip_end`` (scheduled departure from the first stop and
arrival at the last), ``actual_trip_start`` / ``actual_trip_end``, ``trip_type`` (``In service``),
``schedule_relationship`` (``Scheduled``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._common import UTC_MS, conform, ms_on_day, ms_to_time
from smartcity.analysis.tides.service import INSTANCE, visits

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),  # the lake partition (UTC day), as in every mart; not a TIDES field
    "service_date": pl.Date(),
    "trip_id_performed": pl.String(),
    "vehicle_id": pl.String(),
    "trip_id_scheduled": pl.String(),
    "route_id": pl.String(),
    "trip_start_stop_id": pl.String(),
    "trip_end_stop_id": pl.String(),
    "schedule_trip_start": UTC_MS,
    "schedule_trip_end": UTC_MS,
    "actual_trip_start": UTC_MS,
    "actual_trip_end": UTC_MS,
    "trip_type": pl.String(),
    "schedule_relationship": pl.String(),
}


def trips_performed(events: pl.LazyFrame, day: date, *, timezone: str = "UTC") -> pl.LazyFrame:
    """TIDES performed trips ending on ``day`` from ``station_events`` of the day and the day before."""
    rows = visits(events, timezone=timezone).sort("stop_sequence")
    trips = rows.group_by([*INSTANCE, "service_date"]).agg(
        pl.col("bus_id").first().alias("vehicle_id"),
        pl.col("station_id").first().alias("trip_start_stop_id"),
        pl.col("station_id").last().alias("trip_end_stop_id"),
        pl.col("sched_dep").first().alias("s0"),
        pl.col("sched_arr").last().alias("s1"),
        pl.col("act_dep").first().alias("a0"),
        pl.col("act_arr").last().alias("a1"),
        pl.max_horizontal(pl.col("act_arr").max(), pl.col("act_dep").max()).alias("last_seen"),
    )
    out = trips.filter(ms_on_day(day, pl.col("last_seen"))).with_columns(
        pl.lit(day).alias("date"),
        pl.col("trip_id").alias("trip_id_performed"),
        pl.col("trip_id").alias("trip_id_scheduled"),
        ms_to_time("s0").alias("schedule_trip_start"),
        ms_to_time("s1").alias("schedule_trip_end"),
        ms_to_time("a0").alias("actual_trip_start"),
        ms_to_time("a1").alias("actual_trip_end"),
        pl.lit("In service").alias("trip_type"),
        pl.lit("Scheduled").alias("schedule_relationship"),
    )
    return conform(out, SCHEMA).sort("service_date", "trip_id_performed")
