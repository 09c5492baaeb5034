"""Mart ``bus_headways``: every bus arrival at a station with its actual and scheduled headway.

Grain: one row per ARRIVAL station event of the day (by actual time) of a bus on a route; with
``kind="DEPARTURE"`` one row per departure instead. Headways are measured between consecutive
buses of the same route and direction at the same station (see ``origin_id``); the previous day
is read so that the first buses of the day have a predecessor.

Columns:

- ``date`` (date), ``route_id``, ``origin_id`` (first station of the trip: the direction, which
  station events do not carry), ``station_id``, ``stop_sequence``, ``trip_id``, ``bus_id``.
- ``scheduled_time``, ``actual_time`` (timestamps UTC of the event), ``delay_s`` (actual − scheduled,
  seconds; null without a scheduled time).
- ``prev_bus_id``: the bus that called before this one (actual order).
- ``actual_headway_s``: seconds since the previous bus of the route and direction called at the
  station. ``scheduled_headway_s``: seconds since the previous timetabled call (timetable order).
  Both null for the first bus seen and for service breaks longer than ``max_headway_min``
  (default 120 min) in either.
- ``headway_ratio``: actual / scheduled headway. ``bunched``: under the ``bunching`` definition
  (default TransitMatters, ratio ≤ 0.5; ``btc``, ``tcqsm``, ``swiftly`` (≤ 0.75), ``sfmta`` (under
  2 min, 1 min at headways of 5 min or less) and ``absolute`` also available). ``gapped``: under the
  ``gapping`` definition (default Swiftly, ratio ≥ 1.25; ``sfmta``: above scheduled + 5 min).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._common import UTC_MS, conform, divide, ms_on_day, ms_to_time
from smartcity.analysis.marts._service import MAX_HEADWAY_MIN, TRIP_GAP_H, headways, service_events, station_events
from smartcity.analysis.transit.headways import BunchingDefinition, GappingDefinition

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "route_id": pl.String(),
    "origin_id": pl.String(),
    "station_id": pl.String(),
    "stop_sequence": pl.Int32(),
    "trip_id": pl.String(),
    "bus_id": pl.String(),
    "scheduled_time": UTC_MS,
    "actual_time": UTC_MS,
    "delay_s": pl.Float64(),
    "prev_bus_id": pl.String(),
    "actual_headway_s": pl.Float64(),
    "scheduled_headway_s": pl.Float64(),
    "headway_ratio": pl.Float64(),
    "bunched": pl.Boolean(),
    "gapped": pl.Boolean(),
}


def bus_headways(
    events: pl.LazyFrame,
    day: date,
    *,
    kind: str = "ARRIVAL",
    bunching: BunchingDefinition = "transitmatters",
    gapping: GappingDefinition = "swiftly",
    max_headway_min: float = MAX_HEADWAY_MIN,
    trip_gap_h: float = TRIP_GAP_H,
) -> pl.LazyFrame:
    """Headways of ``day`` from ``station_events`` rows of the day and the day before."""
    service = service_events(station_events(events), trip_gap_h=trip_gap_h)
    rows = headways(service, kind=kind, bunching=bunching, gapping=gapping, max_headway_min=max_headway_min)
    out = rows.filter(ms_on_day(day, "actual_ms")).with_columns(
        pl.lit(day).alias("date"),
        ms_to_time("scheduled_ms").alias("scheduled_time"),
        ms_to_time("actual_ms").alias("actual_time"),
        divide(pl.col("actual_ms") - pl.col("scheduled_ms"), 1000.0).alias("delay_s"),
    )
    return conform(out, SCHEMA).sort("route_id", "origin_id", "station_id", "actual_time", "bus_id")
