"""Values no device can report: found in whole batches at once, each with a reason.

Two kinds of rule:

* **message rules** make the whole message unusable (no device id, an event time outside the accepted
  range, coordinates off the planet, negative passengers, ...): the message goes to the dead-letter
  topic with the rule's reason;
* **value rules** make one measurement unusable while the message's other values stay good (a negative
  or non-finite pollutant concentration, a humidity above 100 %, ...): the value is nulled, the row is
  kept, and the row's ``flags`` say which values were nulled and why, e.g. ``no2_ppb<0``.

The accepted event-time range is a parameter (``[ingest] earliest_event_time`` and
``max_event_time_ahead_s`` in the sink), so a city can land the history of its archive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

EARLIEST_EVENT_TIME_MS = 0  # 1970-01-01T00:00Z, the default of [ingest] earliest_event_time
MAX_FUTURE_MS = 24 * 3_600_000  # the default of [ingest] max_event_time_ahead_s
POLLUTANTS = ("pm25_ugm3", "pm10_ugm3", "no2_ppb", "o3_ppb", "so2_ppb", "co_ppm")
FLAG_SEPARATOR = "; "


def _bad_number(col: str) -> pl.Expr:
    return pl.col(col).is_nan() | pl.col(col).is_infinite()


def _instant(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


def _hours(ms: int) -> str:
    hours = ms / 3_600_000
    return f"{hours:g} h" if hours >= 1 else f"{ms / 1000:g} s"


def _common(key: str, earliest_ms: int, max_future_ms: int) -> list[tuple[pl.Expr, str]]:
    return [
        (pl.col(key) == "", f"missing required field {key}"),
        (pl.col("event_time_ms") == 0, "missing required field event_time_ms"),
        (pl.col("event_time_ms") < earliest_ms,
         f"event_time_ms before {_instant(earliest_ms)} ([ingest] earliest_event_time)"),
        (pl.col("event_time_ms") > pl.col("_latest_ms"),
         f"event_time_ms more than {_hours(max_future_ms)} in the future ([ingest] max_event_time_ahead_s)"),
    ]


def _position() -> list[tuple[pl.Expr, str]]:
    return [
        (_bad_number("latitude") | _bad_number("longitude"), "coordinates are not numbers"),
        ((pl.col("latitude").abs() > 90) | (pl.col("longitude").abs() > 180), "coordinates off the planet"),
    ]


KEYS: dict[str, str] = {"bus_telemetry": "bus_id", "air_readings": "sensor_id", "station_events": "station_id",
                        "alerts": "alert_id", "bus_windows": "bus_id"}
"""Dataset -> its device or subject id, required in every message."""

RULES: dict[str, list[tuple[pl.Expr, str]]] = {
    "bus_telemetry": [
        *_position(),
        (pl.col("passengers") < 0, "negative passengers"),
        (pl.col("capacity") < 0, "negative capacity"),
        (pl.col("seated_capacity") < 0, "negative seated_capacity"),
        ((pl.col("capacity") > 0) & (pl.col("passengers") > 2 * pl.col("capacity")),
         "passengers more than twice the capacity"),
        (_bad_number("speed_mps") | (pl.col("speed_mps") < 0) | (pl.col("speed_mps") > 100),
         "speed_mps outside 0..100 m/s"),
    ],
    "air_readings": [*_position()],  # bad measurements are VALUE_RULES: the reading lands without them
    "station_events": [
        (pl.col("kind") == "STATION_EVENT_KIND_UNSPECIFIED", "missing required field kind"),
        ((pl.col("waiting_passengers") < 0) | (pl.col("boarded") < 0) | (pl.col("alighted") < 0),
         "negative passenger count"),
        (pl.col("dwell_s") < 0, "negative dwell_s"),
    ],
    "alerts": [
        (pl.col("subject_id") == "", "missing required field subject_id"),
    ],
    "bus_windows": [
        (pl.col("window_end_ms") <= pl.col("window_start_ms"), "window_end_ms not after window_start_ms"),
        (pl.col("readings") <= 0, "a window without readings"),
        ((pl.col("passengers_min") < 0) | (pl.col("passengers_min") > pl.col("passengers_max")),
         "passengers_min negative or above passengers_max"),
    ],
}
"""Message rules of each dataset besides the id and the event time (first match names the reason)."""


def _rules(dataset: str, earliest_ms: int, max_future_ms: int) -> list[tuple[pl.Expr, str]]:
    if dataset not in KEYS:
        return []
    return [*_common(KEYS[dataset], earliest_ms, max_future_ms), *RULES[dataset]]


def _not_finite(col: str) -> list[tuple[pl.Expr, str]]:
    return [(pl.col(col).is_nan(), f"{col}=NaN"), (pl.col(col) == float("inf"), f"{col}=inf")]


def _range(col: str, lo: float, hi: float) -> list[tuple[pl.Expr, str]]:
    return [*_not_finite(col), (pl.col(col) < lo, f"{col}<{lo:g}"), (pl.col(col) > hi, f"{col}>{hi:g}")]


# column -> (condition, flag): the first condition that holds nulls the column's value and names the flag
VALUE_RULES: dict[str, dict[str, list[tuple[pl.Expr, str]]]] = {
    "air_readings": {
        **{p: [*_not_finite(p), (pl.col(p) < 0, f"{p}<0")] for p in POLLUTANTS},
        "temperature_c": _range("temperature_c", -90, 60),
        "humidity_pct": _range("humidity_pct", 0, 100),
        "wind_speed_mps": [*_not_finite("wind_speed_mps"), (pl.col("wind_speed_mps") < 0, "wind_speed_mps<0")],
    },
}
"""Values nulled (with a flag) instead of dead-lettering their message; every such column is nullable."""


@dataclass(frozen=True)
class Validation:
    valid: np.ndarray            # bool per row: False for rows whose message is dead-lettered
    reasons: dict[int, str]      # row -> reason, for invalid rows
    nulled: dict[str, np.ndarray] = field(default_factory=dict)  # column -> bool per row: values to null
    flags: dict[int, str] = field(default_factory=dict)          # row -> e.g. "no2_ppb<0; pm10_ugm3=NaN"

    def repaired(self, table: pa.Table) -> pa.Table:
        """``table`` with the values of :attr:`nulled` set to null (every row kept)."""
        for name, mask in self.nulled.items():
            i = table.schema.get_field_index(name)
            column = pc.if_else(pa.array(mask), pa.scalar(None, table.schema.field(i).type), table.column(i))
            table = table.set_column(i, table.schema.field(i), column)
        return table

    def flag_column(self, rows: np.ndarray | None = None) -> pa.Array:
        """The flags of ``rows`` (row numbers of the validated table; all rows by default) as a string
        column, null where nothing was nulled."""
        n = len(self.valid)
        picked = np.arange(n) if rows is None else rows
        return pa.array([self.flags.get(int(r)) for r in picked], pa.string()) if self.flags \
            else pa.nulls(len(picked), pa.string())


def _first_match(rules: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """Per row, the text of the first rule that holds, or null."""
    reason: pl.Expr = pl.lit(None, pl.String)
    for condition, text in reversed(rules):
        reason = pl.when(condition.fill_null(False)).then(pl.lit(text)).otherwise(reason)
    return reason


def validate(dataset: str, table: pa.Table, now_ms: int | None = None, *,
             earliest_ms: int = EARLIEST_EVENT_TIME_MS, max_future_ms: int = MAX_FUTURE_MS) -> Validation:
    """Check every row of ``table`` (a dataset's message columns) against the dataset's rules.

    Event times before ``earliest_ms`` or more than ``max_future_ms`` after ``now_ms`` (default: the
    clock) make a message invalid; so do the dataset's other message rules. Values failing a value rule
    (:data:`VALUE_RULES`) are reported in ``nulled`` and ``flags`` (only for valid rows).
    """
    rules = _rules(dataset, earliest_ms, max_future_ms)
    value_rules = VALUE_RULES.get(dataset, {})
    n = table.num_rows
    if (not rules and not value_rules) or n == 0:
        return Validation(np.ones(n, bool), {})
    now = int(time.time() * 1000) if now_ms is None else now_ms
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    checks = [_first_match(rules).alias("_reason")] if rules else []
    checks += [_first_match(column_rules).alias(column) for column, column_rules in value_rules.items()]
    out = df.with_columns(pl.lit(now + max_future_ms, pl.Int64).alias("_latest_ms")).select(checks)
    valid = np.ones(n, bool)
    reasons: dict[int, str] = {}
    if rules:
        invalid = out["_reason"].is_not_null().to_numpy()
        if invalid.any():
            rows = np.flatnonzero(invalid)
            reasons = {int(r): t for r, t in zip(rows, out["_reason"].gather(rows).to_list(), strict=True)}
            valid = ~invalid
    nulled: dict[str, np.ndarray] = {}
    per_row: dict[int, list[str]] = {}
    for column in value_rules:
        bad = out[column].is_not_null().to_numpy() & valid
        if bad.any():
            nulled[column] = bad
            rows = np.flatnonzero(bad)
            for r, flag in zip(rows, out[column].gather(rows).to_list(), strict=True):
                per_row.setdefault(int(r), []).append(flag)
    flags = {r: FLAG_SEPARATOR.join(texts) for r, texts in sorted(per_row.items())}
    return Validation(valid, reasons, nulled, flags)
