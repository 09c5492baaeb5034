"""Bus service from station events: trips, their direction, and headways at stations.

Station events carry no direction, and a route's two directions may call at the same station
(even at the same stop sequence, in the middle of a symmetric route). Headways must not mix them,
so each trip gets an ``origin_id``, the station of its lowest stop sequence, which stands in for
the direction: buses of one route starting from the same station run the same way.

A ``trip_id`` may repeat from one service day to the next (GTFS trip ids name a timetable slot,
not a date), so the events of a route and trip id are split into *trip instances* wherever two
consecutive events lie more than ``trip_gap`` apart.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._common import dedupe, divide, ms_on_day, ms_to_time
from smartcity.analysis.transit.expr import bunched_expr, gapped_expr, headway_ratio_expr
from smartcity.analysis.transit.headways import BunchingDefinition, GappingDefinition

SERVICE_KINDS = ("ARRIVAL", "DEPARTURE")
EVENT_KEYS = ("station_id", "kind", "bus_id", "trip_id", "event_time_ms")
TRIP_GAP_H = 3.0
MAX_HEADWAY_MIN = 120.0
TRIP_KEYS = ("route_id", "trip_id", "instance")
HEADWAY_KEYS = ("route_id", "origin_id", "station_id")


def station_events(events: pl.LazyFrame) -> pl.LazyFrame:
    """Every station event once: a message landed twice counts once."""
    columns = [*EVENT_KEYS, "route_id", "scheduled_time_ms", "actual_time_ms", "waiting_passengers", "boarded",
               "alighted", "dwell_s", "stop_sequence", "event_time", "_partition", "_offset"]
    return dedupe(events.select(columns), EVENT_KEYS)


def service_events(events: pl.LazyFrame, *, trip_gap_h: float = TRIP_GAP_H) -> pl.LazyFrame:
    """ARRIVAL and DEPARTURE events of buses on a route, with ``actual_ms`` and ``scheduled_ms``
    (null when the message has none), the trip ``instance`` and the trip's ``origin_id``.

    ``events`` are deduplicated station events (``station_events``).
    """
    gap_ms = int(trip_gap_h * 3_600_000)
    rows = events.filter(
        pl.col("kind").is_in(SERVICE_KINDS) & (pl.col("route_id") != "") & (pl.col("actual_time_ms") > 0)
    ).with_columns(
        pl.col("actual_time_ms").alias("actual_ms"),
        pl.when(pl.col("scheduled_time_ms") > 0).then(pl.col("scheduled_time_ms")).alias("scheduled_ms"),
    )
    order = ["actual_ms", "kind", "station_id", "bus_id"]
    trip = ["route_id", "trip_id"]
    gap = (pl.col("actual_ms").diff().over(trip, order_by=order) > gap_ms).fill_null(False)
    return (
        rows.sort([*trip, *order])
        .with_columns(gap.cast(pl.Int32).cum_sum().over(trip, order_by=order).alias("instance"))
        .with_columns(
            pl.col("station_id")
            .sort_by(["stop_sequence", "actual_ms", "kind"])
            .first()
            .over(TRIP_KEYS)
            .alias("origin_id")
        )
    )


def headways(
    service: pl.LazyFrame,
    *,
    kind: str = "ARRIVAL",
    bunching: BunchingDefinition = "transitmatters",
    gapping: GappingDefinition = "swiftly",
    max_headway_min: float = MAX_HEADWAY_MIN,
) -> pl.LazyFrame:
    """One row per ``kind`` event (ARRIVAL or DEPARTURE) with its actual and scheduled headway.

    - Actual headway: this event's actual time minus the previous bus's, the buses of a route and
      origin at a station taken in actual-time order.
    - Scheduled headway: this event's scheduled time minus the previous scheduled time, in
      timetable order (buses that overtook each other still get their timetabled interval).
    - Both are null for the first bus seen, and for service breaks: an interval longer than
      ``max_headway_min`` (120 min, as TransitMatters drops) in either. ``prev_bus_id`` too.
    - ``headway_ratio`` = actual / scheduled; ``bunched`` under ``bunching`` (TransitMatters:
      ratio ≤ 0.5 by default; ``smartcity.analysis.transit.is_bunched``); ``gapped`` under ``gapping``
      (Swiftly: ratio ≥ 1.25 by default; ``smartcity.analysis.transit.is_gapped``).
    """
    if kind not in SERVICE_KINDS:
        msg = f"`kind` must be one of {', '.join(SERVICE_KINDS)}, got {kind!r}"
        raise ValueError(msg)
    keys = list(HEADWAY_KEYS)
    by_actual = ["actual_ms", "bus_id", "trip_id"]
    by_schedule = ["scheduled_ms", "actual_ms", "bus_id", "trip_id"]
    limit = max_headway_min * 60_000
    rows = service.filter(pl.col("kind") == kind).with_columns(
        (pl.col("actual_ms") - pl.col("actual_ms").shift(1).over(keys, order_by=by_actual)).alias("__actual"),
        pl.col("bus_id").shift(1).over(keys, order_by=by_actual).alias("__prev_bus"),
        (pl.col("scheduled_ms") - pl.col("scheduled_ms").shift(1).over(keys, order_by=by_schedule, nulls_last=True))
        .alias("__scheduled"),
    )
    service_break = ((pl.col("__actual") > limit) | (pl.col("__scheduled") > limit)).fill_null(False)
    return rows.with_columns(
        pl.when(~service_break).then(divide("__actual", 1000.0)).alias("actual_headway_s"),
        pl.when(~service_break).then(divide("__scheduled", 1000.0)).alias("scheduled_headway_s"),
        pl.when(~service_break).then(pl.col("__prev_bus")).alias("prev_bus_id"),
    ).with_columns(
        headway_ratio_expr("actual_headway_s", "scheduled_headway_s").alias("headway_ratio"),
        bunched_expr("actual_headway_s", "scheduled_headway_s", bunching).alias("bunched"),
        gapped_expr("actual_headway_s", "scheduled_headway_s", gapping).alias("gapped"),
    ).drop("__actual", "__scheduled", "__prev_bus")


def trips(service: pl.LazyFrame) -> pl.LazyFrame:
    """One row per trip instance: first departure, last arrival (actual and scheduled, ms) and the
    run time between them; only trips with both and a positive run time."""
    departure = pl.col("kind") == "DEPARTURE"
    arrival = pl.col("kind") == "ARRIVAL"
    return (
        service.group_by(TRIP_KEYS)
        .agg(
            pl.col("actual_ms").filter(departure).min().alias("first_departure_ms"),
            pl.col("actual_ms").filter(arrival).max().alias("last_arrival_ms"),
            pl.col("scheduled_ms").filter(departure).min().alias("scheduled_departure_ms"),
            pl.col("scheduled_ms").filter(arrival).max().alias("scheduled_arrival_ms"),
        )
        .with_columns(
            (pl.col("last_arrival_ms") - pl.col("first_departure_ms")).alias("run_time_ms"),
            (pl.col("scheduled_arrival_ms") - pl.col("scheduled_departure_ms")).alias("scheduled_run_time_ms"),
        )
        .filter(pl.col("run_time_ms") > 0)
    )


def departures_on(service: pl.LazyFrame, day: date) -> pl.LazyFrame:
    """DEPARTURE events of ``day`` (by actual time) with ``deviation_min`` = actual − scheduled."""
    return service.filter((pl.col("kind") == "DEPARTURE") & ms_on_day(day, "actual_ms")).with_columns(
        divide(pl.col("actual_ms") - pl.col("scheduled_ms"), 60_000.0).alias("deviation_min"),
        ms_to_time("actual_ms").alias("actual_time"),
    )
