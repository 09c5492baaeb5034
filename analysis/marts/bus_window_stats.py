"""Mart ``bus_window_stats``: passengers per bus in tumbling windows, with the fleet's mean.

Grain: one row per tumbling window (default 20 minutes) and bus that reported in it. Windows are
aligned to midnight UTC (``[00:00, 00:20)``, ``[00:20, 00:40)``, …); a window length that does not
divide a day is aligned to the Unix epoch and cut at midnight. This is the windowed statistic the
original streaming design computed live, done in batch over the landed readings.

Columns:

- ``date`` (date), ``window_start``, ``window_end`` (timestamps UTC; the window is
  ``[window_start, window_end)``), ``bus_id``, ``route_id`` (route of the bus's last reading in the
  window).
- ``readings`` (count), ``passengers_min``, ``passengers_max`` (counts), ``passengers_mean``
  (passengers on board, mean over the bus's readings in the window).
- ``fleet_buses``: buses reporting in the window. ``fleet_passengers_mean``: mean passengers over
  every reading of every bus in the window (Σ passengers / Σ readings).

Readings without a route or a stop are left out; a reading landed twice counts once. The means
come from integer sums, so the streaming engine gives the same numbers in any row order; the day
is read in slices of a few hours and a window spanning two slices is combined from both.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from smartcity.analysis.marts._bus import collect_by_slices, in_service
from smartcity.analysis.marts._common import DAY, UTC_MS, conform_frame, day_start

WINDOW = "20m"

SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "window_start": UTC_MS,
    "window_end": UTC_MS,
    "bus_id": pl.String(),
    "route_id": pl.String(),
    "readings": pl.UInt32(),
    "passengers_min": pl.Int32(),
    "passengers_max": pl.Int32(),
    "passengers_mean": pl.Float64(),
    "fleet_buses": pl.UInt32(),
    "fleet_passengers_mean": pl.Float64(),
}


def _duration(window: str | timedelta) -> str:
    if isinstance(window, timedelta):
        ms = int(window.total_seconds() * 1000)
        if ms <= 0 or ms != window.total_seconds() * 1000:
            msg = f"`window` must be a positive whole number of milliseconds, got {window}"
            raise ValueError(msg)
        return f"{ms}ms"
    return window


def bus_window_stats(
    telemetry: pl.LazyFrame, day: date, *, window: str | timedelta = WINDOW, dedupe: bool = True
) -> pl.DataFrame:
    """Per-bus passenger statistics in tumbling ``window``s of ``day`` (a Polars duration such as
    ``"20m"``, or a ``timedelta``), with the fleet mean of each window."""
    every = _duration(window)
    start, end = day_start(day), day_start(day) + DAY

    def per_slice(rows: pl.LazyFrame) -> pl.LazyFrame:
        return (
            in_service(rows, ["route_id", "event_time", "passengers"], dedupe=dedupe)
            .with_columns(
                pl.max_horizontal(pl.col("event_time").dt.truncate(every), pl.lit(start, UTC_MS)).alias("window_start")
            )
            .group_by("window_start", "bus_id")
            .agg(
                pl.col("route_id").sort_by("event_time_ms").last(),
                pl.col("event_time_ms").max().alias("__last"),
                pl.len().alias("readings"),
                pl.col("passengers").min().alias("passengers_min"),
                pl.col("passengers").max().alias("passengers_max"),
                pl.col("passengers").cast(pl.Int64).sum().alias("__sum"),
            )
        )

    # A window may span two slices: combine the slices' partial statistics.
    per_bus = (
        collect_by_slices(telemetry, day, per_slice)
        .group_by("window_start", "bus_id")
        .agg(
            pl.col("route_id").sort_by("__last").last(),
            pl.col("readings").sum(),
            pl.col("passengers_min").min(),
            pl.col("passengers_max").max(),
            pl.col("__sum").sum(),
        )
    )
    out = per_bus.with_columns(
        pl.lit(day).alias("date"),
        pl.min_horizontal(pl.col("window_start").dt.truncate(every).dt.offset_by(every), pl.lit(end, UTC_MS))
        .alias("window_end"),
        (pl.col("__sum") / pl.col("readings")).alias("passengers_mean"),
        pl.len().over("window_start").alias("fleet_buses"),
        (pl.col("__sum").sum().over("window_start") / pl.col("readings").cast(pl.Int64).sum().over("window_start"))
        .alias("fleet_passengers_mean"),
    )
    return conform_frame(out, SCHEMA).sort("window_start", "bus_id")
