"""Produce encoded records to Kafka: idempotent, compressed, keyed by device id, optionally paced."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Producer

from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.member import produce
from smartcity.ingest.kafka.settings import KafkaSettings

Record = tuple[str, bytes, bytes, list[tuple[str, bytes]], int]


@dataclass
class ProduceStats:
    produced: int = 0
    delivered: int = 0
    failed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.produced / self.seconds if self.seconds else 0.0


@dataclass
class Pacer:
    """Holds production back to ``speed`` x real time (event time) and/or ``rate`` messages per second."""

    speed: float | None = None
    rate: float | None = None
    _wall0: float = 0.0
    _event0: int | None = None
    _count: int = 0

    def wait(self, event_time_ms: int, poll: Callable[[float], object]) -> None:
        now = time.monotonic()
        if self._event0 is None:
            self._event0, self._wall0 = event_time_ms, now
        self._count += 1
        due = self._wall0
        if self.speed:
            due = max(due, self._wall0 + (event_time_ms - self._event0) / 1000.0 / self.speed)
        if self.rate:
            due = max(due, self._wall0 + self._count / self.rate)
        while (delay := due - time.monotonic()) > 0:
            poll(min(delay, 0.1))


def produce_records(settings: KafkaSettings, records: Iterable[Record], *, speed: float | None = None,
                    rate: float | None = None, max_messages: int | None = None,
                    on_progress: Callable[[ProduceStats, int], None] | None = None,
                    progress_every: int = 20_000, **config: object) -> ProduceStats:
    """Send ``records``; returns produced, delivered and failed counts once everything is acknowledged."""
    stats = ProduceStats()

    def on_error(err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            stats.failed += 1
            stats.errors[err.str()] = stats.errors.get(err.str(), 0) + 1

    conf = producer_config(settings, **{"delivery.report.only.error": True, "on_delivery": on_error, **config})
    producer = Producer(conf)
    pacer = Pacer(speed, rate) if (speed or rate) else None
    began = time.monotonic()
    poll = producer.poll
    for topic, key, value, headers, event_time_ms in records:
        if max_messages is not None and stats.produced >= max_messages:
            break
        if pacer is not None:
            pacer.wait(event_time_ms, poll)
        produce(producer, topic, value, key, headers=headers)
        stats.produced += 1
        stats.bytes += len(value)
        if stats.produced % progress_every == 0:
            poll(0)
            if on_progress is not None:
                on_progress(stats, event_time_ms)
    remaining = producer.flush(120)
    stats.failed += remaining
    stats.delivered = stats.produced - stats.failed
    stats.seconds = time.monotonic() - began
    return stats
