"""The alerting daemon: a consumer-group member that turns raw telemetry into alerts and window
statistics, exactly once.

Guarantee. Every input message's effect on the outputs (``smartcity.alerts``,
``smartcity.bus.windows``) is committed exactly once, through crashes (``kill -9``), restarts and
rebalances, for readers with ``isolation.level=read_committed`` (librdkafka's default). The
mechanism is Kafka's consume-transform-produce transaction:

1. the daemon reads a batch, feeds it to the engine and produces the resulting alert and window
   records inside an open transaction;
2. at most every ``commit_interval`` it also produces the state every touched device now has (its
   open windows and rule states, and each partition's watermark) to the compacted changelog topic,
   adds the consumed offsets with ``send_offsets_to_transaction``, and commits. Outputs, state and
   input position become visible together or not at all;
3. when partitions are assigned (at start, after a crash, in a rebalance) the daemon first fetches
   their committed offsets (stable: a predecessor's pending transaction is resolved first), then
   rebuilds their state from the changelog with ``read_committed``, and resumes at those offsets.
   The state is therefore exactly the state after the last committed input, so the alerts that
   follow are neither repeated nor skipped. A transaction that fails is aborted and every owned
   partition is rewound the same way.

Alert ids are deterministic (``<rule>:<subject>:<start_ms>``), so even a ``read_uncommitted``
reader can de-duplicate on ``(alert_id, state)``. Zombies are fenced by the consumer group
generation (KIP-447) and, with a stable ``--instance-id``, by the transactional id, which also
aborts a crashed predecessor's open transaction at once instead of after
``transaction.timeout.ms``. Console lines are printed after their transaction commits: a crash
between the commit and the print can lose a line, never repeat one.

What is not exactly once: the idle close and the silence check follow the wall clock, so *when*
they happen depends on timing (what they emit is committed once like everything else); and a
window's ``fleet_*`` figures cover the buses of the partitions this member owns.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow.compute as pc
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from smartcity.core.errors import AlertsError
from smartcity.ingest.alerts.changelog import changelog_key, ensure_changelog, read_state, topic_partitions
from smartcity.ingest.alerts.engine import AlertEngine, Output, sane_rows
from smartcity.ingest.alerts.metrics import AlertMetrics
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.health import Heartbeat
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config, producer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto import Alert
from smartcity.proto.codec import ALERT, BUS_WINDOW
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY, STATION_EVENTS, Dataset

log = logging.getLogger("smartcity.alerts")

DATASETS: dict[str, Dataset] = {"bus": BUS_TELEMETRY, "air": AIR_READINGS, "station": STATION_EVENTS}
TXN_TIMEOUT_S = 30.0
ASSIGN_TIMEOUT_S = 90.0
BATCH = 20_000
KEY_CACHE = 1_000_000
GC_THRESHOLD = 50_000
POLL_S = 0.02  # consume() waits this long unless BATCH messages arrive sooner
LATE_LOG_EVERY_S = 5.0
RETRY_CODES = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
               KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT}


@dataclass
class AlertStats:
    consumed: int = 0
    invalid: int = 0
    alerts: int = 0
    windows: int = 0
    transactions: int = 0
    aborts: int = 0
    restored_partitions: int = 0
    seconds: float = 0.0
    by_state: dict[str, int] = field(default_factory=dict)


class AlertDaemon:
    """One member of the alerting consumer group."""

    def __init__(self, kafka: KafkaSettings, settings: AlertSettings, *, until_idle: float | None = None,
                 max_seconds: float | None = None, heartbeat: Heartbeat | None = None,
                 on_alert: Callable[[Alert], None] | None = None) -> None:
        self.kafka, self.settings = kafka, settings
        self.until_idle, self.max_seconds = until_idle, max_seconds
        self.heartbeat = heartbeat
        self.on_alert = on_alert
        self.inputs = {kafka.topic(kind): kind for kind in settings.streams}
        self.decoders = {kind: BatchDecoder(DATASETS[kind]) for kind in settings.streams}
        self.changelog = kafka.topic("alerts_changelog")
        self.out_topics = {"alerts": kafka.topic("alerts"), "bus_windows": kafka.topic("bus_windows")}
        self.codecs = {"alerts": ALERT, "bus_windows": BUS_WINDOW}
        self.headers = {k: c.headers(kafka.encoding) for k, c in self.codecs.items()}
        self.engine = AlertEngine(settings)
        self.metrics = AlertMetrics()
        self.stats = AlertStats()
        self.changelog_partitions = 0
        self._stop = threading.Event()
        self._failed = False
        self._assigned: set[tuple[str, int]] = set()
        self._assigned_once = False
        self._offsets: dict[tuple[str, int], int] = {}
        self._txn_alerts: list[Alert] = []
        self._txn_windows = 0
        self._keys: dict[tuple[str, int, str], bytes] = {}
        self._pending: list[Output] = []
        self._txn_open = False
        self._first_pending: float | None = None
        self._late_seen = dict(self.engine.stats.late)
        self._late_logged_at = 0.0
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish: commit what was consumed, leave the group (signal-safe)."""
        self._stop.set()

    def run(self) -> AlertStats:
        began = time.monotonic()
        s = self.settings
        self._prepare_topics()
        if s.metrics_port is not None:
            self.metrics.serve(s.metrics_port)
        member = s.instance_id or uuid.uuid4().hex[:12]
        self.producer = Producer(producer_config(self.kafka, **{
            "transactional.id": f"{s.group}.{member}",
            "transaction.timeout.ms": 10_000,
            "linger.ms": 2,
            "compression.type": "lz4",  # cheaper than zstd for the broker, which must read compacted batches
            "retry.backoff.ms": 10,
            "retry.backoff.max.ms": 20,
        }))
        try:
            self.producer.init_transactions(TXN_TIMEOUT_S)
        except KafkaException as exc:
            raise AlertsError(f"cannot start transactions: {exc.args[0].str()}") from None
        extra: dict[str, Any] = {
            "partition.assignment.strategy": "cooperative-sticky",
            "isolation.level": "read_committed",
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 2_000,
            "queued.min.messages": 200_000,
            "queued.max.messages.kbytes": 65_536,
            "fetch.wait.max.ms": 5,
        }
        if s.instance_id:
            extra["group.instance.id"] = s.instance_id
        if s.metrics_port is not None:
            extra["statistics.interval.ms"] = 5000
            extra["stats_cb"] = self.metrics.on_stats
        self.consumer = Consumer(consumer_config(self.kafka, s.group, **extra))
        self.consumer.subscribe(list(self.inputs), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_lost)
        # Full garbage collections scan every object the imported libraries hold, for tens of ms each time;
        # freezing what exists now and collecting less often keeps those pauses out of the alert latency.
        thresholds = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 50)
        log.info("alerts started", extra={"topics": list(self.inputs), "group": s.group,
                                          "window_s": s.window, "grace_s": s.grace})
        try:
            self._loop(began)
            self._commit()
        except KafkaException as exc:
            self._failed = True  # half-applied state must not be committed on the way out
            raise AlertsError(f"Kafka: {exc.args[0].str()}") from exc
        except BaseException:
            self._failed = True
            raise
        finally:
            try:
                self.consumer.close()
            finally:
                gc.set_threshold(*thresholds)
                gc.unfreeze()
                if self._txn_open:
                    self._abort()
        self.stats.seconds = time.monotonic() - began
        log.info("alerts stopped", extra={"consumed": self.stats.consumed, "alerts": self.stats.alerts,
                                          "windows": self.stats.windows})
        return self.stats

    def _prepare_topics(self) -> None:
        create_topics(self.kafka, list(self.out_topics.values()))
        counts = topic_partitions(self.kafka, self.inputs)
        widest = max([self.kafka.partitions, *counts.values()])
        self.changelog_partitions = ensure_changelog(self.kafka, self.changelog, widest)
        for topic, n in counts.items():
            if n > self.changelog_partitions:
                raise AlertsError(f"{topic} has {n} partitions but the changelog {self.changelog} only "
                                  f"{self.changelog_partitions}; give the changelog at least {n}")

    # -- the loop ---------------------------------------------------------------------------------

    def _loop(self, began: float) -> None:
        assert self.consumer is not None
        interval = self.settings.commit_interval
        last_message = time.monotonic()
        while not self._stop.is_set():
            asked = time.monotonic()
            wait = POLL_S
            if self._first_pending is not None:
                wait = min(wait, max(0.001, self._first_pending + interval - asked))
            msgs = self.consumer.consume(BATCH, timeout=wait)
            now = time.monotonic()
            if msgs:
                last_message = now
                self._pending += self._process(msgs, now)
            self._pending += self.engine.advance(now)
            if self._pending or msgs:
                if self._first_pending is None:
                    self._first_pending = asked  # the messages may have waited in consume() since then
                self._produce_pending()
            if self._first_pending is not None and now - self._first_pending >= interval:
                self._commit()
            self._report(now)
            if self.heartbeat is not None:
                self.heartbeat.beat()
            if self.max_seconds is not None and now - began >= self.max_seconds:
                return
            if self.until_idle is not None:
                if not self._assigned_once:
                    if now - began > ASSIGN_TIMEOUT_S:
                        raise AlertsError(f"no partitions of {', '.join(self.inputs)} were assigned within "
                                          f"{ASSIGN_TIMEOUT_S:.0f} s (do the topics exist?)")
                    last_message = now
                elif now - last_message >= self.until_idle:
                    return

    def _process(self, msgs: list[Message], now: float) -> list[Output]:
        by_topic: dict[str, list[Message]] = {}
        for m in msgs:
            if m.error() is not None:
                self._on_error(m.error())
                continue
            group = by_topic.get(m.topic())
            if group is None:
                group = by_topic[m.topic()] = []
            group.append(m)
        out: list[Output] = []
        for topic, group in by_topic.items():
            kind = self.inputs.get(topic)
            if kind is None:
                continue
            offsets = self._offsets
            for m in group:
                offsets[(topic, m.partition())] = m.offset() + 1
            self.stats.consumed += len(group)
            self.metrics.consumed.labels(topic).inc(len(group))
            decoded = self.decoders[kind].decode([m.value() for m in group])
            table, index = decoded.table, decoded.index
            if table.num_rows:
                sane = sane_rows(kind, table, int(time.time() * 1000))
                if not pc.all(sane).as_py():
                    table, index = table.filter(sane), index[sane.to_numpy(zero_copy_only=False)]
            bad = len(group) - table.num_rows
            if bad:
                self.stats.invalid += bad
                self.metrics.invalid.labels(topic).inc(bad)
            partitions = [group[i].partition() for i in index.tolist()]
            out += self.engine.process(kind, table, partitions, now)
        return out

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            raise AlertsError(f"fatal Kafka error: {err.str()}")
        log.warning("kafka: %s", err.str())

    def _produce_pending(self) -> None:
        assert self.producer is not None
        if not self._pending:
            return
        self._begin()
        encoding = self.kafka.encoding
        for out in self._pending:
            value = self.codecs[out.topic_kind].encode(out.message, encoding)
            self._produce(self.out_topics[out.topic_kind], out.key.encode(), value, self.headers[out.topic_kind])
            if out.topic_kind == "alerts":
                self._txn_alerts.append(out.message)  # type: ignore[arg-type]
            else:
                self._txn_windows += 1
        self._pending = []

    def _produce(self, topic: str, key: bytes, value: bytes | None, headers: list | None = None,
                 partition: int | None = None) -> None:
        assert self.producer is not None
        kwargs: dict[str, Any] = {"key": key, "value": value}
        if headers:
            kwargs["headers"] = headers
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self.producer.produce(topic, **kwargs)
                return
            except BufferError:
                self.producer.poll(0.05)

    # -- transactions -----------------------------------------------------------------------------

    def _begin(self) -> None:
        if not self._txn_open:
            assert self.producer is not None
            self.producer.begin_transaction()
            self._txn_open = True

    def _commit(self) -> None:
        """Changelog records of the touched state, the consumed offsets, commit; rewind on failure."""
        assert self.producer is not None and self.consumer is not None
        self._produce_pending()
        state = self.engine.dump_dirty()
        if not (self._txn_open or state or self._offsets):
            self._first_pending = None
            return
        began = time.monotonic()
        try:
            self._begin()
            keys = self._keys
            for kind, partition, entity, value in state:
                key = keys.get((kind, partition, entity))
                if key is None:
                    key = keys[(kind, partition, entity)] = changelog_key(self.settings.group, kind, partition, entity)
                    if len(keys) > KEY_CACHE:
                        keys.clear()
                self._produce(self.changelog, key, value, partition=partition)
            if self._offsets:
                offsets = [TopicPartition(t, p, o) for (t, p), o in self._offsets.items()]
                self.producer.send_offsets_to_transaction(offsets, self.consumer.consumer_group_metadata(),
                                                          TXN_TIMEOUT_S)
            self._commit_transaction()
        except KafkaException as exc:
            err = exc.args[0]
            if err.fatal() or not err.txn_requires_abort():
                raise AlertsError(f"transaction failed: {err.str()}") from None
            log.warning("transaction aborted (%s); rewinding to the last commit", err.str())
            self._abort()
            self._rewind()
            return
        self._txn_open = False
        self._first_pending = None
        self._offsets.clear()
        self.stats.transactions += 1
        self.metrics.transactions.inc()
        self.metrics.changelog_records.inc(len(state))
        self.metrics.commit_seconds.observe(time.monotonic() - began)
        self.metrics.last_commit.set_to_current_time()
        alerts, self._txn_alerts = self._txn_alerts, []
        self.stats.windows += self._txn_windows
        self.metrics.windows.inc(self._txn_windows)
        self._txn_windows = 0
        for alert in alerts:
            self.stats.alerts += 1
            name = Alert.DESCRIPTOR.fields_by_name["state"].enum_type.values_by_number[alert.state].name
            self.stats.by_state[name] = self.stats.by_state.get(name, 0) + 1
            kind = Alert.DESCRIPTOR.fields_by_name["kind"].enum_type.values_by_number[alert.kind].name
            self.metrics.alerts.labels(kind, name).inc()
            if self.on_alert is not None:
                self.on_alert(alert)

    def _commit_transaction(self) -> None:
        assert self.producer is not None
        for attempt in range(5):
            try:
                self.producer.commit_transaction(TXN_TIMEOUT_S)
                return
            except KafkaException as exc:
                if not exc.args[0].retriable() or attempt == 4:
                    raise

    def _abort(self) -> None:
        assert self.producer is not None
        try:
            self.producer.abort_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            if exc.args[0].fatal():
                raise AlertsError(f"aborting the transaction failed: {exc.args[0].str()}") from None
        self._txn_open = False
        self._first_pending = None
        self.stats.aborts += 1
        self.metrics.aborts.inc()

    def _rewind(self) -> None:
        """Forget everything since the last commit: rebuild owned partitions and seek to their offsets."""
        assert self.consumer is not None
        self._pending, self._txn_alerts, self._txn_windows = [], [], 0
        self._offsets.clear()
        owned = [TopicPartition(t, p) for t, p in sorted(self._assigned)]
        for t, p in self._assigned:
            self.engine.revoke(self.inputs[t], p)
        positions = self._restore(owned)
        for tp in positions:
            self.consumer.seek(tp)

    # -- rebalancing ------------------------------------------------------------------------------

    def _restore(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Committed offsets (stable), then the state of ``partitions`` from the changelog; the offsets
        to start from."""
        assert self.consumer is not None
        if not partitions:
            return []
        began = time.monotonic()
        committed = self._committed(partitions)
        too_wide = [tp for tp in partitions if tp.partition >= self.changelog_partitions]
        if too_wide:
            raise AlertsError(f"{too_wide[0].topic}[{too_wide[0].partition}] has no changelog partition "
                              f"({self.changelog} has {self.changelog_partitions})")
        fetched = time.monotonic()
        state = read_state(self.kafka, self.changelog, [tp.partition for tp in partitions], self.settings.group)
        now = time.monotonic()
        for tp in partitions:
            kind = self.inputs[tp.topic]
            self.engine.load_partition(kind, tp.partition, state.get((kind, tp.partition), {}), now)
        self.stats.restored_partitions += len(partitions)
        self.metrics.restore_seconds.observe(time.monotonic() - began)
        log.info("restored %s (%d state records) in %.2f s (offsets %.2f s, changelog %.2f s)", _fmt(partitions),
                 sum(len(state.get((self.inputs[tp.topic], tp.partition), {})) for tp in partitions),
                 time.monotonic() - began, fetched - began, now - fetched)
        return [TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                for tp in committed]

    def _ours(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Partitions of the topics this member reads. A static member that replaces one with another
        subscription inherits its assignment until the group rebalances; those are left alone."""
        return [tp for tp in partitions if tp.topic in self.inputs]

    def _committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """The group's committed offsets, retried while the coordinator moves or loads."""
        assert self.consumer is not None
        deadline = time.monotonic() + TXN_TIMEOUT_S
        while True:
            try:
                return self.consumer.committed(partitions, timeout=TXN_TIMEOUT_S)
            except KafkaException as exc:
                if not exc.args[0].retriable() and exc.args[0].code() not in RETRY_CODES:
                    raise AlertsError(f"cannot fetch committed offsets: {exc.args[0].str()}") from None
                if time.monotonic() > deadline:
                    raise AlertsError(f"cannot fetch committed offsets: {exc.args[0].str()}") from None
                time.sleep(0.2)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        partitions = self._ours(partitions)
        if partitions:
            self._commit()
            positions = self._restore(partitions)
            consumer.incremental_assign(positions)
            self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        self._assigned_once = True
        log.info("assigned %s", _fmt(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        partitions = self._ours(partitions)
        if not self._failed:
            self._commit()
        for tp in partitions:
            self.engine.revoke(self.inputs[tp.topic], tp.partition)
            self._assigned.discard((tp.topic, tp.partition))
            self._offsets.pop((tp.topic, tp.partition), None)
        consumer.incremental_unassign(partitions)
        log.info("revoked %s", _fmt(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions taken away without a hand-over: what this member did since its last commit may
        already be another's to do, so abort it and rewind the partitions it keeps."""
        partitions = self._ours(partitions)
        if self._txn_open:
            self._abort()
        for tp in partitions:
            self.engine.revoke(self.inputs[tp.topic], tp.partition)
            self._assigned.discard((tp.topic, tp.partition))
        consumer.incremental_unassign(partitions)
        self._rewind()
        log.warning("lost %s", _fmt(partitions))

    # -- reporting --------------------------------------------------------------------------------

    def _report(self, now: float) -> None:
        late = self.engine.stats.late
        if now - self._late_logged_at >= LATE_LOG_EVERY_S or not self._late_logged_at:
            for kind, n in late.items():
                new = n - self._late_seen[kind]
                if new:
                    self.metrics.late.labels(kind).inc(new)
                    log.warning("%d late %s events dropped (window closed, beyond the %s grace); latest: %s",
                                new, kind, f"{self.settings.grace:g}s", self.engine.stats.last_late)
                    self._late_seen[kind] = n
            self._late_logged_at = now
            for kind, mark in self.engine.watermarks(now).items():
                if mark is not None:
                    self.metrics.watermark.labels(kind).set(mark / 1000)
            self.metrics.open_windows.set(self.engine.open_windows())
            if self.engine.stats.idle_closes:
                self.metrics.idle_closes.inc(self.engine.stats.idle_closes)
                self.engine.stats.idle_closes = 0


def _fmt(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
