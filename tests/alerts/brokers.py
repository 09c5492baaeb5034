"""Broker helpers of the alerts tests: produce scenarios, run the daemon, read its outputs back."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition

from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.producer import produce_records
from smartcity.proto.codec import ALERT, BUS_WINDOW
from smartcity.simulator import SimEvent, to_records

INPUTS = ("bus", "air", "station")


def create_inputs(kafka: KafkaSettings, partitions: int | None = None) -> None:
    create_topics(kafka, [kafka.topic(k) for k in INPUTS], partitions=partitions)


def produce_events(kafka: KafkaSettings, events: Iterable[SimEvent], rate: float | None = None) -> int:
    topics = {k: kafka.topic(k) for k in INPUTS}
    stats = produce_records(kafka, to_records(events, topics=topics), rate=rate)
    assert stats.failed == 0, stats.errors
    return stats.produced


def read_topic(kafka: KafkaSettings, kind: str) -> list:
    """Every committed record of an output topic, decoded (read_committed, from the beginning)."""
    topic = kafka.topic(kind)
    codec = ALERT if kind == "alerts" else BUS_WINDOW
    consumer = Consumer(consumer_config(kafka, f"read-{uuid.uuid4().hex[:8]}", **{
        "isolation.level": "read_committed", "fetch.min.bytes": 1, "enable.partition.eof": True}))
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in pending])
        out = []
        for _ in range(600):
            if not pending:
                break
            for m in consumer.consume(10_000, timeout=0.2):
                if m.error() is not None:
                    pending.discard(m.partition())
                    continue
                out.append(codec.decode(m.value()))
        assert not pending, f"could not read {topic} to its end"
        return out
    finally:
        consumer.close()


def committed(kafka: KafkaSettings, group: str) -> int:
    """Messages of the input topics the group has committed."""
    consumer = Consumer(consumer_config(kafka, group, **{"isolation.level": "read_committed"}))
    try:
        tps = []
        for kind in INPUTS:
            topic = kafka.topic(kind)
            parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            tps += [TopicPartition(topic, p) for p in parts]
        for attempt in range(50):  # a new broker may still be loading its coordinators
            try:
                return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=30))
            except KafkaException:
                if attempt == 49:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")
    finally:
        consumer.close()


def alerts_command(kafka: KafkaSettings, group: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "smartcity.cli.main", "alerts", "--bootstrap-servers", kafka.bootstrap_servers or "",
            "--group", group, *extra]


def alerts_env(kafka: KafkaSettings, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SMARTCITY_KAFKA_TOPIC_PREFIX"] = kafka.topic_prefix
    env["SMARTCITY_KAFKA_PARTITIONS"] = str(kafka.partitions)
    env["SMARTCITY_HEARTBEAT"] = str(tmp / "heartbeat")
    return env
