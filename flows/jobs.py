"""What the flows do, as plain functions: which dates need work, build and write marts.

The Prefect flows in :mod:`smartcity.flows.pipelines` call these inside tasks; tests and the demo can call
them directly. A date needs a mart rebuilt when the mart has no partition for it, or when a raw
file the mart reads for that date is newer than the partition (new data landed since the last run).
Writing a partition replaces it, so re-running a date is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from pathlib import Path

from smartcity.analysis.marts import MARTS, compute_mart
from smartcity.storage.layout import dataset_dir
from smartcity.storage.marts import mart_partition, write_mart

AIR_QUALITY = ("air_quality_hourly", "air_hotspots", "air_trends")
BUS_OPERATIONS = ("bus_occupancy", "bus_window_stats", "bus_headways", "route_performance", "stop_visits",
                  "trips_performed")
STATION_SERVICE = ("station_service",)
ALL_MARTS = AIR_QUALITY + BUS_OPERATIONS + STATION_SERVICE


@dataclass(frozen=True)
class MartRun:
    mart: str
    date: str
    rows: int
    path: str


def raw_dates(root: Path, dataset: str) -> dict[str, float]:
    """Dates with raw data of ``dataset`` -> newest file modification time in that date."""
    base = dataset_dir(Path(root), dataset)
    out: dict[str, float] = {}
    if not base.exists():
        return out
    for day_dir in base.glob("date=*"):
        newest = max((f.stat().st_mtime for f in day_dir.glob("hour=*/*.*")), default=None)
        if newest is not None:
            out[day_dir.name.removeprefix("date=")] = newest
    return out


def parse_dates(date: str | None = None, start: str | None = None, end: str | None = None) -> list[str] | None:
    """An explicit date or inclusive range as ISO strings; None when neither is given."""
    if date:
        return [Date.fromisoformat(date).isoformat()]
    if start or end:
        if not (start and end):
            raise ValueError("give both start and end for a date range")
        a, b = Date.fromisoformat(start), Date.fromisoformat(end)
        if b < a:
            raise ValueError(f"end {b} is before start {a}")
        return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]
    return None


def dates_needing(root: Path, mart: str, dates: Iterable[str] | None = None) -> list[str]:
    """Dates whose ``mart`` partition is missing or older than the raw data it reads."""
    spec = MARTS[mart]
    newest: dict[str, float] = {}
    for ds in spec.datasets:
        for d, t in raw_dates(root, ds).items():
            newest[d] = max(newest.get(d, 0.0), t)
    if dates is not None:
        return sorted(d for d in dates if d in newest)
    todo = []
    for d, t in sorted(newest.items()):
        part = mart_partition(root, mart, d)
        files = list(part.glob("*.parquet")) if part.exists() else []
        if not files or max(f.stat().st_mtime for f in files) < t:
            todo.append(d)
    return todo


def build_mart(root: Path, mart: str, date: str) -> MartRun:
    """Compute ``mart`` for ``date`` from the lake and replace its partition."""
    df = compute_mart(mart, root, date)
    path = write_mart(root, mart, date, df)
    return MartRun(mart, date, df.height, str(path))
