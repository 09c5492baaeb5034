"""Performed trips in station events: trip instances, their service date and their stop visits."""

from __future__ import annotations

import polars as pl

from smartcity.analysis.marts._common import ms_to_time
from smartcity.analysis.marts._service import service_events, station_events

SERVICE_DAY_START_H = 3  # a service day runs from 03:00 local time to 03:00 the next day (GTFS practice)
INSTANCE = ("route_id", "trip_id", "instance")


def visits(events: pl.LazyFrame, *, timezone: str = "UTC") -> pl.LazyFrame:
    """One row per stop visit: the ARRIVAL and DEPARTURE of a trip instance at a stop sequence, paired,
    with the instance's ``service_date`` (the local date, in ``timezone``, of its first scheduled time
    minus ``SERVICE_DAY_START_H`` hours; the first actual time when the events have no schedule)."""
    rows = service_events(station_events(events))
    first = pl.coalesce(pl.col("scheduled_ms"), pl.col("actual_ms")).min().over(INSTANCE)
    local = ms_to_time(first - SERVICE_DAY_START_H * 3_600_000).dt.convert_time_zone(timezone)
    rows = rows.with_columns(local.dt.date().alias("service_date"))
    keys = [*INSTANCE, "service_date", "stop_sequence", "station_id", "bus_id"]
    arrive = rows.filter(pl.col("kind") == "ARRIVAL").select(
        *keys, pl.col("scheduled_ms").alias("sched_arr"), pl.col("actual_ms").alias("act_arr"), "alighted")
    depart = rows.filter(pl.col("kind") == "DEPARTURE").select(
        *keys, pl.col("scheduled_ms").alias("sched_dep"), pl.col("actual_ms").alias("act_dep"), "boarded")
    return arrive.join(depart, on=keys, how="full", coalesce=True, nulls_equal=True)

