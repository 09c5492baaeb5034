"""Mart ``bus_occupancy``: how full buses are, per route, hour and stop.

Grain: one row per route, UTC hour and stop of the day. A telemetry reading belongs to the stop in
its ``next_stop_id``: the stop the bus stands at (STOPPED_AT) or is heading to (INCOMING_AT,
IN_TRANSIT_TO), so a row describes the load on the approach to and at that stop. Readings without a
route or a stop (buses out of service) are left out; a reading landed twice counts once.

Columns:

- ``date`` (date), ``hour`` (timestamp UTC, start of the hour), ``route_id``, ``stop_id``.
- ``readings`` (count), ``buses`` (distinct buses).
- ``passengers_mean`` (passengers on board, mean over readings), ``passengers_max`` (count).
- ``load_factor_mean``: Σ passengers / Σ seats over the readings with seats, i.e. the mean load
  factor weighted by seats offered (passengers per seat). ``load_factor_max``: the highest
  passengers / seats of one reading.
- ``load_los``: TCQSM passenger-load LOS (A–F) of ``load_factor_mean``.
- ``crowded_share``: share of readings (with a known capacity) carrying more than ``crowded_at``
  (default 0.8) × total capacity, seated plus standing.
- ``share_empty`` … ``share_not_boardable``: the GTFS-Realtime occupancy status distribution, the
  share of readings in each of the nine states (``EMPTY``, ``MANY_SEATS_AVAILABLE``,
  ``FEW_SEATS_AVAILABLE``, ``STANDING_ROOM_ONLY``, ``CRUSHED_STANDING_ROOM_ONLY``, ``FULL``,
  ``NOT_ACCEPTING_PASSENGERS``, ``NO_DATA_AVAILABLE``, ``NOT_BOARDABLE``).

Every aggregate is an integer count, sum or extreme, so the query runs on the streaming engine and
gives the same numbers in any row order; ratios are taken after aggregation. The day is read in
slices of a few hours (an hour never spans two), so memory follows one slice's rows.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._bus import OCCUPANCY_STATUSES, collect_by_slices, in_service
from smartcity.analysis.marts._common import UTC_MS, conform_frame
from smartcity.analysis.transit.expr import passenger_load_los_expr

CROWDED_AT = 0.8

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "hour": UTC_MS,
    "route_id": pl.String(),
    "stop_id": pl.String(),
    "readings": pl.UInt32(),
    "buses": pl.UInt32(),
    "passengers_mean": pl.Float64(),
    "passengers_max": pl.Int32(),
    "load_factor_mean": pl.Float64(),
    "load_factor_max": pl.Float64(),
    "load_los": pl.String(),
    "crowded_share": pl.Float64(),
    **{f"share_{status.lower()}": pl.Float64() for status in OCCUPANCY_STATUSES},
}


def bus_occupancy(
    telemetry: pl.LazyFrame, day: date, *, crowded_at: float = CROWDED_AT, dedupe: bool = True
) -> pl.DataFrame:
    """Occupancy per route, hour and stop of ``day`` from ``bus_telemetry`` rows."""
    if not crowded_at > 0:
        msg = f"`crowded_at` is a positive share of capacity, got {crowded_at}"
        raise ValueError(msg)
    columns = ["route_id", "next_stop_id", "event_time", "passengers", "capacity", "seated_capacity",
               "occupancy_status"]
    passengers = pl.col("passengers").cast(pl.Int64)
    seated = pl.col("seated_capacity") > 0
    has_capacity = pl.col("capacity") > 0
    counts = [(pl.col("occupancy_status") == status).sum().alias(f"__n_{status}") for status in OCCUPANCY_STATUSES]

    def per_slice(rows: pl.LazyFrame) -> pl.LazyFrame:
        return (
            in_service(rows, columns, dedupe=dedupe)
            .with_columns(
                pl.col("event_time").dt.truncate("1h").alias("hour"),
                pl.when(seated).then(passengers).alias("__p_seated"),
                pl.when(seated).then(pl.col("seated_capacity").cast(pl.Int64)).alias("__seats"),
                pl.when(seated).then(passengers / pl.col("seated_capacity")).alias("__load"),
                pl.when(has_capacity).then(passengers > crowded_at * pl.col("capacity")).alias("__crowded"),
            )
            .group_by("route_id", "hour", pl.col("next_stop_id").alias("stop_id"))
            .agg(
                pl.len().alias("readings"),
                pl.col("bus_id").n_unique().alias("buses"),
                passengers.sum().alias("__p_sum"),
                pl.col("passengers").max().alias("passengers_max"),
                pl.col("__p_seated").sum(),
                pl.col("__seats").sum(),
                pl.col("__load").max().alias("load_factor_max"),
                pl.col("__crowded").sum().alias("__n_crowded"),
                pl.col("__crowded").count().alias("__n_capacity"),
                *counts,
            )
        )

    grouped = collect_by_slices(telemetry, day, per_slice)
    readings = pl.col("readings").cast(pl.Float64)
    out = grouped.with_columns(
        pl.lit(day).alias("date"),
        (pl.col("__p_sum") / readings).alias("passengers_mean"),
        pl.when(pl.col("__seats") > 0).then(pl.col("__p_seated") / pl.col("__seats")).alias("load_factor_mean"),
        pl.when(pl.col("__n_capacity") > 0).then(pl.col("__n_crowded") / pl.col("__n_capacity")).alias("crowded_share"),
        *[(pl.col(f"__n_{status}") / readings).alias(f"share_{status.lower()}") for status in OCCUPANCY_STATUSES],
    ).with_columns(passenger_load_los_expr("load_factor_mean").alias("load_los"))
    return conform_frame(out, SCHEMA).sort("route_id", "hour", "stop_id")
