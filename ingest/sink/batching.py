"""The sink's batching policy: per-partition buffers, and when a batch is due (rows, bytes, age, or
the member's memory budget)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from confluent_kafka import Message

from smartcity.ingest.sink.settings import IngestSettings

TP = tuple[str, int]
MESSAGE_OVERHEAD = 300  # bytes a buffered message costs beyond its value (Python objects, topic, headers)


def message_bytes(messages: list[Message]) -> int:
    """What ``messages`` cost in memory while buffered (an estimate)."""
    return sum(map(len, messages)) + MESSAGE_OVERHEAD * len(messages)


@dataclass
class PartitionBuffer:
    """Messages of one topic-partition waiting to be landed, oldest first."""

    topic: str
    partition: int
    messages: list[Message] = field(default_factory=list)
    nbytes: int = 0
    since: float = 0.0

    def add(self, chunk: list[Message], nbytes: int) -> None:
        if not self.messages:
            self.since = time.monotonic()
        self.messages.extend(chunk)
        self.nbytes += nbytes

    def take(self, limit: int) -> tuple[list[Message], int]:
        """The oldest ``limit`` messages and their size in bytes."""
        if len(self.messages) <= limit:
            out, size = self.messages, self.nbytes
            self.messages, self.nbytes = [], 0
            return out, size
        out, self.messages = self.messages[:limit], self.messages[limit:]
        size = message_bytes(out)
        self.nbytes -= size
        self.since = time.monotonic()
        return out, size


def batch_limit(buf: PartitionBuffer, ingest: IngestSettings) -> int:
    """How many of ``buf``'s oldest messages the next batch takes: ``batch_max_rows``, fewer when
    that many would exceed ``batch_max_bytes``."""
    limit = ingest.batch_max_rows
    if buf.nbytes > ingest.batch_max_bytes and len(buf.messages) > 1:
        average = buf.nbytes / len(buf.messages)
        limit = max(1, min(limit, int(ingest.batch_max_bytes / average)))
    return limit


def is_full(buf: PartitionBuffer, ingest: IngestSettings) -> bool:
    return bool(buf.messages) and (len(buf.messages) >= ingest.batch_max_rows or buf.nbytes >= ingest.batch_max_bytes)


def is_old(buf: PartitionBuffer, ingest: IngestSettings, now: float) -> bool:
    return bool(buf.messages) and now - buf.since >= ingest.batch_max_age_s


class Buffers:
    """All partitions' buffers of one member, with the total they hold."""

    def __init__(self) -> None:
        self.by_key: dict[TP, PartitionBuffer] = {}
        self.total = 0

    def add(self, key: TP, run: list[Message]) -> None:
        buf = self.by_key.get(key)
        if buf is None:
            buf = self.by_key[key] = PartitionBuffer(*key)
        nbytes = message_bytes(run)
        buf.add(run, nbytes)
        self.total += nbytes

    def take(self, key: TP, ingest: IngestSettings) -> list[Message]:
        """The partition's next batch (see :func:`batch_limit`)."""
        buf = self.by_key[key]
        messages, size = buf.take(batch_limit(buf, ingest))
        self.total -= size
        return messages

    def drop(self, key: TP) -> int:
        """Forget the partition's buffer; how many messages it held."""
        buf = self.by_key.pop(key, None)
        if buf is None:
            return 0
        self.total -= buf.nbytes
        return len(buf.messages)

    def pending(self, key: TP) -> bool:
        return key in self.by_key and bool(self.by_key[key].messages)

    def biggest(self) -> TP:
        return max(self.by_key, key=lambda k: self.by_key[k].nbytes)

    def partitions(self) -> list[TP]:
        return list(self.by_key)
