"""A consumer group's lag, read from Kafka: committed offsets against the end of each partition, and how
many members the group has now (the I/O edge of :mod:`smartcity.ingest.kafka.scaling`)."""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, KafkaException, TopicPartition

from smartcity.ingest.kafka.admin import admin_client
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.scaling import PartitionOffsets
from smartcity.ingest.kafka.settings import KafkaSettings

log = logging.getLogger("smartcity.kafka")


def read_offsets(kafka: KafkaSettings, group: str, topics: list[str], timeout: float = 10.0
                 ) -> list[PartitionOffsets] | None:
    """Committed and end offsets of every partition of ``topics`` for ``group``; None when Kafka did not
    answer (a failed read: callers hold the current count, they never take it for zero lag)."""
    consumer = Consumer(consumer_config(kafka, group))
    try:
        metadata = consumer.list_topics(timeout=timeout)
        tps = [TopicPartition(name, p) for name in topics if (meta := metadata.topics.get(name)) is not None
               and meta.error is None for p in sorted(meta.partitions)]
        missing = [name for name in topics if name not in metadata.topics or metadata.topics[name].error]
        if missing:
            log.warning("no such topic: %s", ", ".join(missing))
        committed = consumer.committed(tps, timeout=timeout) if tps else []
        out = []
        for tp in committed:
            _, end = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=timeout)
            out.append(PartitionOffsets(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else None, end))
        return out
    except KafkaException as exc:
        log.warning("could not read the lag of %s: %s", group, exc.args[0].str() if exc.args else exc)
        return None
    finally:
        consumer.close()


def group_members(kafka: KafkaSettings, group: str, timeout: float = 10.0) -> int | None:
    """How many members ``group`` has now (None when Kafka did not say)."""
    admin = admin_client(kafka)  # kept alive until the answer: its futures die with it
    futures = admin.describe_consumer_groups([group], request_timeout=timeout)
    try:
        return len(futures[group].result(timeout=timeout + 5).members)
    except (KafkaException, TimeoutError) as exc:
        log.warning("could not describe %s: %s", group, exc.args[0].str() if isinstance(exc, KafkaException) else
                    "no answer")
        return None
