"""Lakes for the report tests: copies of the committed sample lake, alerts landed through the sink path."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from smartcity.core.resources import samples_dir
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.sink.landing import process_batch
from smartcity.proto import Alert
from smartcity.proto.codec import ALERT
from smartcity.storage.commit import Committer
from smartcity.storage.datasets import ALERTS
from smartcity.storage.formats import get_format

SAMPLES = samples_dir()
DAY = "2026-03-10"
T0 = int(datetime(2026, 3, 10, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000
HOUR = 60 * MINUTE


def copy_samples(target: Path) -> Path:
    """The committed sample lake (raw datasets of one day) copied to ``target``."""
    shutil.copytree(SAMPLES, target, ignore=shutil.ignore_patterns("reports", "marts", "*.duckdb"))
    return target


def alert(alert_id: str, state: int, t_ms: int, *, kind: int = 2, severity: int = 2, subject: str = "AQ016",
          subject_type: str = "sensor", start_ms: int = 0, end_ms: int = 0, peak: float = 0.0,
          threshold: float = 100.0, unit: str = "AQI", message: str = "", route: str = "") -> Alert:
    return Alert(alert_id=alert_id, kind=kind, severity=severity, state=state, subject_id=subject,
                 subject_type=subject_type, start_time_ms=start_ms, end_time_ms=end_ms, observed_value=peak,
                 peak_value=peak, threshold=threshold, unit=unit, message=message, route_id=route,
                 event_time_ms=t_ms)


OPEN, UPDATE, CLOSED = 1, 2, 3
CROWDING, AIR_QUALITY = 1, 2
WARNING, CRITICAL = 2, 3

#: An air-quality episode 07:00–09:00 peaking at 162 (open, update, closed), and a crowding alert still open.
ALERT_RECORDS = [
    alert("air-1", OPEN, T0 + 7 * HOUR, start_ms=T0 + 7 * HOUR, peak=121.0, message="AQI 121 at AQ016"),
    alert("air-1", UPDATE, T0 + 8 * HOUR, start_ms=T0 + 7 * HOUR, peak=162.0, severity=CRITICAL,
          message="AQI 162 at AQ016"),
    alert("air-1", CLOSED, T0 + 9 * HOUR, start_ms=T0 + 7 * HOUR, end_ms=T0 + 9 * HOUR, peak=162.0,
          severity=CRITICAL, message="AQI back below 100 at AQ016"),
    alert("bus-7", OPEN, T0 + 17 * HOUR, kind=CROWDING, subject="B007", subject_type="bus", route="R03",
          start_ms=T0 + 17 * HOUR, peak=1.12, threshold=1.0, unit="ratio", message="B007 <crowded> & full"),
]


def land_alerts(root: Path, records: list[Alert]) -> None:
    """Land alert records into the lake's raw ``alerts`` dataset through the sink's batch path."""
    committer = Committer(root, get_format("parquet"))
    offsets = np.arange(len(records))
    result = process_batch(ALERTS, BatchDecoder(ALERTS), committer, "smartcity.alerts", 0,
                           [ALERT.encode(r) for r in records], offsets, now_ms=T0 + 400 * 24 * HOUR)
    assert not result.dead, result.dead


def rename_ids(root: Path, dataset: str, column: str, names: dict[str, str]) -> None:
    """Rewrite every landed file of the raw ``dataset`` with ids of ``column`` renamed (as if devices sent them)."""
    for path in (root / "raw" / dataset).rglob("*.parquet"):
        frame = pl.read_parquet(path)
        frame.with_columns(pl.col(column).replace(names)).write_parquet(path)
