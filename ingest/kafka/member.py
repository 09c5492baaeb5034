"""What every long-running consumer-group member shares: its client config, Kafka error handling,
the wait for a first assignment, and producing with back-pressure.

The sink (:mod:`smartcity.ingest.sink.daemon`) and the alerts daemon
(:mod:`smartcity.ingest.alerts.daemon`) are both built on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from smartcity.core.errors import SmartcityError
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings

ASSIGN_TIMEOUT_S = 90.0
"""A bounded run that is given no partition within this long fails (the topics probably don't exist)."""
REJOIN_WINDOW_S = 600.0
"""A static member fenced twice within this long stops: another process uses its instance id."""

log = logging.getLogger("smartcity.kafka")

Header = tuple[str, str | bytes | None]


class StatsSink(Protocol):
    def on_stats(self, stats_json: str) -> None: ...


def member_config(kafka: KafkaSettings, group: str, *, instance_id: str | None = None,
                  metrics: StatsSink | None = None, **extra: Any) -> dict[str, Any]:
    """A group member's consumer config: cooperative rebalancing, a member killed with ``-9`` leaves
    the group after 10 s (not librdkafka's default 45 s), optional static membership and statistics."""
    conf: dict[str, Any] = {
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
    }
    if instance_id:
        conf["group.instance.id"] = instance_id
    if metrics is not None:
        conf["statistics.interval.ms"] = 5000
        conf["stats_cb"] = metrics.on_stats
    conf.update(extra)
    return consumer_config(kafka, group, **conf)


class InstanceFenced(SmartcityError):
    """The broker gave this static member's instance id to a newer member id (see :class:`Rejoins`)."""


def check_error(err: KafkaError, error: type[SmartcityError], *, missing_topic_fatal: bool = False) -> None:
    """Raise ``InstanceFenced`` for a fenced static member, ``error`` for any other fatal client error
    (and, in bounded runs, a missing topic); log the rest."""
    fatal = err.fatal() or err.code() == KafkaError._FATAL  # a consumer reports its fatal error as _FATAL
    if err.code() == KafkaError.FENCED_INSTANCE_ID or (fatal and "group.instance.id" in err.str()):
        raise InstanceFenced(err.str())
    if fatal:
        raise error(f"fatal Kafka error: {err.str()}")
    if missing_topic_fatal and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
        raise error(f"{err.str()} (create the topics with `smartcity topics create`)")
    log.warning("kafka: %s", err.str())


UNREACHABLE = frozenset({KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE})
PROBE_EVERY_S = 5.0


class Reach:
    """Whether the consumer itself says Kafka cannot be reached: from its latest transport error until a
    fetch succeeds or a metadata request (every ``PROBE_EVERY_S`` while in doubt) is answered. A member with
    nothing to land during an outage then still says it waits for Kafka."""

    def __init__(self) -> None:
        self.error: str | None = None
        self._probed = 0.0

    def saw(self, err: KafkaError) -> None:
        if err.code() in UNREACHABLE:
            self.error = err.str()

    def fetched(self) -> None:
        self.error = None

    def probe(self, consumer: Consumer, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.error is None or now - self._probed < PROBE_EVERY_S:
            return
        self._probed = now
        try:
            consumer.list_topics(timeout=1.0)
        except KafkaException:
            return
        self.error = None


class AssignmentClock:
    """Fails a member that waits too long for its first assignment."""

    def __init__(self, topics: Iterable[str], error: type[SmartcityError],
                 timeout_s: float = ASSIGN_TIMEOUT_S) -> None:
        self.topics, self.error, self.timeout_s = list(topics), error, timeout_s
        self.started = time.monotonic()
        self.assigned = False

    def check(self, now: float | None = None) -> None:
        if self.assigned:
            return
        if (now if now is not None else time.monotonic()) - self.started > self.timeout_s:
            raise self.error(f"no partitions of {', '.join(self.topics)} were assigned within "
                             f"{self.timeout_s:.0f} s (do the topics exist?)")


class Rejoins:
    """When a fenced static member may join the group again.

    After a broker outage longer than the session timeout, librdkafka rejoins with a fresh member id
    and the broker then fences the member's own previous id: the consumer is dead, but nobody else has
    its instance id, so joining again with a new consumer is right. Fenced again within
    ``REJOIN_WINDOW_S``, the member stops instead: another process really uses the same instance id.
    """

    def __init__(self, instance_id: str | None, error: type[SmartcityError],
                 window_s: float = REJOIN_WINDOW_S) -> None:
        self.instance_id, self.error, self.window_s = instance_id, error, window_s
        self._last: float | None = None

    def allow(self, why: str) -> None:
        """Record a rejoin, or raise ``error`` naming the instance id when one happened recently."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.window_s:
            raise self.error(f"{why} twice within {self.window_s:.0f} s: another member uses the instance id "
                             f"{self.instance_id!r}; give each member its own instance id")
        self._last = now


def close_fenced(consumer: Consumer) -> None:
    """Close a fenced consumer (the member goes on with a new one); its errors are only logged."""
    try:
        consumer.close()
    except KafkaException as exc:
        log.info("closing the fenced consumer: %s", exc.args[0].str())


def produce(producer: Producer, topic: str, value: bytes | None, key: bytes | None = None, *,
            headers: Sequence[Header] | None = None, partition: int | None = None,
            on_delivery: Callable[[KafkaError | None, Message], None] | None = None, wait_s: float = 0.05) -> None:
    """``producer.produce`` that waits (serving delivery callbacks) while the local queue is full."""
    kwargs: dict[str, Any] = {}
    if headers:
        kwargs["headers"] = headers
    if partition is not None:
        kwargs["partition"] = partition
    if on_delivery is not None:
        kwargs["on_delivery"] = on_delivery
    while True:
        try:
            producer.produce(topic, value, key, **kwargs)
            return
        except BufferError:
            producer.poll(wait_s)


def position_of(message: Message) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed message (set for every message without an error)."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("not a consumed message: it has no topic, partition or offset")
    return topic, partition, offset


def headers_of(message: Message) -> list[Header]:
    """A message's headers as a list of pairs (empty when it has none)."""
    headers = message.headers()
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else headers


def backlogged(consumer: Consumer, partitions: Sequence[TopicPartition]) -> list[TopicPartition]:
    """The partitions whose log holds messages this consumer has not handed to the application yet,
    from its local positions and the high watermarks of its last fetches (no request to the broker).
    A partition whose position or watermark is not known yet is left out."""
    if not partitions:
        return []
    out = []
    for tp in consumer.position(list(partitions)):
        if tp.offset < 0:
            continue
        _, high = consumer.get_watermark_offsets(tp, cached=True)
        if high > tp.offset:
            out.append(tp)
    return out


def fmt_partitions(partitions: Iterable[TopicPartition]) -> str:
    """``topic[0], topic[3]`` for logs."""
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
