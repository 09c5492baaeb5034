"""Mart ``route_performance``: daily service quality of each route.

Grain: one row per route with any departure, headway or completed trip on the day.

Columns:

- ``date`` (date), ``route_id``.
- On-time performance, from the route's DEPARTURE events of the day at every station: deviation =
  actual − scheduled departure (minutes); on time when ``otp_early_min ≤ deviation ≤ otp_late_min``
  (inclusive). The window is a named preset of ``smartcity.analysis.transit.OTP_PRESETS`` (default ``nyct``,
  −1/+5 min) or an ``OnTimeWindow``. Columns ``departures`` (departures with a scheduled time),
  ``on_time_share``, ``early_share``, ``late_share``, ``otp_early_min``, ``otp_late_min``, and
  ``mean_delay_s`` (mean deviation, seconds; negative is early).
- Headway regularity, from the day's ``bus_headways`` rows with both an actual and a scheduled
  headway (every station, both directions): ``headways`` (count), ``awt_min`` / ``swt_min``
  (actual and scheduled waiting time, Σh² / 2Σh, minutes), ``ewt_min`` (excess wait time,
  AWT − SWT), ``headway_cv`` (TCQSM cv_h, population σ of actual − scheduled over mean scheduled),
  ``headway_los`` (TCQSM headway-adherence LOS A–F of cv_h, defined for headways ≤ 10 min),
  ``bunched_share`` (share of bunched headways under the ``bunching`` definition).
- Run times, from trips that end (last arrival) on the day: a trip's run time is its last arrival
  minus its first departure at stations (actual times; station events exist only at stations, so
  this spans the trip's first to last station), the scheduled run time the same from scheduled times.
  ``trips`` (count), ``run_time_p10_min``, ``run_time_p50_min``,
  ``run_time_p90_min`` (linear-interpolated percentiles over trips, minutes),
  ``scheduled_run_time_p50_min``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from smartcity.analysis.marts._common import conform, divide, ms_on_day
from smartcity.analysis.marts._service import (
    MAX_HEADWAY_MIN,
    TRIP_GAP_H,
    departures_on,
    headways,
    service_events,
    station_events,
    trips,
)
from smartcity.analysis.transit.expr import expected_wait_expr, headway_cv_expr, headway_los_expr, otp_class_expr
from smartcity.analysis.transit.headways import BunchingDefinition
from smartcity.analysis.transit.ontime import DEFAULT_WINDOW, OnTimeWindow, resolve_window

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "route_id": pl.String(),
    "departures": pl.UInt32(),
    "on_time_share": pl.Float64(),
    "early_share": pl.Float64(),
    "late_share": pl.Float64(),
    "otp_early_min": pl.Float64(),
    "otp_late_min": pl.Float64(),
    "mean_delay_s": pl.Float64(),
    "headways": pl.UInt32(),
    "awt_min": pl.Float64(),
    "swt_min": pl.Float64(),
    "ewt_min": pl.Float64(),
    "headway_cv": pl.Float64(),
    "headway_los": pl.String(),
    "bunched_share": pl.Float64(),
    "trips": pl.UInt32(),
    "run_time_p10_min": pl.Float64(),
    "run_time_p50_min": pl.Float64(),
    "run_time_p90_min": pl.Float64(),
    "scheduled_run_time_p50_min": pl.Float64(),
}


def otp_columns(
    departures: pl.LazyFrame, keys: list[str], window: OnTimeWindow, prefix: str = ""
) -> pl.LazyFrame:
    """On-time counts and shares of departures with a schedule, per ``keys``."""
    scheduled = departures.filter(pl.col("deviation_min").is_not_null())
    n = pl.col(f"{prefix}departures").cast(pl.Float64)
    return (
        scheduled.with_columns(otp_class_expr("deviation_min", window).alias("__class"))
        .group_by(keys)
        .agg(
            pl.len().alias(f"{prefix}departures"),
            *[(pl.col("__class") == label).sum().alias(f"__{label}") for label in ("on_time", "early", "late")],
            (pl.col("actual_ms") - pl.col("scheduled_ms")).sum().alias("__delay_ms"),
        )
        .with_columns(
            *[(pl.col(f"__{label}") / n).alias(f"{prefix}{label}_share") for label in ("on_time", "early", "late")],
            (pl.col("__delay_ms") / (n * 1000.0)).alias(f"{prefix}mean_delay_s"),
        )
        .drop("__on_time", "__early", "__late", "__delay_ms")
    )


def route_performance(
    events: pl.LazyFrame,
    day: date,
    *,
    window: str | OnTimeWindow = DEFAULT_WINDOW,
    bunching: BunchingDefinition = "transitmatters",
    kind: str = "ARRIVAL",
    max_headway_min: float = MAX_HEADWAY_MIN,
    trip_gap_h: float = TRIP_GAP_H,
) -> pl.LazyFrame:
    """Daily OTP, wait times, headway regularity, bunching and run times per route of ``day``."""
    bounds = resolve_window(window)
    service = service_events(station_events(events), trip_gap_h=trip_gap_h)
    otp = otp_columns(departures_on(service, day), ["route_id"], bounds)

    paired = headways(service, kind=kind, bunching=bunching, max_headway_min=max_headway_min).filter(
        ms_on_day(day, "actual_ms")
        & pl.col("actual_headway_s").is_not_null()
        & pl.col("scheduled_headway_s").is_not_null()
    )
    actual_min = divide("actual_headway_s", 60.0)
    scheduled_min = divide("scheduled_headway_s", 60.0)
    regularity = (
        paired.group_by("route_id")
        .agg(
            pl.len().alias("headways"),
            expected_wait_expr(actual_min).alias("awt_min"),
            expected_wait_expr(scheduled_min).alias("swt_min"),
            headway_cv_expr(actual_min, scheduled_min).alias("headway_cv"),
            pl.col("bunched").sum().alias("__bunched"),
            pl.col("bunched").count().alias("__judged"),
        )
        .with_columns(
            pl.when(pl.col("__judged") > 0).then(pl.col("__bunched") / pl.col("__judged")).alias("bunched_share"),
            (pl.col("awt_min") - pl.col("swt_min")).alias("ewt_min"),
            headway_los_expr("headway_cv").alias("headway_los"),
        )
    )

    run_min = divide("run_time_ms", 60_000.0)
    run_times = (
        trips(service)
        .filter(ms_on_day(day, "last_arrival_ms"))
        .group_by("route_id")
        .agg(
            pl.len().alias("trips"),
            run_min.quantile(0.1, "linear").alias("run_time_p10_min"),
            run_min.quantile(0.5, "linear").alias("run_time_p50_min"),
            run_min.quantile(0.9, "linear").alias("run_time_p90_min"),
            divide("scheduled_run_time_ms", 60_000.0).quantile(0.5, "linear").alias("scheduled_run_time_p50_min"),
        )
    )
    out = (
        otp.join(regularity, on="route_id", how="full", coalesce=True)
        .join(run_times, on="route_id", how="full", coalesce=True)
        .with_columns(
            pl.lit(day).alias("date"),
            pl.lit(bounds.early).alias("otp_early_min"),
            pl.lit(bounds.late).alias("otp_late_min"),
            pl.col("departures", "headways", "trips").fill_null(0),
        )
    )
    return conform(out, SCHEMA).sort("route_id")
