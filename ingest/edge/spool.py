"""The edge gateway's store-and-forward spool: a bounded, fsynced, append-only log on local disk.

Protocol (numbered, like the lake's commit):

1. ``append`` writes records to the current segment (``<dir>/<first sequence:020d>.spool``) and
   fsyncs it before returning; only then may the gateway acknowledge the device. A segment that
   reaches ``segment_bytes`` is closed and a new one started (the directory is fsynced too).
2. ``peek`` reads records after the cursor, in append order, without consuming them.
3. ``commit(seq)`` records that every record up to ``seq`` reached Kafka: the cursor file is
   replaced atomically (write, fsync, rename, fsync the directory) and fully forwarded segments are
   deleted. After a crash, records after the cursor are sent again: forwarding is at least once,
   and the device sequence numbers make it exactly once in the lake.
4. ``open`` recovers: a torn frame at the end of the last segment (a crash in the middle of step 1,
   so never acknowledged) is cut off and logged; a bad frame anywhere else is damage, reported as a
   one-line ``CorruptStateError`` naming the file and offset.

Bounded: when the segments hold ``max_bytes``, or the disk refuses to grow them (the partial write is
cut off again), ``append`` raises ``SpoolFull`` and the gateway applies back-pressure to the devices
(it never drops a message silently).

Frame: ``length u32 | crc32 u32 | sequence u64 | payload`` (little endian); the crc covers sequence
and payload.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from smartcity.core.errors import CorruptStateError, TransientError
from smartcity.storage.commit import fsync_dir

log = logging.getLogger("smartcity.edge")

HEADER = struct.Struct("<IIQ")
SUFFIX = ".spool"
CURSOR = "cursor"


class SpoolFull(TransientError):
    """The spool holds its maximum: hold the device back until Kafka takes some."""


@dataclass(frozen=True, slots=True)
class Spooled:
    seq: int
    payload: bytes


def _frames(path: Path, start: int = 0) -> Iterator[tuple[int, int, bytes | None]]:
    """(offset, sequence, payload) of each frame from byte ``start``; payload None marks a bad frame there."""
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read()
    at = 0
    while at < len(data):
        if len(data) - at < HEADER.size:
            yield start + at, -1, None
            return
        length, crc, seq = HEADER.unpack_from(data, at)
        end = at + HEADER.size + length
        payload = data[at + HEADER.size:end]
        if end > len(data) or zlib.crc32(data[at + 8:end]) != crc:
            yield start + at, -1, None
            return
        yield start + at, seq, payload
        at = end


class Spool:
    """A spool in ``directory`` (created if missing); see the module docstring."""

    def __init__(self, directory: Path, *, max_bytes: int = 1 << 30, segment_bytes: int = 64 << 20) -> None:
        self.dir = Path(directory)
        self.max_bytes, self.segment_bytes = max_bytes, segment_bytes
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cursor = self._read_cursor()
        self.next_seq = self.cursor + 1
        self._sizes: dict[Path, int] = {}
        self._last: dict[Path, int] = {}
        self._read: tuple[Path, int, int] | None = None  # where the last peek stopped: segment, byte, sequence
        self._recover()
        self._file = None if not self._sizes else open(self._segments()[-1], "ab")  # noqa: SIM115

    # -- recovery -------------------------------------------------------------------------------

    def _segments(self) -> list[Path]:
        return sorted(self.dir.glob(f"*{SUFFIX}"))

    def _read_cursor(self) -> int:
        path = self.dir / CURSOR
        if not path.exists():
            return 0
        text = path.read_text().strip()
        if not text.isdigit():
            raise CorruptStateError(f"{path}: not a sequence number ({text[:40]!r}); restore it or delete the spool "
                                    "folder after checking its records reached Kafka")
        return int(text)

    def _recover(self) -> None:
        segments = self._segments()
        for i, path in enumerate(segments):
            last_seq = self.cursor
            size = 0
            for offset, seq, payload in _frames(path):
                if payload is None:
                    if i < len(segments) - 1:
                        raise CorruptStateError(f"{path}: damaged record at byte {offset}; the records after it "
                                                "cannot be read (move the file aside to go on without them)")
                    dropped = path.stat().st_size - offset
                    with path.open("r+b") as fh:
                        fh.truncate(offset)
                        fh.flush()
                        os.fsync(fh.fileno())
                    log.warning("%s: cut a torn record of %d bytes at byte %d (written during a crash, never "
                                "acknowledged)", path, dropped, offset)
                    break
                last_seq, size = seq, offset + HEADER.size + len(payload)
            self._sizes[path], self._last[path] = size, last_seq
            self.next_seq = max(self.next_seq, last_seq + 1)
        for path in [p for p in self._segments() if self._last.get(p, 0) <= self.cursor and p != self._tail()]:
            self._drop(path)

    def _tail(self) -> Path | None:
        segments = self._segments()
        return segments[-1] if segments else None

    def _drop(self, path: Path) -> None:
        path.unlink()
        self._sizes.pop(path, None)
        self._last.pop(path, None)

    # -- the protocol ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Bytes the segments hold."""
        return sum(self._sizes.values())

    @property
    def pending(self) -> int:
        """Records appended and not yet committed as forwarded."""
        return self.next_seq - 1 - self.cursor

    def append(self, payloads: Iterable[bytes]) -> int:
        """Step 1: append ``payloads`` durably; their last sequence number (``SpoolFull`` when no room)."""
        frames: list[bytes] = []
        for payload in payloads:
            seq = self.next_seq + len(frames)
            body = struct.pack("<Q", seq) + payload
            frames.append(struct.pack("<II", len(payload), zlib.crc32(body)) + body)
        size = sum(map(len, frames))
        if not frames:
            return self.next_seq - 1
        if self.size + size > self.max_bytes:
            raise SpoolFull(f"the spool {self.dir} is full ({self.size:,} of {self.max_bytes:,} bytes)")
        tail = self._tail()
        if tail is not None and self._sizes[tail] and self._last[tail] <= self.cursor:  # all forwarded: start afresh
            if self._file is not None:
                self._file.close()
                self._file = None
            self._drop(tail)
            tail = None
        if self._file is None or tail is None or self._sizes[tail] >= self.segment_bytes:
            tail = self._rotate()
        assert self._file is not None
        try:
            self._file.write(b"".join(frames))
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:  # a full disk, a file-size limit: leave no partial record behind
            with contextlib.suppress(OSError):
                self._file.close()  # its buffer cannot be written either: closing says so again
            self._file = None
            with tail.open("r+b") as fh:
                fh.truncate(self._sizes[tail])
            self._file = open(tail, "ab")  # noqa: SIM115
            raise SpoolFull(f"the spool {self.dir} cannot grow: {exc.strerror or exc}") from None
        self.next_seq += len(frames)
        self._sizes[tail] += size
        self._last[tail] = self.next_seq - 1
        return self.next_seq - 1

    def _rotate(self) -> Path:
        if self._file is not None:
            self._file.close()
        path = self.dir / f"{self.next_seq:020d}{SUFFIX}"
        self._file = open(path, "ab")  # noqa: SIM115
        fsync_dir(self.dir)
        self._sizes[path], self._last[path] = 0, self.next_seq - 1
        return path

    def peek(self, limit: int = 10_000) -> list[Spooled]:
        """Step 2: up to ``limit`` records after the cursor, in order (reading on from where the last
        peek stopped when the cursor has reached it, so draining reads each segment once)."""
        out: list[Spooled] = []
        resume = self._read if self._read is not None and self._read[2] <= self.cursor else None
        for path in self._segments():
            if self._last.get(path, 0) <= self.cursor or (resume is not None and path < resume[0]):
                continue
            start = resume[1] if resume is not None and path == resume[0] else 0
            for offset, seq, payload in _frames(path, start):
                if payload is None:
                    break
                if seq > self.cursor:
                    out.append(Spooled(seq, payload))
                    self._read = (path, offset + HEADER.size + len(payload), seq)
                    if len(out) >= limit:
                        return out
        return out

    def records(self) -> Iterator[Spooled]:
        """Every record after the cursor, in order (without moving where ``peek`` reads on from)."""
        for path in self._segments():
            if self._last.get(path, 0) <= self.cursor:
                continue
            for _, seq, payload in _frames(path):
                if payload is None:
                    break
                if seq > self.cursor:
                    yield Spooled(seq, payload)

    def commit(self, seq: int) -> None:
        """Step 3: every record up to ``seq`` is in Kafka."""
        if seq <= self.cursor:
            return
        if seq >= self.next_seq:
            raise ValueError(f"cannot commit {seq}: the spool's last record is {self.next_seq - 1}")
        tmp = self.dir / f".{CURSOR}.tmp"
        with tmp.open("w") as fh:
            fh.write(f"{seq}\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.dir / CURSOR)
        fsync_dir(self.dir)
        self.cursor = seq
        tail = self._tail()
        for path in [p for p in self._segments() if self._last.get(p, 0) <= seq and p != tail]:
            self._drop(path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
