"""The one Kafka consumer of a live server, on its own thread (never on the event loop).

It reads every partition of the raw topics, the window topic and the alerts topic by assignment (no
group: each server process sees everything), folds messages into the :class:`LiveState`, and every
``flush_ms`` stores what changed with the next offset of each partition (one SurrealDB transaction)
and hands the update to the event loop. It starts where the store says it stopped; with nothing
stored, ``lookback_s`` back in time. Messages that fail to decode are counted and skipped: the sink
dead-letters them. A store that refuses a write keeps the changes and is tried again after a pause
(1 s, doubling up to 8 s); browsers are still updated meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, Message, TopicPartition

from smartcity.core.errors import DecodeError, LiveError
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.live.hub import encode_update
from smartcity.live.settings import LiveSettings
from smartcity.live.state import Changes, LiveState, Record
from smartcity.live.store import LiveStore, Positions
from smartcity.proto.codec import AIR, ALERT, BUS, BUS_WINDOW, STATION, Codec, Headers

log = logging.getLogger("smartcity.live")
DISCOVER_S = 10.0
"""How often the feed looks for topics and partitions that appeared since it started."""
STORE_RETRY_MAX_S = 8.0
"""The longest pause between attempts to write to a store that refused a write."""

Publish = Callable[[Record, bytes], None]


def feed_topics(kafka: KafkaSettings) -> dict[str, tuple[Codec[Any], str]]:
    """Topic -> (codec, LiveState method) for everything the live view reads."""
    return {
        kafka.topic("bus"): (BUS, "apply_bus"),
        kafka.topic("air"): (AIR, "apply_air"),
        kafka.topic("station"): (STATION, "apply_station"),
        kafka.topic("alerts"): (ALERT, "apply_alert"),
        kafka.topic("bus_windows"): (BUS_WINDOW, "apply_window"),
    }


class Feed(threading.Thread):
    def __init__(self, kafka: KafkaSettings, live: LiveSettings, store: LiveStore, state: LiveState,
                 positions: Positions, publish: Publish) -> None:
        super().__init__(name="live-feed", daemon=True)
        self.kafka, self.live, self.store, self.state = kafka, live, store, state
        self.positions = dict(positions)
        self.publish = publish
        self.topics = feed_topics(kafka)
        self._stop_event = threading.Event()
        self.status = "starting"
        self.error: str | None = None
        self.stats = {"messages": 0, "undecodable": 0, "updates": 0, "store_failures": 0}
        self._assigned: set[tuple[str, int]] = set()
        self._failures, self._retry_at = 0, 0.0

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        consumer = Consumer(consumer_config(self.kafka, "smartcity-live", **{
            "fetch.min.bytes": 1, "fetch.wait.max.ms": 50, "queued.min.messages": 20_000}))
        try:
            self._loop(consumer)
        except Exception as exc:  # the thread must say why it stopped; the server reports it on /api/health
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = f"stopped: {self.error}"
            log.exception("the live feed stopped")
        finally:
            consumer.close()

    def _loop(self, consumer: Consumer) -> None:
        changes, unsaved = Changes(), Changes()
        last_flush = last_discover = 0.0
        flush_s = self.live.flush_ms / 1000
        while not self._stop_event.is_set():
            now = time.monotonic()
            if now - last_discover > DISCOVER_S:
                self._discover(consumer)
                last_discover = now
            for message in consumer.consume(num_messages=5000, timeout=min(0.1, flush_s)):
                self._apply(message, changes)
            if time.monotonic() - last_flush >= flush_s:
                last_flush = time.monotonic()
                if changes:
                    self._flush(changes, unsaved)
                    changes = Changes()
                elif unsaved:
                    self._save(unsaved)

    def _apply(self, message: Message, changes: Changes) -> None:
        err = message.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                self.status = f"waiting for Kafka: {err.str()}"
            return
        self.status = "ok"
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if topic is None or partition is None or offset is None:
            return
        self.positions[(topic, partition)] = offset + 1
        self.stats["messages"] += 1
        codec, method = self.topics[topic]
        try:
            decoded = codec.decode(message.value(), cast(Headers, message.headers()))
        except DecodeError as exc:
            self.stats["undecodable"] += 1
            log.debug("skipping an undecodable message at %s[%d]@%d: %s", topic, partition, offset, exc)
            return
        getattr(self.state, method)(decoded, changes)
        _, timestamp = message.timestamp()
        changes.produced_ms = max(changes.produced_ms, timestamp)
        changes.first_ms = min(changes.first_ms, timestamp) if changes.first_ms else timestamp

    def _flush(self, changes: Changes, unsaved: Changes) -> None:
        payload = changes.payload()
        self._merge(unsaved, changes)
        self._save(unsaved)
        self.stats["updates"] += 1
        self.publish(payload, encode_update(payload))

    @staticmethod
    def _merge(into: Changes, changes: Changes) -> None:
        for key, record in changes.records.items():
            if key[0] == "alert":
                into.closed.discard(key[1])
            into.records[key] = record
        for alert_id in changes.closed:
            into.close(alert_id)

    def _save(self, unsaved: Changes) -> None:
        if self.error is not None and time.monotonic() < self._retry_at:
            return  # the store failed: it is tried again after a pause, not at every flush
        try:
            if self.error is not None:
                self.store.reopen()  # a write failed: the engine takes no more until reopened
            self.store.save(unsaved, self.positions)
        except LiveError as exc:
            self._failed(str(exc))
            return
        if self.error is not None:
            log.warning("the live store takes writes again after %d failed attempts", self._failures)
        self.error, self._failures = None, 0
        unsaved.records.clear()
        unsaved.closed.clear()

    def _failed(self, error: str) -> None:
        """Count a failed write, say so when it is new, and wait before the next attempt: 1 s, doubling
        up to ``STORE_RETRY_MAX_S``."""
        self.stats["store_failures"] += 1
        self._failures += 1
        if error != self.error:
            log.warning("%s; keeping the changes and trying again", error)
        self.error = error
        self._retry_at = time.monotonic() + min(STORE_RETRY_MAX_S, 2.0 ** (self._failures - 1))

    def _discover(self, consumer: Consumer) -> None:
        """Assign partitions not assigned yet, from the stored position or ``lookback_s`` ago."""
        try:
            metadata = consumer.list_topics(timeout=5)
        except KafkaException as exc:
            self.status = f"waiting for Kafka: {exc.args[0].str()}"
            return
        fresh = [(name, p) for name in self.topics if (topic := metadata.topics.get(name)) is not None
                 and topic.error is None for p in topic.partitions if (name, p) not in self._assigned]
        if not fresh:
            return
        since = int(time.time() * 1000) - self.live.lookback_s * 1000
        known = [TopicPartition(t, p, self.positions[(t, p)]) for t, p in fresh if (t, p) in self.positions]
        unknown = [TopicPartition(t, p, since) for t, p in fresh if (t, p) not in self.positions]
        if unknown:
            try:
                found = consumer.offsets_for_times(unknown, timeout=10)
            except KafkaException as exc:
                self.status = f"waiting for Kafka: {exc.args[0].str()}"
                return
            known += [TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
                      for tp in found]
        consumer.incremental_assign(known)
        self._assigned.update(fresh)
        log.info("live feed reads %d more partitions", len(fresh))
