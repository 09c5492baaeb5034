"""Mart ``station_service``: service at each station, per day and per hour.

Grain: one row per station and period, where ``period`` is ``day`` (the whole UTC day;
``period_start`` 00:00) or ``hour`` (``period_start`` the start of the UTC hour). Every station
with an event on the day has a ``day`` row, and an ``hour`` row for each hour with an event.
Events count in the period of their actual time (scheduled departures: of their scheduled time).

Columns:

- ``date`` (date), ``station_id``, ``period`` (``day`` or ``hour``), ``period_start`` (timestamp UTC).
- ``departures``: bus departures served. ``scheduled_departures``: departures timetabled in the
  period, among the departures the station reported (a trip that never ran sends no event, so a
  cancellation is not seen without a timetable). ``service_ratio`` = served / scheduled.
  ``routes``: distinct routes departing.
- ``mean_wait_min``, ``p90_wait_min``: headway-based waiting time of a passenger who turns up at
  random for a given route, pooled over the station's routes and directions: the mean is
  Σh² / 2Σh (the AWT) and the p90 is the wait that 90 % of such passengers do not exceed, w with
  Σ max(h − w, 0) = 0.1 Σh. Headways are the actual ones of ``bus_headways`` ending in the period.
  ``headways``: how many went in.
- ``mean_dwell_s``: mean dwell of departures (seconds, to the millisecond).
- ``on_time_share``: share of departures with a scheduled time that were on time under the
  ``window`` preset (default ``nyct``, −1/+5 min; see ``route_performance``).
- ``peak_waiting``: most passengers waiting in any event of the period (passenger counts included).
- ``overcrowding_events``: episodes starting in the period in which waiting passengers exceed
  ``crowding_threshold`` (default 40): consecutive observations above the threshold are one event.
- ``boardings`` (Σ boarded at departures), ``alightings`` (Σ alighted at arrivals).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._common import UTC_MS, conform, day_start, divide, ms_on_day, ms_to_time, on_day
from smartcity.analysis.marts._service import (
    MAX_HEADWAY_MIN,
    TRIP_GAP_H,
    departures_on,
    headways,
    service_events,
    station_events,
)
from smartcity.analysis.transit.expr import expected_wait_expr, otp_class_expr
from smartcity.analysis.transit.ontime import DEFAULT_WINDOW, OnTimeWindow, resolve_window

CROWDING_THRESHOLD = 40
WAIT_QUANTILE = 0.9
KEYS = ["station_id", "period", "period_start"]

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "station_id": pl.String(),
    "period": pl.String(),
    "period_start": UTC_MS,
    "departures": pl.UInt32(),
    "scheduled_departures": pl.UInt32(),
    "service_ratio": pl.Float64(),
    "routes": pl.UInt32(),
    "mean_wait_min": pl.Float64(),
    "p90_wait_min": pl.Float64(),
    "headways": pl.UInt32(),
    "mean_dwell_s": pl.Float64(),
    "on_time_share": pl.Float64(),
    "peak_waiting": pl.Int32(),
    "overcrowding_events": pl.UInt32(),
    "boardings": pl.Int64(),
    "alightings": pl.Int64(),
}


def by_period(frame: pl.LazyFrame, time: str, day: date) -> pl.LazyFrame:
    """Each row twice: once for its day and once for its hour (``period``, ``period_start``)."""
    start = pl.lit(day_start(day), UTC_MS)
    return frame.with_columns(
        pl.concat_list(pl.lit("day"), pl.lit("hour")).alias("period"),
        pl.concat_list(start, pl.col(time).dt.truncate("1h")).alias("period_start"),
    ).explode("period", "period_start")


def wait_quantile(frame: pl.LazyFrame, keys: list[str], headway: str, quantile: float) -> pl.LazyFrame:
    """The ``quantile`` of the wait of passengers arriving uniformly over a group's headways.

    A passenger arriving at random waits more than w with probability Σ max(h − w, 0) / Σh. With the
    headways sorted in descending order, h(1) ≥ h(2) ≥ …, and S_k = h(1) + … + h(k), that sum is
    S_k − k·w for w between h(k+1) and h(k), so w = (S_k − (1 − q)·Σh) / k for the first k at
    which S_k − k·h(k+1) reaches (1 − q)·Σh.
    """
    ranked = (
        frame.select([*keys, headway])
        .sort([*keys, headway], descending=[False] * len(keys) + [True])
        .with_row_index("__row")
        .with_columns(
            (pl.col("__row") - pl.col("__row").min().over(keys) + 1).cast(pl.Float64).alias("__k"),
            pl.col(headway).cum_sum().over(keys, order_by="__row").alias("__s"),
            pl.col(headway).shift(-1).over(keys, order_by="__row").fill_null(0.0).alias("__next"),
            ((1.0 - quantile) * pl.col(headway).sum().over(keys)).alias("__target"),
        )
    )
    return (
        ranked.filter(pl.col("__s") - pl.col("__k") * pl.col("__next") >= pl.col("__target"))
        .group_by(keys)
        .agg(((pl.col("__s") - pl.col("__target")) / pl.col("__k")).sort_by("__row").first().alias("wait"))
    )


def station_service(
    events: pl.LazyFrame,
    day: date,
    *,
    window: str | OnTimeWindow = DEFAULT_WINDOW,
    crowding_threshold: int = CROWDING_THRESHOLD,
    kind: str = "ARRIVAL",
    max_headway_min: float = MAX_HEADWAY_MIN,
    trip_gap_h: float = TRIP_GAP_H,
) -> pl.LazyFrame:
    """Per-station service of ``day``, by day and by hour, from ``station_events`` rows of the day
    and the day before."""
    bounds = resolve_window(window)
    everything = station_events(events)
    service = service_events(everything, trip_gap_h=trip_gap_h)

    departures = by_period(departures_on(service, day), "actual_time", day)
    on_time = otp_class_expr("deviation_min", bounds) == "on_time"
    served = departures.group_by(KEYS).agg(
        pl.len().alias("departures"),
        pl.col("route_id").n_unique().alias("routes"),
        (pl.col("dwell_s").cast(pl.Float64) * 1000).round().cast(pl.Int64).sum().alias("__dwell_ms"),
        on_time.sum().alias("__on_time"),
        on_time.count().alias("__scheduled"),
        pl.col("boarded").cast(pl.Int64).sum().alias("boardings"),
    ).with_columns(
        (pl.col("__dwell_ms") / (pl.col("departures").cast(pl.Float64) * 1000.0)).alias("mean_dwell_s"),
        pl.when(pl.col("__scheduled") > 0).then(pl.col("__on_time") / pl.col("__scheduled")).alias("on_time_share"),
    )
    timetabled = (
        service.filter((pl.col("kind") == "DEPARTURE") & ms_on_day(day, "scheduled_ms"))
        .with_columns(ms_to_time("scheduled_ms").alias("scheduled_time"))
        .pipe(by_period, "scheduled_time", day)
        .group_by(KEYS)
        .agg(pl.len().alias("scheduled_departures"))
    )
    arrivals = (
        service.filter((pl.col("kind") == "ARRIVAL") & ms_on_day(day, "actual_ms"))
        .with_columns(ms_to_time("actual_ms").alias("actual_time"))
        .pipe(by_period, "actual_time", day)
        .group_by(KEYS)
        .agg(pl.col("alighted").cast(pl.Int64).sum().alias("alightings"))
    )

    order = ["event_time_ms", "kind", "bus_id", "trip_id"]
    above = pl.col("waiting_passengers") > crowding_threshold
    crowding = (
        everything.with_columns(
            (above & ~above.shift(1).over("station_id", order_by=order).fill_null(False)).alias("__starts")
        )
        .filter(on_day(day))
        .pipe(by_period, "event_time", day)
        .group_by(KEYS)
        .agg(
            pl.col("waiting_passengers").max().alias("peak_waiting"),
            pl.col("__starts").sum().alias("overcrowding_events"),
        )
    )

    gaps = (
        headways(service, kind=kind, max_headway_min=max_headway_min)
        .filter(ms_on_day(day, "actual_ms") & pl.col("actual_headway_s").is_not_null())
        .with_columns(divide("actual_headway_s", 60.0).alias("headway_min"), ms_to_time("actual_ms").alias("t"))
        .pipe(by_period, "t", day)
    )
    waits = gaps.group_by(KEYS).agg(
        pl.len().alias("headways"), expected_wait_expr("headway_min").alias("mean_wait_min")
    ).join(
        wait_quantile(gaps, KEYS, "headway_min", WAIT_QUANTILE).rename({"wait": "p90_wait_min"}),
        on=KEYS,
        how="left",
    )

    out = crowding
    for part in (served, timetabled, arrivals, waits):
        out = out.join(part, on=KEYS, how="full", coalesce=True)
    out = out.with_columns(
        pl.lit(day).alias("date"),
        pl.col("departures", "scheduled_departures", "routes", "headways", "overcrowding_events").fill_null(0),
        pl.col("boardings", "alightings").fill_null(0),
    ).with_columns(
        pl.when(pl.col("scheduled_departures") > 0)
        .then(pl.col("departures") / pl.col("scheduled_departures"))
        .alias("service_ratio")
    )
    return conform(out, SCHEMA).sort("station_id", "period", "period_start")
