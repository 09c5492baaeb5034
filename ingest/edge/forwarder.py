"""The forwarding half of one lane: spooled records into Kafka, in spool order, then commit.

Each round peeks a batch after the spool's cursor, produces every record (a good one to its domain's
topic with the headers a direct producer sends, a dead letter to the dead-letter topic with the
reason, the transport and the address), waits until Kafka has acknowledged all of them, and only
then commits the batch in the spool. The producer is idempotent and never gives up on a message
(``message.timeout.ms`` 0), so while the broker is away the batch simply waits, in order, and the
spool takes what the devices keep sending. A record Kafka refuses (an authorisation error, a topic
that cannot be created) is retried with the whole batch after a pause, and logged; nothing is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import KafkaError, Message, Producer

from smartcity.core.errors import SmartcityError
from smartcity.ingest.edge.checks import CODECS
from smartcity.ingest.edge.envelope import Envelope
from smartcity.ingest.edge.lane import Lane
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.member import Header, produce
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.deadletter import bounded_payload
from smartcity.proto.codec import CONTENT_TYPE_HEADER, CONTENT_TYPES, ENCODINGS

log = logging.getLogger("smartcity.edge")

BATCH = 5_000
WAIT_STEP_S = 1.0
RETRY_PAUSE_S = 2.0


def dead_letter_headers(envelope: Envelope, transport: str, topic: str | None) -> list[Header]:
    """A dead letter's headers: its claimed encoding, why, and where it came from."""
    return [(CONTENT_TYPE_HEADER, CONTENT_TYPES[envelope.encoding].encode()),
            ("smartcity-error", (envelope.reason or "").encode()),
            ("smartcity-error-stage", b"edge"),
            ("smartcity-transport", transport.encode()),
            ("smartcity-source", envelope.source.encode()),
            ("smartcity-source-topic", (topic or "").encode())]


class Forwarder(threading.Thread):
    """Moves one lane's spool into Kafka until ``stop`` (see the module docstring)."""

    def __init__(self, lane: Lane, kafka: KafkaSettings, *, on_status: Callable[[str], None]) -> None:
        super().__init__(name=f"edge-forward-{lane.transport}", daemon=True)
        self.lane, self.kafka, self.on_status = lane, kafka, on_status
        self.stopping = threading.Event()
        self.failed: BaseException | None = None
        self.topics = {d: kafka.topic(d) for d in CODECS}
        self.deadletter = kafka.topic("deadletter")
        self.headers = {(d, e): CODECS[d].headers(e) for d in CODECS for e in ENCODINGS}
        self.producer = Producer(producer_config(kafka, **{"message.timeout.ms": 0}))
        self.forwarded = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        try:
            self._ensure_topics()
            while not self.stopping.is_set():
                if not self._round():
                    self.stopping.wait(0.02)
        except BaseException as exc:  # reported by the gateway, which stops
            self.failed = exc
        finally:
            self.producer.flush(0)

    def _ensure_topics(self) -> None:
        """Create smartcity's topics where missing (idempotent, as `smartcity topics create` does),
        retrying while Kafka is away: the devices keep landing in the spool meanwhile."""
        while not self.stopping.is_set():
            try:
                create_topics(self.kafka)
                return
            except SmartcityError as exc:
                self.on_status(f"waiting for Kafka ({self.lane.transport}): {exc}")
                log.warning("%s: cannot create the topics yet (%s); retrying", self.lane.transport, exc)
                self.stopping.wait(RETRY_PAUSE_S)

    def _round(self) -> bool:
        """Forward one batch; False when the spool had nothing to forward."""
        lane = self.lane
        records = lane.peek(BATCH)
        if not records:
            lane.update_gauges()
            return False
        envelopes = [Envelope.unpack(r.payload) for r in records]
        lane.update_gauges(oldest_ms=envelopes[0].received_ms)
        errors: list[str] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(err.str())

        dead = 0
        for envelope in envelopes:
            if envelope.dead or envelope.domain is None:
                value, cut = bounded_payload(envelope.value)
                topic = self.topics.get(envelope.domain or "")
                produce(self.producer, self.deadletter, value, envelope.device.encode(),
                        headers=dead_letter_headers(envelope, lane.transport, topic) + cut, on_delivery=delivered)
                dead += 1
            else:
                produce(self.producer, self.topics[envelope.domain], envelope.value, envelope.device.encode(),
                        headers=self.headers[(envelope.domain, envelope.encoding)], on_delivery=delivered)
        if not self._wait():
            return True  # stopping: the batch stays in the spool and is sent again after a restart
        if errors:
            self.on_status(f"Kafka refused records of {lane.transport}: {errors[0]}")
            log.error("%s: Kafka refused %d of %d records (%s); sending the batch again in %.0f s", lane.transport,
                      len(errors), len(records), errors[0], RETRY_PAUSE_S)
            self.stopping.wait(RETRY_PAUSE_S)
            return True
        lane.commit(records[-1].seq)
        metrics = lane.metrics
        metrics.forwarded.labels(lane.transport).inc(len(records) - dead)
        if dead:
            metrics.deadletters.labels(lane.transport).inc(dead)
        self.forwarded += len(records)
        return True

    def _wait(self) -> bool:
        """Wait until Kafka acknowledged everything produced; False when asked to stop first."""
        began = time.monotonic()
        waiting = False
        while self.producer.flush(WAIT_STEP_S):
            if not waiting:
                waiting = True
                self.lane.metrics.waiting.labels(self.lane.transport).set(1)
                log.warning("%s: waiting for Kafka; devices keep landing in the spool", self.lane.transport)
            self.on_status(f"waiting for Kafka ({self.lane.transport}, {time.monotonic() - began:.0f} s)")
            if self.stopping.is_set():
                return False
        if waiting:
            self.lane.metrics.waiting.labels(self.lane.transport).set(0)
            log.warning("%s: Kafka is back after %.0f s; draining the spool", self.lane.transport,
                        time.monotonic() - began)
            self.on_status("ok")
        return True
