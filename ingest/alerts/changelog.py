"""The changelog topic: a compacted log of the engine's state, written in the same transactions as the
outputs and the consumed offsets, and read back when partitions are assigned.

Record key ``["<group>", "<kind>", <partition>, "<entity>"]`` as JSON (``["smartcity-alerts", "bus", 3,
"B017"]``; entity ``""`` is partition 3's clock), value the entity's JSON, or a tombstone when it has
nothing left to keep. Keys carry the consumer group, so groups sharing a topic prefix keep apart. The
state of input partition ``p`` (of any stream) lives in changelog partition ``p``, so the changelog
needs at least as many partitions as the widest input topic.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from smartcity.core.errors import AlertsError, KafkaSetupError
from smartcity.ingest.kafka.admin import admin_client
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings

log = logging.getLogger("smartcity.alerts")

TIMEOUT_S = 30.0
RESTORE_TIMEOUT_S = 300.0
COMPACTED: dict[str, str] = {
    "cleanup.policy": "compact",
    "segment.ms": str(10 * 60 * 1000),       # roll segments often so the cleaner keeps restores short
    "min.cleanable.dirty.ratio": "0.1",
    "delete.retention.ms": str(24 * 3600 * 1000),
}


def changelog_key(group: str, kind: str, partition: int, entity: str) -> bytes:
    return json.dumps([group, kind, partition, entity], separators=(",", ":")).encode()


class ChangelogKeys:
    """:func:`changelog_key` of one group, remembered (up to ``limit`` keys) for the hot path."""

    def __init__(self, group: str, limit: int = 1_000_000) -> None:
        self.group, self.limit = group, limit
        self._keys: dict[tuple[str, int, str], bytes] = {}

    def __call__(self, kind: str, partition: int, entity: str) -> bytes:
        key = self._keys.get((kind, partition, entity))
        if key is None:
            if len(self._keys) >= self.limit:
                self._keys.clear()
            key = self._keys[(kind, partition, entity)] = changelog_key(self.group, kind, partition, entity)
        return key


def group_records(group: str, records: Iterable[tuple[bytes, bytes | None]],
                  ) -> dict[tuple[str, int], dict[str, bytes]]:
    """Latest value per key of ``group``, by (kind, partition); a tombstone drops the key."""
    out: dict[tuple[str, int], dict[str, bytes]] = {}
    for raw, value in records:
        try:
            owner, kind, partition, entity = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if owner != group:
            continue
        bucket = out.setdefault((kind, int(partition)), {})
        if value is None:
            bucket.pop(entity, None)
        else:
            bucket[entity] = value
    return out


def ensure_changelog(kafka: KafkaSettings, topic: str, partitions: int) -> int:
    """Create the compacted changelog topic (or make an existing one compacted); its partition count."""
    admin = admin_client(kafka)
    new = NewTopic(topic, num_partitions=partitions, replication_factor=kafka.replication_factor, config=COMPACTED)
    for future in admin.create_topics([new], request_timeout=TIMEOUT_S).values():
        try:
            future.result()
            return partitions
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise KafkaSetupError(f"creating the changelog topic {topic} failed: {exc.args[0].str()}") from None
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource], request_timeout=TIMEOUT_S)[resource].result()
    policy = configs.get("cleanup.policy")
    if policy is None or "compact" not in str(policy.value):
        log.warning("changelog topic %s had cleanup.policy=%s; making it compacted", topic,
                    policy.value if policy else None)
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in COMPACTED.items()]
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=entries)
        for future in admin.incremental_alter_configs([resource]).values():
            future.result()
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        found = admin.list_topics(topic, timeout=TIMEOUT_S).topics.get(topic)
        if found is not None and found.error is None and found.partitions:
            return len(found.partitions)
        if time.monotonic() > deadline:
            raise KafkaSetupError(f"the changelog topic {topic} has no partitions")
        time.sleep(0.2)


def topic_partitions(kafka: KafkaSettings, topics: Iterable[str]) -> dict[str, int]:
    """Partition counts of the topics that exist."""
    metadata = admin_client(kafka).list_topics(timeout=TIMEOUT_S)
    out = {}
    for name in topics:
        t = metadata.topics.get(name)
        if t is not None and t.error is None:
            out[name] = len(t.partitions)
    return out


def read_state(kafka: KafkaSettings, topic: str, partitions: Iterable[int],
               state_group: str) -> dict[tuple[str, int], dict[str, bytes]]:
    """The latest committed value of every key of ``state_group`` in changelog ``partitions``, by (kind, partition).

    Reads with ``read_committed`` up to each partition's end, so records of aborted (or still open)
    transactions are never restored.
    """
    wanted = sorted(set(partitions))
    if not wanted:
        return {}
    consumer = Consumer(consumer_config(kafka, f"{state_group}.restore", **{"enable.partition.eof": True,
                                                          "isolation.level": "read_committed",
                                                          "fetch.wait.max.ms": 5}))
    records: list[tuple[bytes, bytes | None]] = []
    try:
        pending = set()
        for p in wanted:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S)
            if high > low:
                pending.add(p)
        if not pending:
            return {}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(pending)])
        deadline = time.monotonic() + RESTORE_TIMEOUT_S
        while pending:
            if time.monotonic() > deadline:
                raise KafkaSetupError(f"restoring state from {topic} took longer than {RESTORE_TIMEOUT_S:.0f} s",
                                      transient=True)
            for m in consumer.consume(10_000, timeout=0.05):
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(m.partition())
                        continue
                    raise KafkaSetupError(f"reading the changelog {topic}: {err.str()}", transient=err.retriable())
                key = m.key()
                if key is not None:
                    records.append((key, m.value()))
    finally:
        consumer.close()
    return group_records(state_group, records)


def ensure_changelog_for(kafka: KafkaSettings, changelog: str, inputs: Iterable[str]) -> int:
    """The changelog of a member reading ``inputs``, with a partition for every input partition; its
    partition count. An existing changelog narrower than an input is an error naming the fix."""
    counts = topic_partitions(kafka, inputs)
    widest = max([kafka.partitions, *counts.values()])
    have = ensure_changelog(kafka, changelog, widest)
    for topic, n in counts.items():
        if n > have:
            raise AlertsError(f"{topic} has {n} partitions but the changelog {changelog} only "
                              f"{have}; give the changelog at least {n}")
    return have
