"""What the flows do, as plain functions: which dates need work, build and write marts.

The Prefect flows in :mod:`smartcity.flows.pipelines` call these inside tasks; tests and the demo can call
them directly. A partition needs a mart rebuilt when the mart has no such partition, or when a raw
file of a date that maps to it is newer than the partition (new data landed since the last run).
Writing a partition replaces it, so re-running a date is idempotent.

A mart that reads other marts (``air_trends`` reads ``air_monthly``, which reads ``air_daily_sums``)
is built after them, from their stored partitions: ``plan`` puts every stale partition of the
upstream marts first. So a scheduled run reads the raw data of the dates that changed and small
stored aggregates, never the whole raw history; each ``MartRun`` records what it read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from smartcity.analysis.marts import MARTS, compute_mart, mart_inputs, raw_inputs
from smartcity.storage.layout import dataset_dir
from smartcity.storage.marts import mart_files, partition_files, write_mart
from smartcity.storage.read_stats import ReadStats, read_stats

AIR_QUALITY = ("air_quality_hourly", "air_hotspots", "air_daily_sums", "air_monthly", "air_trends")
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
    read: ReadStats = field(default_factory=ReadStats)

    def row(self) -> dict[str, Any]:
        """The run as a table row: mart, date, rows written, and partitions, files, rows, bytes read."""
        return {"mart": self.mart, "date": self.date, "rows": self.rows, "partitions_read": self.read.partitions,
                "files_read": self.read.files, "rows_read": self.read.rows, "bytes_read": self.read.bytes}


def raw_dates(root: Path, dataset: str) -> dict[str, float]:
    """Dates with raw data of ``dataset`` -> the newest modification time of its hour folders.

    Landing, replacing or compacting a file renames it into its hour folder, which changes that
    folder's modification time: one ``stat`` per hour tells what changed, without listing every file."""
    base = dataset_dir(Path(root), dataset)
    out: dict[str, float] = {}
    if not base.exists():
        return out
    with os.scandir(base) as days:
        for day in days:
            if not day.name.startswith("date=") or not day.is_dir():
                continue
            with os.scandir(day.path) as hours:
                newest = max((h.stat().st_mtime for h in hours if h.name.startswith("hour=") and h.is_dir()),
                             default=None)
            if newest is not None:
                out[day.name.removeprefix("date=")] = newest
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


def dates_needing(root: Path, mart: str, dates: Iterable[str] | None = None,
                  landed: dict[str, dict[str, float]] | None = None) -> list[str]:
    """Partitions of ``mart`` that are missing or older than the raw data they read, as ISO dates.

    With ``dates``, the partitions those raw dates (those with data) map to, stale or not. ``landed``
    caches ``raw_dates`` per dataset across calls."""
    spec = MARTS[mart]
    cache = {} if landed is None else landed
    newest: dict[str, float] = {}
    for ds in raw_inputs(mart):
        if ds not in cache:
            cache[ds] = raw_dates(root, ds)
        for d, t in cache[ds].items():
            newest[d] = max(newest.get(d, 0.0), t)
    if dates is not None:
        wanted = [d for d in dates if d in newest]
        return sorted({p.isoformat() for d in wanted for p in spec.partitions(Date.fromisoformat(d))})
    stored = {day: f.stat().st_mtime for day, f in partition_files(root, mart).items()}
    todo = {day.isoformat() for d, t in newest.items() for day in spec.partitions(Date.fromisoformat(d))
            if stored.get(day, -1.0) < t}
    return sorted(todo)


def upstream_of(marts: Iterable[str]) -> list[str]:
    """``marts`` with the marts they read, every mart after the marts it reads, in first-needed order."""
    order: list[str] = []

    def visit(name: str) -> None:
        for up in MARTS[name].upstream:
            visit(up)
        if name not in order:
            order.append(name)

    for name in marts:
        visit(name)
    return order


def plan(root: Path, marts: Iterable[str], dates: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The (mart, date) builds a run needs, in order: for ``marts``, the partitions of ``dates`` (or
    every stale one); for the marts they read, every stale partition, built first."""
    chosen = list(marts)
    wanted = None if dates is None else list(dates)
    read_by_others = {up for name in upstream_of(chosen) for up in MARTS[name].upstream}
    landed: dict[str, dict[str, float]] = {}
    steps = []
    for name in upstream_of(chosen):
        days = set(dates_needing(root, name, wanted, landed)) if name in chosen else set()
        if name in read_by_others:
            days |= set(dates_needing(root, name, None, landed))
        steps += [(name, day) for day in sorted(days)]
    return steps


def reusable(root: Path, mart: str, day: Date) -> Path | None:
    """A stored partition of ``mart`` holding ``day``'s rows (but for ``date``), if the mart declares a
    ``result_key`` and a partition of the same key is newer than every upstream partition it was
    computed from; ``None`` otherwise."""
    spec = MARTS[mart]
    if spec.result_key is None:
        return None
    key = spec.result_key(day)
    inputs = [f for up in spec.upstream for f in mart_files(root, up, (None, key - timedelta(days=1)))]
    newest = max((f.stat().st_mtime for f in inputs), default=0.0)
    for other, stored in partition_files(root, mart).items():
        if spec.result_key(other) == key and stored.stat().st_mtime >= newest:
            return stored
    return None


def build_mart(root: Path, mart: str, date: str) -> MartRun:
    """Compute ``mart`` for ``date`` from the lake (upstream marts as stored) and replace its partition;
    or copy a stored partition that holds the same rows (``reusable``)."""
    day = Date.fromisoformat(date)
    donor = reusable(root, mart, day)
    if donor is not None:
        read = read_stats([donor])
        df = pl.read_parquet(donor).with_columns(pl.lit(day).alias("date"))
    else:
        read = read_stats(mart_inputs(mart, root, date))
        df = compute_mart(mart, root, date, upstream="stored")
    path = write_mart(root, mart, date, df)
    return MartRun(mart, date, df.height, str(path), read)
