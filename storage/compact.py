"""Merge the small files of closed hours into one file per topic-partition, atomically.

For each hour directory older than the cut-off, the files of each topic-partition are merged into
one file named after the offset range it holds (rows in offset order, lineage columns kept). The
new hour is built beside the old one (unchanged files are hard-linked), and the two directories
are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call under the lake's exclusive lock, after
checking that nothing landed in the hour meanwhile. A reader listing the hour sees either every
old file or every new one: never duplicates, never gaps. (A query that listed the old files just
before the exchange and opens them afterwards gets "file not found" and should be retried; the old
directory is kept under ``_trash/`` for a while so files already open stay readable.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from smartcity.storage.commit import fsync_dir, lake_lock
from smartcity.storage.datasets import DATASETS
from smartcity.storage.datasets import dataset as get_dataset
from smartcity.storage.formats import EXTENSIONS, FORMATS, Format
from smartcity.storage.layout import HOUR_DIR, RAW, STAGING, STATE, dataset_dir, file_name, hour_end, parse_file_name

TRASH = "_trash"
TRASH_KEEP_S = 600
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class HourResult:
    dataset: str
    date: str
    hour: int
    files_before: int
    files_after: int
    rows: int


@dataclass
class CompactionReport:
    hours: list[HourResult] = field(default_factory=list)
    skipped_busy: int = 0

    @property
    def files_removed(self) -> int:
        return sum(h.files_before - h.files_after for h in self.hours)


def exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"renameat2({a}, {b}): {os.strerror(code)}")


def closed_hours(root: Path, dataset: str, before: datetime) -> list[Path]:
    """Hour directories of ``dataset`` whose hour ended before ``before``."""
    out = []
    base = dataset_dir(root, dataset)
    for hour_dir in sorted(base.glob("date=*/hour=*")):
        if not hour_dir.is_dir() or not HOUR_DIR.match(hour_dir.name):
            continue
        if hour_end(hour_dir.parent.name.removeprefix("date="), int(hour_dir.name[5:])) <= before:
            out.append(hour_dir)
    return out


def _groups(files: list[Path]) -> dict[tuple[str, int, str], list[Path]]:
    groups: dict[tuple[str, int, str], list[Path]] = {}
    for f in files:
        parsed = parse_file_name(f.name)
        if parsed is not None and parsed.ext in EXTENSIONS:
            groups.setdefault((parsed.topic, parsed.partition, parsed.ext), []).append(f)
    return groups


def compact_hour(root: Path, dataset: str, hour_dir: Path) -> HourResult | None:
    """Compact one hour; None when there was nothing to merge or it changed meanwhile."""
    schema = get_dataset(dataset).schema
    files = sorted(p for p in hour_dir.iterdir() if p.is_file())
    groups = _groups(files)
    if all(len(g) <= 1 for g in groups.values()):
        return None
    # built outside raw/ so that no reader's glob ever lists it; exchanged across directories
    staging = root / STAGING / "compact" / dataset / hour_dir.parent.name / f"{hour_dir.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    rows = 0
    try:
        for (topic, partition, ext), group in groups.items():
            fmt: Format = FORMATS[EXTENSIONS[ext]]
            if len(group) == 1:
                os.link(group[0], staging / group[0].name)
                continue
            table = pa.concat_tables([fmt.read(p, schema) for p in group]).sort_by("_offset")
            offsets = table.column("_offset")
            first, last = offsets[0].as_py(), offsets[-1].as_py()
            fmt.write(table, staging / file_name(topic, partition, first, last, ext))
            rows += table.num_rows
        fsync_dir(staging)
        with lake_lock(root, exclusive=True):
            now = sorted(p for p in hour_dir.iterdir() if p.is_file())
            if now != files:  # a late event landed here meanwhile: leave this hour for the next run
                return None
            exchange(staging, hour_dir)
            fsync_dir(hour_dir.parent)
        # unique: one hour can be compacted twice in a second (a backfill filling it up again)
        name = f"{time.time():.0f}-{dataset}-{hour_dir.parent.name}-{hour_dir.name}-{uuid.uuid4().hex[:8]}"
        trash = root / TRASH / name
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, trash)  # staging now holds the old files
        after = len([p for p in hour_dir.iterdir() if p.is_file()])
        return HourResult(dataset, hour_dir.parent.name[5:], int(hour_dir.name[5:]), len(files), after, rows)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def empty_trash(root: Path, older_than_s: float = TRASH_KEEP_S) -> int:
    trash = root / TRASH
    if not trash.exists():
        return 0
    removed = 0
    for entry in trash.iterdir():
        if time.time() - entry.stat().st_mtime > older_than_s:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def compact(root: Path, datasets: list[str] | None = None, older_than: timedelta = timedelta(hours=2),
            now: datetime | None = None, on_hour: Callable[[HourResult | None], None] | None = None
            ) -> CompactionReport:
    """Compact every closed hour (ended more than ``older_than`` ago) of the given datasets."""
    root = Path(root).resolve()
    (root / STATE).mkdir(parents=True, exist_ok=True)
    cutoff = (now or datetime.now(UTC)) - older_than
    report = CompactionReport()
    names = datasets or [d for d in DATASETS if (root / RAW / d).exists()]
    for name in names:
        for hour_dir in closed_hours(root, name, cutoff):
            result = compact_hour(root, name, hour_dir)
            if result is not None:
                report.hours.append(result)
            if on_hour is not None:
                on_hour(result)
    empty_trash(root)
    return report
