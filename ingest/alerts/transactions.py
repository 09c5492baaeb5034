"""The alerts daemon's Kafka transactions: a transactional producer opened lazily, committed with
retries, aborted on failure (see :mod:`smartcity.ingest.alerts.daemon` for the protocol)."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException, Producer, TopicPartition

from smartcity.core.errors import AlertsError
from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.settings import KafkaSettings

TXN_TIMEOUT_S = 30.0
COMMIT_ATTEMPTS = 5


def transactional_producer(kafka: KafkaSettings, transactional_id: str) -> Producer:
    """A producer whose transactions are ready (a predecessor with the same id is fenced and its open
    transaction aborted)."""
    producer = Producer(producer_config(kafka, **{
        "transactional.id": transactional_id,
        "transaction.timeout.ms": 10_000,
        "linger.ms": 2,
        "compression.type": "lz4",  # cheaper than zstd for the broker, which must read compacted batches
        "retry.backoff.ms": 10,
        "retry.backoff.max.ms": 20,
    }))
    try:
        producer.init_transactions(TXN_TIMEOUT_S)
    except KafkaException as exc:
        raise AlertsError(f"cannot start transactions: {exc.args[0].str()}") from None
    return producer


class Transaction:
    """At most one open transaction on ``producer``; ``open`` says whether one is."""

    def __init__(self, producer: Producer) -> None:
        self.producer = producer
        self.open = False

    def begin(self) -> None:
        if not self.open:
            self.producer.begin_transaction()
            self.open = True

    def send_offsets(self, offsets: list[TopicPartition], group_metadata: Any) -> None:
        self.producer.send_offsets_to_transaction(offsets, group_metadata, TXN_TIMEOUT_S)

    def commit(self) -> None:
        """Commit, retrying what the client calls retriable; a ``KafkaException`` otherwise."""
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                self.producer.commit_transaction(TXN_TIMEOUT_S)
                break
            except KafkaException as exc:
                if not exc.args[0].retriable() or attempt == COMMIT_ATTEMPTS - 1:
                    raise
        self.open = False

    def abort(self) -> None:
        try:
            self.producer.abort_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            if exc.args[0].fatal():
                raise AlertsError(f"aborting the transaction failed: {exc.args[0].str()}") from None
        self.open = False
