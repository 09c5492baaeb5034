"""The alerts daemon's Kafka transactions: one transactional producer with at most one open transaction,
commits retried while the client calls the error retriable, and a producer that can be replaced when a
transaction can no longer finish (see :mod:`smartcity.ingest.alerts.daemon` for the protocol)."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from smartcity.core.errors import AlertsError, KafkaUnavailableError
from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.settings import KafkaSettings

log = logging.getLogger("smartcity.alerts")

TXN_TIMEOUT_MS = 10_000
"""The broker aborts a transaction open longer than this (``transaction.timeout.ms``)."""
TXN_TIMEOUT_S = TXN_TIMEOUT_MS / 1000
"""How long one commit (with its retries), abort or offset hand-over may take before the transaction is
given up and the producer replaced: no longer than the broker would keep the transaction anyway."""
INIT_TIMEOUT_S = 5.0
"""How long one attempt to open a producer's transactions waits for the coordinator (then it is retried)."""
FIRST_INIT_TIMEOUT_S = 30.0
"""How long the first attempt, at start, may wait (a broker started a moment ago may still be loading)."""


def _error(exc: KafkaException) -> KafkaError:
    err = exc.args[0]
    assert isinstance(err, KafkaError)
    return err


class Transactions:
    """The member's transactional producer (``producer``) and whether a transaction is ``open`` on it.

    ``start`` opens the producer's transactions: the coordinator fences any predecessor with the same
    ``transactional_id`` (an earlier producer of this process included) and resolves the transaction
    it left, committing it if its commit had reached the coordinator, aborting it otherwise.
    """

    def __init__(self, kafka: KafkaSettings, transactional_id: str) -> None:
        self.kafka, self.transactional_id = kafka, transactional_id
        self._producer: Producer | None = None
        self._ready = False
        self.open = False

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            raise AlertsError("the transactional producer is not started")
        return self._producer

    def start(self, timeout_s: float = INIT_TIMEOUT_S) -> None:
        """Create the producer (unless it exists) and open its transactions; ``KafkaUnavailableError``
        while the coordinator cannot be reached (call again), ``AlertsError`` when it never will be."""
        if self._ready:
            return
        if self._producer is None:
            self._producer = Producer(producer_config(self.kafka, **{
                "transactional.id": self.transactional_id,
                "transaction.timeout.ms": TXN_TIMEOUT_MS,
                "linger.ms": 2,
                "compression.type": "lz4",  # cheaper than zstd for the broker, which must read compacted batches
                "retry.backoff.ms": 10,
                "retry.backoff.max.ms": 20,
            }))
        try:
            self._producer.init_transactions(timeout_s)
        except KafkaException as exc:
            err = _error(exc)
            if err.fatal() or not (err.retriable() or err.code() == KafkaError._TIMED_OUT):
                raise AlertsError(f"cannot start transactions: {err.str()}") from None
            raise KafkaUnavailableError(f"starting transactions: {err.str()}") from None
        self._ready = True
        self.open = False

    def replace(self) -> None:
        """Give up the producer and whatever it holds: its successor (``start``) fences it and resolves
        its transaction on the broker."""
        if self._producer is not None:
            with contextlib.suppress(KafkaException):  # a producer in a fatal state may refuse; it goes anyway
                self._producer.purge(in_queue=True, in_flight=True, blocking=False)
            self._producer = None
        self._ready = False
        self.open = False

    def begin(self) -> None:
        if not self.open:
            self.producer.begin_transaction()
            self.open = True

    def send_offsets(self, offsets: list[TopicPartition], group_metadata: Any) -> None:
        self.producer.send_offsets_to_transaction(offsets, group_metadata, TXN_TIMEOUT_S)

    def commit(self) -> None:
        """Commit, retrying what the client calls retriable for up to ``TXN_TIMEOUT_S``; a
        ``KafkaException`` otherwise (the transaction's outcome is then unknown until ``start``)."""
        deadline = time.monotonic() + TXN_TIMEOUT_S
        while True:
            try:
                self.producer.commit_transaction(max(1.0, deadline - time.monotonic()))
                break
            except KafkaException as exc:
                if not _error(exc).retriable() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        self.open = False

    def abort(self) -> bool:
        """Abort the open transaction; False when that did not work (replace the producer then)."""
        try:
            self.producer.abort_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            log.warning("aborting the transaction failed: %s", _error(exc).str())
            return False
        self.open = False
        return True
