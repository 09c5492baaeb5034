"""The Kafka side of ``smartcity bench transports``: topics stamped with the broker's append time, how many
messages they hold, and reading them back to match every message with what was sent."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from smartcity.bench.transport_devices import DOMAINS
from smartcity.ingest.kafka.settings import KafkaSettings

PARTITIONS = 4
LOG_APPEND = {"message.timestamp.type": "LogAppendTime"}


def create_topics(settings: KafkaSettings) -> list[str]:
    """The domain and dead-letter topics of ``settings``, stamped with the broker's append time."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic

    from smartcity.ingest.kafka.admin import TIMEOUT_S, admin_client

    names = [settings.topic(d) for d in (*DOMAINS, "deadletter")]
    admin = admin_client(settings)  # kept alive until the answers are in
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=PARTITIONS, replication_factor=1, config=LOG_APPEND) for n in names],
        request_timeout=TIMEOUT_S)
    for future in futures.values():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return names


def in_kafka(consumer: Any, topics: list[str]) -> int:
    """Messages in ``topics`` (the sum of their partitions' high watermarks)."""
    from confluent_kafka import TopicPartition

    return sum(consumer.get_watermark_offsets(TopicPartition(t, p), timeout=10, cached=False)[1]
               for t in topics for p in range(PARTITIONS))


@dataclass
class Landed:
    """What a way's topics hold, matched against the messages sent."""

    append_ms: np.ndarray       # per message sent (all phases), its first append time; -1: missing
    copies: int = 0             # extra copies of messages already seen
    strangers: int = 0          # messages matching nothing sent (other bytes, another key, dead letters)
    log_append: bool = True     # every timestamp was the broker's append time


def read_back(settings: KafkaSettings, topics: list[str], index: dict[bytes, int], keys: list[bytes]) -> Landed:
    """Every message of ``topics``, matched by value bytes (``index``: value -> message number) and key."""
    from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, TopicPartition

    from smartcity.ingest.kafka.config import consumer_config

    consumer = Consumer(consumer_config(settings, f"{settings.topic_prefix}-check"))
    landed = Landed(np.full(len(keys), -1, dtype=np.int64))
    try:
        ends = {(t, p): consumer.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1]
                for t in topics for p in range(PARTITIONS)}
        left = {tp for tp, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(t, p, 0) for t, p in left])
        deadline = time.monotonic() + 60
        while left and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 0.5):
                if msg.error():
                    continue
                tp = (msg.topic() or "", msg.partition() or 0)
                if (msg.offset() or 0) + 1 >= ends[tp]:
                    left.discard(tp)
                kind, ts = msg.timestamp()
                landed.log_append &= kind == TIMESTAMP_LOG_APPEND_TIME
                i = index.get(msg.value() or b"", -1)
                if i < 0 or msg.key() != keys[i]:
                    landed.strangers += 1
                elif landed.append_ms[i] >= 0:
                    landed.copies += 1
                    landed.append_ms[i] = min(landed.append_ms[i], ts)
                else:
                    landed.append_ms[i] = ts
        if left:
            raise RuntimeError(f"could not read {sorted(left)} to their end within 60 s")
    finally:
        consumer.close()
    return landed
