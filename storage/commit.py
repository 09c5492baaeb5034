"""Exactly-once landing of a batch from one Kafka topic-partition.

A batch covers a contiguous offset range of one topic-partition and becomes one file per
event-time hour. Landing goes:

1. every file is written and fsynced under ``_staging/<topic>+<partition>/``;
2. under the partition's lock (``_state/locks/<topic>+<partition>``, an exclusive ``flock``), the
   lake's landed offset is read and compared: the batch lands only if it starts right after it
   (``first_offset == landed + 1``) and, when its replays were dropped (``smartcity.ingest.sink.replays``),
   the marks it was filtered against are those of that offset. Otherwise it is *fenced*
   (:class:`FencedBatch`): another member (a new owner after a rebalance, or a zombie's successor) has
   landed that range, and the staged files are dropped;
3. still under the lock, a manifest naming the files and the batch's *marks* (for each numbered
   device in it, its highest ``device_seq`` and the holes below, after the batch) is written
   atomically: the batch is now landed (commit point);
4. the files are renamed into their hour directories (atomic, names are pure functions of
   content, so a repeated rename replaces instead of duplicating);
5. the topic-partition's record in ``_state/offsets/`` is replaced atomically by one holding the
   batch's last offset and the partition's marks with the batch's devices replaced by the batch's
   marks, so the landed offset and the marks always agree; the manifest is removed; the lock is released.

The compare-and-advance of steps 2-5 is atomic among every process that lands into the lake, on
any filesystem where ``flock`` is shared by all of them: local filesystems (ext4, xfs, btrfs, tmpfs)
and NFSv4 (Linux implements ``flock`` there with NFS byte-range locks). Object stores and
filesystems without working locks (some FUSE mounts, SMB without locking) are not supported.

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
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from smartcity.core.errors import CorruptStateError, FencedBatch
from smartcity.core.faults import fault_point
from smartcity.storage.device_marks import (
    DEVICE_SEQ,
    LandedMarks,
    Marks,
    marks_of,
    merge_marks,
    parse_marks,
    scan_marks,
)
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


@contextlib.contextmanager
def partition_lock(root: Path, topic: str, partition: int) -> Iterator[None]:
    """Exclusive, per topic-partition, across processes: held from the fencing check to the record."""
    path = root / STATE / "locks" / _tp(topic, partition)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
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
    """The last offset landed for the topic-partition; ``None`` when nothing is recorded.

    A state file that cannot be read raises :class:`CorruptStateError` naming it: guessing (from
    the files, or from zero) could skip or re-land data silently."""
    record = read_landed_record(root, topic, partition)
    return None if record is None else int(record["last_offset"])


def read_landed_record(root: Path, topic: str, partition: int) -> dict[str, Any] | None:
    """The partition's record: ``last_offset`` and, when known, the Kafka ``topic_id`` it was landed from."""
    path = state_path(root, topic, partition)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        record = dict(json.loads(text))
        int(record["last_offset"])
        return record
    except (ValueError, KeyError, TypeError):
        raise CorruptStateError(
            f"cannot read the landed offset of {topic}[{partition}] from {path}: {text[:80]!r}; remove the file "
            "and the sink rebuilds it from the landed files' names") from None


def _read_manifest(path: Path) -> dict[str, Any]:
    text = path.read_text()
    try:
        spec = json.loads(text)
        int(spec["first"]), int(spec["last"]), list(spec["moves"])
        parse_marks(spec.get("device_marks") or {})
    except (ValueError, KeyError, TypeError):
        raise CorruptStateError(
            f"damaged landing manifest {path} ({len(text)} bytes); the batch it names was not renamed into "
            "the lake: remove the manifest (its batch is read from Kafka again)") from None
    return dict(spec)


def read_device_marks(root: Path, topic: str, partition: int) -> Marks:
    """Device -> highest ``device_seq`` landed (empty when none); :class:`CorruptStateError` when unreadable."""
    return marks_of(read_landed_record(root, topic, partition), state_path(root, topic, partition), topic, partition)


def _record_landed(root: Path, topic: str, partition: int, last_offset: int, topic_id: str | None = None,
                   marks: Marks | None = None) -> None:
    """Move the record to ``last_offset`` and merge ``marks`` into its marks, in one atomic replace."""
    path = state_path(root, topic, partition)
    current = read_landed_record(root, topic, partition)
    known = marks_of(current, path, topic, partition)
    merged = merge_marks(known, marks or {})
    if current is not None and int(current["last_offset"]) >= last_offset and merged == known:
        return
    last = max(last_offset, int(current["last_offset"])) if current is not None else last_offset
    record: dict[str, Any] = {"last_offset": last, "updated_at": time.time()}
    known_id = topic_id or (current or {}).get("topic_id")
    if known_id:
        record["topic_id"] = known_id
    if merged:
        record[DEVICE_SEQ] = merged
    _write_atomic(path, json.dumps(record))


@dataclass
class Committer:
    """Lands batches of one lake in one format."""

    root: Path
    fmt: Format

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    def land(self, topic: str, partition: int, first_offset: int, last_offset: int,
             parts: Sequence[Part], *, fence: bool = True, topic_id: str | None = None,
             device_marks: Marks | None = None, marks_base: int | None = None) -> list[LandedFile]:
        """Land a batch covering ``first_offset..last_offset`` (inclusive). Returns the files landed.

        ``fence=False`` is for writers that are not Kafka consumers (the simulator, archive imports):
        their offsets are sequence numbers of their own, and landing a range again replaces its files.
        ``device_marks`` (device -> highest ``device_seq`` in the batch) are recorded with the offset; the
        batch was filtered against the marks of landed offset ``marks_base`` (:meth:`landed_marks`), and is
        fenced unless the partition's landed offset is still that one at the commit point."""
        # a directory of this process's own: a zombie and the new owner may stage the same range at once
        stage = staging_dir(self.root, topic, partition) / f"{first_offset}-{last_offset}.{uuid.uuid4().hex[:12]}"
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
        fault_point("staged")
        manifest = staging_dir(self.root, topic, partition) / f"{first_offset}-{last_offset}.manifest"
        with partition_lock(self.root, topic, partition):
            self._finish_manifests(topic, partition)
            current = read_landed_offset(self.root, topic, partition)
            staged = all(Path(m["tmp"]).exists() for m in moves)  # a recovery may have swept them meanwhile
            stale_marks = device_marks is not None and current != marks_base
            if (fence and current is not None and current != first_offset - 1) or not staged or stale_marks:
                shutil.rmtree(stage, ignore_errors=True)
                raise FencedBatch(topic, partition, first_offset, current)
            spec: dict[str, Any] = {"first": first_offset, "last": last_offset, "moves": moves,
                                    "stage": stage.name, "topic_id": topic_id}
            if device_marks:
                spec["device_marks"] = device_marks
            _write_atomic(manifest, json.dumps(spec))
            fault_point("manifest")
            self._roll_forward(topic, partition, manifest)
        return landed

    def skip_to(self, topic: str, partition: int, offset: int) -> None:
        """Record that the partition's next batch starts at ``offset`` although the lake holds less:
        the offsets in between left the topic (retention) before they were landed."""
        with partition_lock(self.root, topic, partition):
            record = read_landed_record(self.root, topic, partition) or {}
            current = record.get("last_offset")
            if current is None or int(current) < offset - 1:
                _write_atomic(state_path(self.root, topic, partition),
                              json.dumps({**record, "last_offset": offset - 1, "updated_at": time.time(),
                                          "skipped_from": current}))

    def landed_marks(self, topic: str, partition: int) -> LandedMarks:
        """The partition's device marks with the landed offset they belong to (one read of its record)."""
        record = read_landed_record(self.root, topic, partition)
        marks = marks_of(record, state_path(self.root, topic, partition), topic, partition)
        return LandedMarks(None if record is None else int(record["last_offset"]), marks)

    def landed_topic_id(self, topic: str, partition: int) -> str | None:
        """The Kafka topic id the partition's landed offsets came from (unknown for older lakes)."""
        record = read_landed_record(self.root, topic, partition)
        return None if record is None else record.get("topic_id")

    def _finish_manifests(self, topic: str, partition: int) -> None:
        stage = staging_dir(self.root, topic, partition)
        if stage.exists():
            for manifest in sorted(stage.glob("*.manifest"), key=lambda p: int(p.name.split("-")[0])):
                self._roll_forward(topic, partition, manifest)

    def _roll_forward(self, topic: str, partition: int, manifest: Path) -> None:
        spec = _read_manifest(manifest)
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
        fault_point("renamed")
        _record_landed(self.root, topic, partition, int(spec["last"]), spec.get("topic_id"), spec.get("device_marks"))
        fault_point("recorded")
        manifest.unlink()
        shutil.rmtree(manifest.parent / str(spec.get("stage", f"{spec['first']}-{spec['last']}")), ignore_errors=True)

    def recover(self, topic: str, partition: int) -> int | None:
        """Finish what a crash left for this topic-partition; return its last landed offset."""
        stage = staging_dir(self.root, topic, partition)
        with partition_lock(self.root, topic, partition):
            self._finish_manifests(topic, partition)
            if stage.exists():
                for leftover in stage.iterdir():
                    if leftover.is_dir():
                        shutil.rmtree(leftover, ignore_errors=True)
                    elif leftover.name.endswith(".tmp"):
                        leftover.unlink(missing_ok=True)
            landed = read_landed_offset(self.root, topic, partition)
            return landed if landed is not None else self.scan_landed_offset(topic, partition)

    def scan_landed_offset(self, topic: str, partition: int) -> int | None:
        """Highest last offset among landed files of the topic-partition (when no state is recorded); the
        device marks are rebuilt from the files' rows with it."""
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
            _record_landed(self.root, topic, partition, best, marks=scan_marks(self.root, topic, partition))
        return best
