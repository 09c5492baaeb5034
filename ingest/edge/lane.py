"""One transport's way into the spool: check each message, drop replays, append durably, and say
which device messages may now be acknowledged.

A message is acknowledged to its device only after :meth:`Lane.accept` returned: its record (or, for a
replay, the earlier one) is fsynced in the spool. A dead letter is spooled too, so it reaches the
dead-letter topic in order with the rest. Replays (:mod:`smartcity.ingest.device_seq`) are
acknowledged again (the device lost the first acknowledgement) but not spooled. The replay marks live
in memory, rebuilt at start from the records still spooled; a replay of a record that had already
left the spool before a restart is forwarded again, and the sink drops it by the same ``device_seq``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from smartcity.ingest.device_seq import DeviceSeq, SeqMarks
from smartcity.ingest.edge.checks import CODECS, Incoming, check
from smartcity.ingest.edge.envelope import Envelope
from smartcity.ingest.edge.metrics import EdgeMetrics
from smartcity.ingest.edge.spool import Spool, Spooled, SpoolFull
from smartcity.proto.codec import Encoding

log = logging.getLogger("smartcity.edge")

FULL_RETRY_S = 0.05
Acks = dict[str, list[int]]  # address -> the device_seq numbers of it now safe in the spool


def ack_text(seqs: list[int]) -> bytes:
    """``3,5-9,12``: the numbers as ASCII ranges (what ZeroMQ and Zenoh acknowledgements carry)."""
    out: list[str] = []
    ordered = sorted(set(seqs))
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ",".join(out).encode()


def ack_numbers(text: bytes) -> list[int]:
    """The numbers of :func:`ack_text`."""
    out: list[int] = []
    for part in text.decode().split(","):
        low, _, high = part.partition("-")
        out += range(int(low), int(high or low) + 1)
    return out


def device_seq(envelope: Envelope) -> int | None:
    """The device_seq of a spooled good record (None when unnumbered)."""
    assert envelope.domain is not None
    message = CODECS[envelope.domain].decode_as(envelope.value, envelope.encoding)
    return message.device_seq if message.HasField("device_seq") else None


class Lane:
    """The spool of one transport (``<spool_dir>/<transport>``), shared by its receiver and its forwarder."""

    def __init__(self, transport: str, spool_dir: Path, *, prefix: str, default_encoding: Encoding,
                 metrics: EdgeMetrics, max_bytes: int, segment_bytes: int = 64 << 20) -> None:
        self.transport, self.prefix, self.default_encoding = transport, prefix, default_encoding
        self.metrics = metrics
        self.lock = threading.Lock()
        self.spool = Spool(spool_dir / transport, max_bytes=max_bytes, segment_bytes=segment_bytes)
        self.marks = SeqMarks()  # keyed '<domain>/<device>'
        self.full = False
        pending = 0
        for record in self.spool.records():
            envelope = Envelope.unpack(record.payload)
            pending += 1
            if not envelope.dead and envelope.domain is not None and (seq := device_seq(envelope)) is not None:
                self.marks.take(f"{envelope.domain}/{envelope.device}", seq)
        if pending:
            log.info("%s: %d records spooled before the restart are still to be forwarded", transport, pending)
        for gauge in (metrics.spool_full, metrics.waiting):
            gauge.labels(transport).set(0)
        for counter in (metrics.received, metrics.spooled, metrics.forwarded, metrics.deadletters,
                        metrics.duplicates):
            counter.labels(transport)  # every series exists from the start, at 0
        self.update_gauges()

    def accept(self, batch: list[Incoming], keep_trying: Callable[[], bool]) -> Acks | None:
        """Spool ``batch`` (waiting while the spool is full, as long as ``keep_trying()``); the
        acknowledgements it earned, or None when it gave up (nothing of it is then acknowledged)."""
        now_ms = int(time.time() * 1000)
        acks: Acks = {}
        before: dict[str, DeviceSeq | None] = {}  # the marks as they were, should the append fail
        records: list[bytes] = []
        duplicates = 0
        for message in batch:
            envelope, seq = check(message, prefix=self.prefix, default_encoding=self.default_encoding,
                                  received_ms=now_ms)
            if seq is not None and envelope.domain is not None:
                acks.setdefault(message.address, []).append(seq)
                key = f"{envelope.domain}/{envelope.device}"
                if key not in before:
                    mark = self.marks.devices.get(key)
                    before[key] = None if mark is None else mark.copy()
                if not self.marks.take(key, seq):
                    duplicates += 1
                    continue
            records.append(envelope.pack())
        label = self.transport
        self.metrics.received.labels(label).inc(len(batch))
        if not self._append(records, keep_trying):
            for key, mark in before.items():  # not durable: the device sends them again, and they must be new
                if mark is None:
                    self.marks.devices.pop(key, None)
                else:
                    self.marks.devices[key] = mark
            return None
        if duplicates:
            self.metrics.duplicates.labels(label).inc(duplicates)
        self.metrics.spooled.labels(label).inc(len(records))
        return acks

    def _append(self, records: list[bytes], keep_trying: Callable[[], bool]) -> bool:
        """Append ``records`` in chunks of at most a quarter of the spool (so a big batch always fits once
        Kafka took some), each waiting while the spool is full; False when told to give up."""
        chunk: list[bytes] = []
        size = 0
        for record in records:
            if chunk and size + len(record) > self.spool.max_bytes // 4:
                if not self._append_chunk(chunk, keep_trying):
                    return False
                chunk, size = [], 0
            chunk.append(record)
            size += len(record) + 16
        return self._append_chunk(chunk, keep_trying) if chunk else True

    def _append_chunk(self, records: list[bytes], keep_trying: Callable[[], bool]) -> bool:
        warned = False
        while True:
            try:
                with self.lock:
                    self.spool.append(records)
                if self.full:
                    self.full = False
                    self.metrics.spool_full.labels(self.transport).set(0)
                    log.warning("%s: the spool has room again; taking messages", self.transport)
                return True
            except SpoolFull as exc:
                if len(records) > 1:  # room for less than this chunk (a full disk): try its halves
                    half = len(records) // 2
                    return (self._append_chunk(records[:half], keep_trying)
                            and self._append_chunk(records[half:], keep_trying))
                if not warned:
                    self.full = warned = True
                    self.metrics.spool_full.labels(self.transport).set(1)
                    log.warning("%s: %s; holding the devices back until Kafka takes some", self.transport, exc)
                if not keep_trying():
                    return False
                time.sleep(FULL_RETRY_S)

    def peek(self, limit: int) -> list[Spooled]:
        with self.lock:
            return self.spool.peek(limit)

    def commit(self, seq: int) -> None:
        with self.lock:
            self.spool.commit(seq)
        self.update_gauges()

    def update_gauges(self, oldest_ms: int | None = None) -> None:
        label = self.transport
        self.metrics.spool_bytes.labels(label).set(self.spool.size)
        self.metrics.spool_records.labels(label).set(self.spool.pending)
        if oldest_ms is not None or not self.spool.pending:
            age = 0.0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / 1000)
            self.metrics.spool_age.labels(label).set(age)

    def close(self) -> None:
        with self.lock:
            self.spool.close()
