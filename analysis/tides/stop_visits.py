"""Mart ``stop_visits``: TIDES v1.0 ``stop_visits``, a vehicle's visit to a stop on a performed trip.

Grain: one row per (service_date, trip_id_performed, trip_stop_sequence), the table's primary key.
A visit belongs to the UTC day of its arrival (its departure when it has no arrival); the day before
is read so that trips running over midnight keep their instance and service date.

Columns (the specification's names and types): ``service_date`` (local service date of the trip, see
:func:`smartcity.analysis.tides.service.visits`), ``trip_id_performed`` and the scheduled
``trip_id`` it performs are the same id, ``trip_stop_sequence`` and ``scheduled_stop_sequence``
(1 = first stop), ``vehicle_id``, ``stop_id``, ``schedule_arrival_time``,
``schedule_departure_time``, ``actual_arrival_time``, ``actual_departure_time`` (UTC timestamps),
``dwell`` (whole seconds from actual arrival to actual departure), ``boarding_1`` and ``alighting_1``
(passengers through all doors), ``schedule_relationship`` (``Scheduled``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._common import UTC_MS, conform, ms_on_day, ms_to_time
from smartcity.analysis.tides.service import visits

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),  # the lake partition (UTC day), as in every mart; not a TIDES field
    "service_date": pl.Date(),
    "trip_id_performed": pl.String(),
    "trip_stop_sequence": pl.Int64(),
    "scheduled_stop_sequence": pl.Int64(),
    "vehicle_id": pl.String(),
    "stop_id": pl.String(),
    "schedule_arrival_time": UTC_MS,
    "schedule_departure_time": UTC_MS,
    "actual_arrival_time": UTC_MS,
    "actual_departure_time": UTC_MS,
    "dwell": pl.Int64(),
    "boarding_1": pl.Int64(),
    "alighting_1": pl.Int64(),
    "schedule_relationship": pl.String(),
}


def stop_visits(events: pl.LazyFrame, day: date, *, timezone: str = "UTC") -> pl.LazyFrame:
    """TIDES stop visits of ``day`` from ``station_events`` rows of the day and the day before."""
    rows = visits(events, timezone=timezone)
    at = pl.coalesce(pl.col("act_arr"), pl.col("act_dep"))
    out = rows.filter(ms_on_day(day, at)).with_columns(
        pl.lit(day).alias("date"),
        pl.col("trip_id").alias("trip_id_performed"),
        pl.col("stop_sequence").alias("trip_stop_sequence"),
        pl.col("stop_sequence").alias("scheduled_stop_sequence"),
        pl.col("bus_id").alias("vehicle_id"),
        pl.col("station_id").alias("stop_id"),
        ms_to_time("sched_arr").alias("schedule_arrival_time"),
        ms_to_time("sched_dep").alias("schedule_departure_time"),
        ms_to_time("act_arr").alias("actual_arrival_time"),
        ms_to_time("act_dep").alias("actual_departure_time"),
        ((pl.col("act_dep") - pl.col("act_arr")) // 1000).clip(lower_bound=0).alias("dwell"),
        pl.col("boarded").alias("boarding_1"),
        pl.col("alighted").alias("alighting_1"),
        pl.lit("Scheduled").alias("schedule_relationship"),
    )
    return conform(out, SCHEMA).sort("service_date", "trip_id_performed", "trip_stop_sequence")
