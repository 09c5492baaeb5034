"""Exactly-once landing of a batch from one Kafka topic-partition.

A batch covers a contiguous offset range of one topic-partition and becomes one file per
event-time hour. Landing goes:

1. every file is written and fsynced under ``_staging/<topic>+<partition>/``;
2. a manifest naming them is written atomically: the batch is now landed (commit point);
3. the files are renamed into their hour directories (atomic, names are pure functions of
   content, so a repeated rename replaces instead of duplicating);
4. the topic-partition's landed offset is recorded in ``_state/offsets/``; the manifest is removed.

Only after that does the sink commit the Kafka offset. :func:`recover` runs when a partition is
assigned: it rolls forward any manifest left by a crash (steps 3-4), drops unfinished staging
files, and returns the last landed offset so the consumer can start after it. A crash before step
2 loses nothing (the batch is consumed again); a crash after it duplicates nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from smartcity.storage.formats import Format
from smartcity.storage.layout import (
    STAGING,
    STATE,
    check_topic,
    data_files,
    file_name,
    inside,
    parse_file_name,
    partition_dir,
)


@dataclass(frozen=True)
class Part:
    """The rows of one batch that fall into one dataset hour."""

    dataset: str
    date: str
    hour: int
    table: pa.Table
    first_offset: int
    last_offset: int


@dataclass(frozen=True)
class LandedFile:
    dataset: str
    date: str
    hour: int
    path: Path
    rows: int
    bytes: int


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def lake_lock(root: Path, exclusive: bool = False) -> Iterator[None]:
    """Shared while the sink renames files in; exclusive while compaction swaps an hour."""
    path = root / STATE / "lake.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _tp(topic: str, partition: int) -> str:
    return f"{check_topic(topic)}+{int(partition)}"


def staging_dir(root: Path, topic: str, partition: int) -> Path:
    return root / STAGING / _tp(topic, partition)


def state_path(root: Path, topic: str, partition: int) -> Path:
    return root / STATE / "offsets" / _tp(topic, partition)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_landed_offset(root: Path, topic: str, partition: int) -> int | None:
    path = state_path(root, topic, partition)
    try:
        return int(json.loads(path.read_text())["last_offset"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return None


def _record_landed(root: Path, topic: str, partition: int, last_offset: int) -> None:
    current = read_landed_offset(root, topic, partition)
    if current is not None and current >= last_offset:
        return
    _write_atomic(state_path(root, topic, partition),
                  json.dumps({"last_offset": last_offset, "updated_at": time.time()}))


@dataclass
class Committer:
    """Lands batches of one lake in one format."""

    root: Path
    fmt: Format

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    def land(self, topic: str, partition: int, first_offset: int, last_offset: int,
             parts: Sequence[Part]) -> list[LandedFile]:
        """Land a batch covering ``first_offset..last_offset`` (inclusive). Returns the files landed."""
        stage = staging_dir(self.root, topic, partition) / f"{first_offset}-{last_offset}"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        moves: list[dict[str, str]] = []
        landed: list[LandedFile] = []
        for i, part in enumerate(parts):
            if part.table.num_rows == 0:
                continue
            name = file_name(topic, partition, part.first_offset, part.last_offset, self.fmt.ext)
            final = inside(self.root, partition_dir(self.root, part.dataset, part.date, part.hour) / name)
            tmp = stage / f"{i}.{self.fmt.ext}"
            self.fmt.write(part.table, tmp)
            moves.append({"tmp": str(tmp), "final": str(final)})
            landed.append(LandedFile(part.dataset, part.date, part.hour, final, part.table.num_rows,
                                     tmp.stat().st_size))
        fsync_dir(stage)
        manifest = staging_dir(self.root, topic, partition) / f"{first_offset}-{last_offset}.manifest"
        _write_atomic(manifest, json.dumps({"first": first_offset, "last": last_offset, "moves": moves}))
        self._roll_forward(topic, partition, manifest)
        return landed

    def _roll_forward(self, topic: str, partition: int, manifest: Path) -> None:
        spec = json.loads(manifest.read_text())
        dirs: set[Path] = set()
        with lake_lock(self.root):
            for move in spec["moves"]:
                tmp, final = Path(move["tmp"]), inside(self.root, Path(move["final"]))
                if tmp.exists():
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, final)
                    dirs.add(final.parent)
        for d in dirs:
            fsync_dir(d)
        _record_landed(self.root, topic, partition, int(spec["last"]))
        manifest.unlink()
        shutil.rmtree(manifest.parent / f"{spec['first']}-{spec['last']}", ignore_errors=True)

    def recover(self, topic: str, partition: int) -> int | None:
        """Finish what a crash left for this topic-partition; return its last landed offset."""
        stage = staging_dir(self.root, topic, partition)
        if stage.exists():
            for manifest in sorted(stage.glob("*.manifest"), key=lambda p: int(p.name.split("-")[0])):
                self._roll_forward(topic, partition, manifest)
            for leftover in stage.iterdir():
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                elif leftover.name.endswith(".tmp"):
                    leftover.unlink(missing_ok=True)
        landed = read_landed_offset(self.root, topic, partition)
        return landed if landed is not None else self.scan_landed_offset(topic, partition)

    def scan_landed_offset(self, topic: str, partition: int) -> int | None:
        """Highest last offset among landed files of the topic-partition (when no state is recorded)."""
        best: int | None = None
        raw = self.root / "raw"
        if not raw.exists():
            return None
        for dataset_path in raw.iterdir():
            for path in data_files(self.root, dataset_path.name):
                parsed = parse_file_name(path.name)
                if parsed and parsed.topic == topic and parsed.partition == partition:
                    best = parsed.last if best is None else max(best, parsed.last)
        if best is not None:
            _record_landed(self.root, topic, partition, best)
        return best
