"""Restoring an alerts member's partitions: their committed offsets (stable, so a predecessor's
pending transaction is resolved first), then their engine state from the changelog."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from smartcity.core.errors import AlertsError
from smartcity.ingest.alerts.changelog import read_state
from smartcity.ingest.alerts.engine import AlertEngine
from smartcity.ingest.kafka.member import fmt_partitions
from smartcity.ingest.kafka.settings import KafkaSettings

log = logging.getLogger("smartcity.alerts")

OFFSETS_TIMEOUT_S = 30.0
RETRY_CODES = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
               KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT}


def committed_offsets(consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
    """The group's committed offsets, retried while the coordinator moves or loads."""
    deadline = time.monotonic() + OFFSETS_TIMEOUT_S
    while True:
        try:
            return consumer.committed(partitions, timeout=OFFSETS_TIMEOUT_S)
        except KafkaException as exc:
            err = exc.args[0]
            if (not err.retriable() and err.code() not in RETRY_CODES) or time.monotonic() > deadline:
                raise AlertsError(f"cannot fetch committed offsets: {err.str()}",
                                  transient=err.retriable() or err.code() in RETRY_CODES) from None
            time.sleep(0.2)


class Restorer:
    """Rebuilds the engine's state of partitions from the changelog topic."""

    def __init__(self, kafka: KafkaSettings, changelog: str, group: str, inputs: Mapping[str, str],
                 engine: AlertEngine) -> None:
        self.kafka, self.changelog, self.group = kafka, changelog, group
        self.inputs, self.engine = inputs, engine
        self.changelog_partitions = 0

    def restore(self, consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Load the state of ``partitions``; the offsets to resume them from."""
        if not partitions:
            return []
        began = time.monotonic()
        committed = committed_offsets(consumer, partitions)
        too_wide = [tp for tp in partitions if tp.partition >= self.changelog_partitions]
        if too_wide:
            raise AlertsError(f"{too_wide[0].topic}[{too_wide[0].partition}] has no changelog partition "
                              f"({self.changelog} has {self.changelog_partitions})")
        fetched = time.monotonic()
        state = read_state(self.kafka, self.changelog, [tp.partition for tp in partitions], self.group)
        now = time.monotonic()
        records = 0
        for tp in partitions:
            kind = self.inputs[tp.topic]
            found = state.get((kind, tp.partition), {})
            records += len(found)
            self.engine.load_partition(kind, tp.partition, found, now)
        log.info("restored %s (%d state records) in %.2f s (offsets %.2f s, changelog %.2f s)",
                 fmt_partitions(partitions), records, time.monotonic() - began, fetched - began, now - fetched)
        return [TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                for tp in committed]
