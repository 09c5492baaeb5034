"""Realistic records for benchmarks: simulated bus telemetry, encoded once and replayed."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import cast

from confluent_kafka import Producer

from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.member import produce
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto import BusTelemetry
from smartcity.proto.codec import BUS, Encoding


@cache
def bus_messages(count: int = 50_000) -> tuple[BusTelemetry, ...]:
    """``count`` simulated bus telemetry messages of the default city's morning peak."""
    from smartcity.simulator import default_city, simulate

    start = datetime(2026, 3, 10, 6, tzinfo=UTC)
    events = simulate(default_city(), start, timedelta(hours=3), seed=1, domains=("bus",))
    # only the bus domain is simulated: every message is a BusTelemetry
    return tuple(cast(BusTelemetry, e.message) for e in itertools.islice(events, count))


def bus_values(encoding: Encoding, count: int = 50_000) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs of encoded bus telemetry."""
    return [(m.bus_id.encode(), BUS.encode(m, encoding)) for m in bus_messages(count)]


def fill_topic(settings: KafkaSettings, topic: str, n: int, encoding: Encoding = "protobuf",
               on_progress: Callable[[int], None] | None = None) -> float:
    """Produce ``n`` bus telemetry records (replaying the workload); returns msgs/s."""
    pairs = bus_values(encoding)
    headers = BUS.headers(encoding)
    producer = Producer(producer_config(settings, **{"linger.ms": 50}))
    began = time.perf_counter()
    for i in range(n):
        key, value = pairs[i % len(pairs)]
        produce(producer, topic, value, key, headers=headers)
        if i % 100_000 == 0 and on_progress is not None:
            on_progress(i)
    producer.flush(300)
    return n / (time.perf_counter() - began)
