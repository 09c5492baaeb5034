"""Test helpers: produce known messages, run sinks, read what landed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from confluent_kafka import Consumer, Producer

from smartcity.ingest.kafka.config import consumer_config, producer_config
from smartcity.ingest.kafka.member import produce as produce_with_retry
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto import BusTelemetry
from smartcity.proto.codec import BUS
from smartcity.storage.scan import read_table

T0 = 1_764_000_000_000


def bus(i: int, **overrides: object) -> BusTelemetry:
    """The i-th test reading: its odometer is i, so every landed row says which message it was."""
    fields: dict[str, object] = dict(bus_id=f"B{i % 13:02d}", route_id=f"R{i % 3}", trip_id=f"T{i % 7}",
                                     event_time_ms=T0 + i * 1000, latitude=47.37, longitude=8.54, speed_mps=7.5,
                                     passengers=i % 60, capacity=70, seated_capacity=40, odometer_m=float(i))
    fields.update(overrides)
    return BusTelemetry(**fields)


def produce(settings: KafkaSettings, topic: str, records: Iterable[tuple[bytes | None, bytes | None, list]]) -> int:
    producer = Producer(producer_config(settings))
    n = 0
    for key, value, headers in records:
        produce_with_retry(producer, topic, value, key, headers=headers)
        n += 1
    assert producer.flush(60) == 0
    return n


def produce_bus(settings: KafkaSettings, start: int, stop: int, encoding: str = "protobuf") -> int:
    headers = BUS.headers(encoding)  # type: ignore[arg-type]
    return produce(settings, settings.topic("bus"),
                   ((f"B{i % 13:02d}".encode(), BUS.encode(bus(i), encoding), headers)  # type: ignore[arg-type]
                    for i in range(start, stop)))


def landed_offsets(lake: Path, dataset: str = "bus_telemetry") -> list[tuple[int, int]]:
    t = read_table(lake, dataset)
    return sorted(zip(t.column("_partition").to_pylist(), t.column("_offset").to_pylist(), strict=True))


def topic_offsets(settings: KafkaSettings, topic: str) -> list[tuple[int, int]]:
    """Every (partition, offset) that exists in a topic."""
    consumer = Consumer(consumer_config(settings, "offsets-probe"))
    try:
        meta = consumer.list_topics(topic, timeout=10)
        out = []
        for p in meta.topics[topic].partitions:
            from confluent_kafka import TopicPartition

            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            out += [(p, o) for o in range(low, high)]
        return sorted(out)
    finally:
        consumer.close()


def consume_all(settings: KafkaSettings, topic: str, group: str, expected: int | None = None,
                rounds: int = 60) -> list:
    """Messages of ``topic`` until ``expected`` arrived (or, without it, until the topic runs dry)."""
    consumer = Consumer(consumer_config(settings, group, **{"fetch.min.bytes": 1}))
    consumer.subscribe([topic])
    got: list = []
    dry = 0
    try:
        for _ in range(rounds):
            batch = [m for m in consumer.consume(5000, timeout=1.0) if m.error() is None]
            got += batch
            dry = dry + 1 if not batch and got else 0
            if (expected is not None and len(got) >= expected) or (expected is None and dry >= 2):
                break
    finally:
        consumer.close()
    return got


def sink_command(settings: KafkaSettings, lake: Path, group: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "smartcity.cli.main", "ingest",
            "--bootstrap-servers", settings.bootstrap_servers or "",
            "--lake", str(lake), "--group", group, "--topics", "bus", *extra]


def sink_env(settings: KafkaSettings, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SMARTCITY_KAFKA_TOPIC_PREFIX"] = settings.topic_prefix
    env["SMARTCITY_HEARTBEAT"] = str(tmp / "heartbeat")
    return env


def run_sink(settings: KafkaSettings, lake: Path, group: str, *extra: str, timeout: float = 180) -> str:
    result = subprocess.run(sink_command(settings, lake, group, "--until-caught-up", *extra),
                            env=sink_env(settings, lake.parent), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
