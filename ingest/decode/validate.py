"""Values no device can report: found in whole batches at once, each with a reason for the dead-letter topic."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

EPOCH_2000_MS = 946_684_800_000
MAX_FUTURE_MS = 24 * 3_600_000
POLLUTANTS = ("pm25_ugm3", "pm10_ugm3", "no2_ppb", "o3_ppb", "so2_ppb", "co_ppm")


def _bad_number(col: str) -> pl.Expr:
    return pl.col(col).is_nan() | pl.col(col).is_infinite()


def _common(key: str) -> list[tuple[pl.Expr, str]]:
    return [
        (pl.col(key) == "", f"missing required field {key}"),
        (pl.col("event_time_ms") <= 0, "missing required field event_time_ms"),
        (pl.col("event_time_ms") < EPOCH_2000_MS, "event_time_ms before 2000-01-01"),
        (pl.col("event_time_ms") > pl.col("_now_ms"), "event_time_ms more than 24 h in the future"),
    ]


def _position() -> list[tuple[pl.Expr, str]]:
    return [
        (_bad_number("latitude") | _bad_number("longitude"), "coordinates are not numbers"),
        ((pl.col("latitude").abs() > 90) | (pl.col("longitude").abs() > 180), "coordinates off the planet"),
    ]


RULES: dict[str, list[tuple[pl.Expr, str]]] = {
    "bus_telemetry": [
        *_common("bus_id"), *_position(),
        (pl.col("passengers") < 0, "negative passengers"),
        (pl.col("capacity") < 0, "negative capacity"),
        (pl.col("seated_capacity") < 0, "negative seated_capacity"),
        ((pl.col("capacity") > 0) & (pl.col("passengers") > 2 * pl.col("capacity")),
         "passengers more than twice the capacity"),
        (_bad_number("speed_mps") | (pl.col("speed_mps") < 0) | (pl.col("speed_mps") > 100),
         "speed_mps outside 0..100 m/s"),
    ],
    "air_readings": [
        *_common("sensor_id"), *_position(),
        *[((pl.col(p) < 0) | _bad_number(p), f"{p} negative or not a number") for p in POLLUTANTS],
        (((pl.col("humidity_pct") < 0) | (pl.col("humidity_pct") > 100)), "humidity_pct outside 0..100"),
        ((pl.col("temperature_c") < -90) | (pl.col("temperature_c") > 60), "temperature_c outside -90..60 °C"),
        (pl.col("wind_speed_mps") < 0, "negative wind_speed_mps"),
    ],
    "station_events": [
        *_common("station_id"),
        (pl.col("kind") == "STATION_EVENT_KIND_UNSPECIFIED", "missing required field kind"),
        ((pl.col("waiting_passengers") < 0) | (pl.col("boarded") < 0) | (pl.col("alighted") < 0),
         "negative passenger count"),
        (pl.col("dwell_s") < 0, "negative dwell_s"),
    ],
    "alerts": [
        *_common("alert_id"),
        (pl.col("subject_id") == "", "missing required field subject_id"),
    ],
    "bus_windows": [
        *_common("bus_id"),
        (pl.col("window_end_ms") <= pl.col("window_start_ms"), "window_end_ms not after window_start_ms"),
        (pl.col("readings") <= 0, "a window without readings"),
        ((pl.col("passengers_min") < 0) | (pl.col("passengers_min") > pl.col("passengers_max")),
         "passengers_min negative or above passengers_max"),
    ],
}


@dataclass(frozen=True)
class Validation:
    valid: np.ndarray            # bool per row
    reasons: dict[int, str]      # row -> reason, for invalid rows


def validate(dataset: str, table: pa.Table, now_ms: int | None = None) -> Validation:
    """Check every row of ``table`` (a dataset's message columns) against the dataset's rules."""
    rules = RULES.get(dataset, [])
    n = table.num_rows
    if not rules or n == 0:
        return Validation(np.ones(n, bool), {})
    now = int(time.time() * 1000) if now_ms is None else now_ms
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(pl.lit(now + MAX_FUTURE_MS, pl.Int64).alias("_now_ms"))
    reason: pl.Expr | None = None
    for condition, text in reversed(rules):
        cond = condition.fill_null(False)
        reason = pl.when(cond).then(pl.lit(text)).otherwise(reason if reason is not None else pl.lit(None, pl.String))
    out = df.select(reason.alias("reason"))["reason"]  # type: ignore[union-attr]
    invalid = out.is_not_null().to_numpy()
    if not invalid.any():
        return Validation(np.ones(n, bool), {})
    rows = np.nonzero(invalid)[0]
    texts = out.gather(rows).to_list()
    return Validation(~invalid, {int(r): t for r, t in zip(rows, texts, strict=True)})
