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
   partition is rewound the same way. One that cannot finish (Kafka away) is given up with its
   producer; the successor producer resolves it on the broker, and the daemon waits for Kafka
   before it rewinds (:meth:`AlertDaemon._recover`).

Alert ids are deterministic (``<rule>:<subject>:<start_ms>``), so even a ``read_uncommitted``
reader can de-duplicate on ``(alert_id, state)``. Zombies are fenced by the consumer group
generation (KIP-447) and, with a stable ``--instance-id``, by the transactional id, which also
aborts a crashed predecessor's open transaction at once instead of after
``transaction.timeout.ms``. Console lines are printed after their transaction commits: a crash
between the commit and the print can lose a line, never repeat one.

What is not exactly once: the idle close and the silence check follow the wall clock, so *when*
they happen depends on timing (what they emit is committed once like everything else).

Any number of members. Each device's state moves with its partition, so an alert is raised by
exactly one member, and a bus window holds the same readings whichever member closes it. Fleet
figures span partitions, so no member computes them: they are merged by window where every bus
window is seen (:mod:`~smartcity.ingest.alerts.fleet`: the live view; the ``bus_window_stats`` mart).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from smartcity.core.errors import AlertsError, KafkaUnavailableError, SmartcityError, is_transient
from smartcity.core.gc_pause import fewer_collections
from smartcity.ingest.alerts.changelog import ChangelogKeys, ensure_changelog_for
from smartcity.ingest.alerts.engine import AlertEngine
from smartcity.ingest.alerts.engine_types import Output
from smartcity.ingest.alerts.inputs import usable_rows
from smartcity.ingest.alerts.metrics import AlertMetrics
from smartcity.ingest.alerts.reporting import AlertStats, EngineReporter, count_committed
from smartcity.ingest.alerts.restore import Restorer
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.alerts.transactions import FIRST_INIT_TIMEOUT_S, Transactions
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.health import Heartbeat
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.member import (
    AssignmentClock,
    InstanceFenced,
    Rejoins,
    backlogged,
    check_error,
    close_fenced,
    fmt_partitions,
    member_config,
    position_of,
    produce,
)
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto import Alert
from smartcity.proto.codec import ALERT, BUS_WINDOW, Codec
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY, STATION_EVENTS, Dataset

log = logging.getLogger("smartcity.alerts")

DATASETS: dict[str, Dataset] = {"bus": BUS_TELEMETRY, "air": AIR_READINGS, "station": STATION_EVENTS}
BATCH = 20_000
POLL_S = 0.02  # consume() waits this long unless BATCH messages arrive sooner


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
        self.codecs: dict[str, Codec[Any]] = {"alerts": ALERT, "bus_windows": BUS_WINDOW}
        self.headers = {k: c.headers(kafka.encoding) for k, c in self.codecs.items()}
        self.engine = AlertEngine(settings)
        self.metrics = AlertMetrics()
        self.stats = AlertStats()
        self.restorer = Restorer(kafka, self.changelog, settings.group, self.inputs, self.engine)
        self._stop = threading.Event()
        self._failed = False
        self._assigned: set[tuple[str, int]] = set()
        self._clock = AssignmentClock(self.inputs, AlertsError)
        self._offsets: dict[tuple[str, int], int] = {}
        self._txn_alerts: list[Alert] = []
        self._txn_windows = 0
        self._keys = ChangelogKeys(settings.group)
        self._pending: list[Output] = []
        self._txn = Transactions(kafka, f"{settings.group}.{settings.instance_id or uuid.uuid4().hex[:12]}")
        self._first_pending: float | None = None
        self.reporter = EngineReporter(self.engine, self.metrics, settings.grace)
        self.consumer: Consumer | None = None
        self._rejoins = Rejoins(settings.instance_id, AlertsError)

    # -- lifecycle --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish: commit what was consumed, leave the group (signal-safe)."""
        self._stop.set()

    def run(self) -> AlertStats:
        began = time.monotonic()
        s = self.settings
        create_topics(self.kafka, list(self.out_topics.values()))
        self.restorer.changelog_partitions = ensure_changelog_for(self.kafka, self.changelog, self.inputs)
        if s.metrics_port is not None:
            self.metrics.serve(s.metrics_port, s.metrics_host)
        try:
            self._txn.start(FIRST_INIT_TIMEOUT_S)
        except KafkaUnavailableError as exc:
            raise AlertsError(f"cannot start transactions: {exc}") from None
        self._join()
        log.info("alerts started", extra={"topics": list(self.inputs), "group": s.group,
                                          "window_s": s.window, "grace_s": s.grace})
        try:
            # full garbage collections would walk every object the imported libraries hold, for tens of ms
            # each time: fewer of them keep those pauses out of the alert latency
            with fewer_collections():
                self._loop(began)
            if not self._failed:
                self._commit()
        except KafkaException as exc:
            self._failed = True  # half-applied state must not be committed on the way out
            raise AlertsError(f"Kafka: {exc.args[0].str()}") from exc
        except BaseException:
            self._failed = True
            raise
        finally:
            try:
                if self.consumer is not None:
                    self.consumer.close()
            finally:
                self._drop_transaction()
        self.stats.seconds = time.monotonic() - began
        log.info("alerts stopped", extra={"consumed": self.stats.consumed, "alerts": self.stats.alerts,
                                          "windows": self.stats.windows})
        return self.stats

    def _join(self) -> None:
        s = self.settings
        self.consumer = Consumer(member_config(
            self.kafka, s.group, instance_id=s.instance_id,
            metrics=self.metrics if s.metrics_port is not None else None,
            **{"isolation.level": "read_committed", "queued.min.messages": 200_000,
               "queued.max.messages.kbytes": 65_536, "fetch.wait.max.ms": 5}))
        self.consumer.subscribe(list(self.inputs), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_lost)

    def _rejoin(self, why: str) -> None:
        """The consumer was fenced (see :class:`Rejoins`): drop it with everything since the last commit and
        join the group with a new one, which restores whatever partitions it is given."""
        self._rejoins.allow(why)
        log.warning("%s; joining the group again", why)
        self._drop_transaction()
        self._forget()
        for t, p in self._assigned:
            self.engine.revoke(self.inputs[t], p)
        self._assigned.clear()
        old, self.consumer = self.consumer, None
        if old is not None:
            close_fenced(old)  # its rebalance callbacks see a consumer that is no longer ours and do nothing
        self._join()

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
                try:
                    self._pending += self._process(msgs, now)
                except InstanceFenced as exc:
                    self._rejoin(f"fenced: {exc}")
                    continue
            self._hold_backlogged(now)
            self._pending += self.engine.advance(now)
            if self._pending or msgs:
                if self._first_pending is None:
                    self._first_pending = asked  # the messages may have waited in consume() since then
                self._produce_pending()
            if self._first_pending is not None and now - self._first_pending >= interval:
                self._commit()
            self.reporter.report(now)
            self._beat("ok")
            if self.max_seconds is not None and now - began >= self.max_seconds:
                return
            if self.until_idle is not None:
                if not self._clock.assigned:
                    self._clock.check(now)
                    last_message = now
                elif now - last_message >= self.until_idle:
                    return

    def _hold_backlogged(self, now: float) -> None:
        """A partition with messages still waiting is not idle, however long this member has been busy
        with the others: no window closes, and no event becomes late, before they are read."""
        assert self.consumer is not None
        waiting = backlogged(self.consumer, [TopicPartition(t, p) for t, p in self._assigned])
        for tp in waiting:
            self.engine.hold(self.inputs[tp.topic], tp.partition, now)

    def _process(self, msgs: list[Message], now: float) -> list[Output]:
        by_topic: dict[str, list[Message]] = {}
        for m in msgs:
            if (err := m.error()) is not None:
                check_error(err, AlertsError)
                continue
            topic = m.topic() or ""  # set on every consumed message
            group = by_topic.get(topic)
            if group is None:
                group = by_topic[topic] = []
            group.append(m)
        out: list[Output] = []
        for topic, group in by_topic.items():
            kind = self.inputs.get(topic)
            if kind is None:
                continue
            offsets = self._offsets
            for m in group:
                _, partition, offset = position_of(m)
                offsets[(topic, partition)] = offset + 1
            self.stats.consumed += len(group)
            self.metrics.consumed.labels(topic).inc(len(group))
            table, index = usable_rows(self.decoders[kind], kind, [m.value() for m in group])
            bad = len(group) - table.num_rows
            if bad:
                self.stats.invalid += bad
                self.metrics.invalid.labels(topic).inc(bad)
            partitions = [position_of(group[i])[1] for i in index.tolist()]
            out += self.engine.process(kind, table, partitions, now)
        return out

    def _beat(self, status: str) -> None:
        if self.heartbeat is not None:
            self.heartbeat.beat(status)

    def _produce_pending(self) -> None:
        if not self._pending:
            return
        self._txn.begin()
        encoding = self.kafka.encoding
        for out in self._pending:
            value = self.codecs[out.topic_kind].encode(out.message, encoding)
            produce(self._txn.producer, self.out_topics[out.topic_kind], value, out.key.encode(),
                    headers=self.headers[out.topic_kind])
            if out.topic_kind == "alerts":
                self._txn_alerts.append(out.message)  # type: ignore[arg-type]
            else:
                self._txn_windows += 1
        self._pending = []

    # -- transactions -----------------------------------------------------------------------------

    def _commit(self) -> None:
        """Changelog records of the touched state, the consumed offsets, commit; rewind on failure."""
        assert self.consumer is not None
        self._produce_pending()
        state = self.engine.dump_dirty()
        if not (self._txn.open or state or self._offsets):
            self._first_pending = None
            return
        began = time.monotonic()
        try:
            self._txn.begin()
            for kind, partition, entity, value in state:
                produce(self._txn.producer, self.changelog, value, self._keys(kind, partition, entity),
                        partition=partition)
            if self._offsets:
                offsets = [TopicPartition(t, p, o) for (t, p), o in self._offsets.items()]
                self._txn.send_offsets(offsets, self.consumer.consumer_group_metadata())
            self._txn.commit()
        except KafkaException as exc:
            err = exc.args[0]
            self._recover(f"transaction failed: {err.str()}", abort=err.txn_requires_abort() and not err.fatal())
            return
        self._first_pending = None
        self._offsets.clear()
        alerts, self._txn_alerts = self._txn_alerts, []
        count_committed(self.stats, self.metrics, alerts, self._txn_windows, len(state), time.monotonic() - began)
        self._txn_windows = 0
        for alert in alerts:
            if self.on_alert is not None:
                self.on_alert(alert)

    def _recover(self, why: str, *, abort: bool) -> None:
        """Forget everything since the last commit and resume from it.

        The open transaction is aborted when ``abort`` and the client can; otherwise (Kafka away, the
        transaction timed out on the broker, the producer fenced) the producer is replaced, and its
        successor resolves the old transaction on the broker. The member then waits for Kafka (saying so
        in its heartbeat), restores the partitions it owns and seeks to their committed offsets.
        Stopped while waiting, it leaves the work since the last commit to the next member.
        """
        log.warning("%s; rewinding to the last commit", why)
        self._drop_transaction(abort=abort)
        self._forget()
        delay = 0.5
        while True:
            try:
                self._txn.start()
                self._rewind()
                return
            except KafkaException as exc:
                err = exc.args[0]
                if err.fatal():
                    raise AlertsError(f"Kafka: {err.str()}") from None
                why = err.str()
            except SmartcityError as exc:
                if not is_transient(exc):
                    raise
                why = str(exc)
            if self._stop.is_set():
                log.warning("stopped while Kafka is away: the work since the last commit is left to the next run")
                self._failed = True
                return
            log.warning("waiting for Kafka: %s (again in %.1f s)", why, delay)
            self._beat(f"waiting for Kafka: {why}")
            self._stop.wait(delay)
            delay = min(2 * delay, 5.0)

    def _drop_transaction(self, *, abort: bool = True) -> None:
        """End the open transaction, if any, without committing it: abort it when ``abort`` and the client
        can, else replace the producer (its successor resolves the transaction on the broker)."""
        if not self._txn.open:
            return
        self.stats.aborts += 1
        self.metrics.aborts.inc()
        if not (abort and self._txn.abort()):
            self._txn.replace()

    def _forget(self) -> None:
        self._pending, self._txn_alerts, self._txn_windows = [], [], 0
        self._offsets.clear()
        self._first_pending = None

    def _rewind(self) -> None:
        """Rebuild the owned partitions from the changelog and seek to their committed offsets."""
        assert self.consumer is not None
        owned = [TopicPartition(t, p) for t, p in sorted(self._assigned)]
        for t, p in self._assigned:
            self.engine.revoke(self.inputs[t], p)
        positions = self._restore(owned)
        for tp in positions:
            self.consumer.seek(tp)

    # -- rebalancing ------------------------------------------------------------------------------

    def _restore(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Committed offsets and the changelog's state of ``partitions``; the offsets to start from."""
        assert self.consumer is not None
        if not partitions:
            return []
        began = time.monotonic()
        positions = self.restorer.restore(self.consumer, partitions)
        self.stats.restored_partitions += len(partitions)
        self.metrics.restore_seconds.observe(time.monotonic() - began)
        return positions

    def _ours(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Partitions of the topics this member reads. A static member that replaces one with another
        subscription inherits its assignment until the group rebalances; those are left alone."""
        return [tp for tp in partitions if tp.topic in self.inputs]

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self.consumer:
            return  # a fenced consumer being closed
        partitions = self._ours(partitions)
        if partitions:
            self._commit()
            positions = self._restore(partitions)
            consumer.incremental_assign(positions)
            self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        self._clock.assigned = True
        log.info("assigned %s", fmt_partitions(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self.consumer:
            return  # a fenced consumer being closed
        partitions = self._ours(partitions)
        if not self._failed:
            self._commit()
        for tp in partitions:
            self.engine.revoke(self.inputs[tp.topic], tp.partition)
            self._assigned.discard((tp.topic, tp.partition))
            self._offsets.pop((tp.topic, tp.partition), None)
        consumer.incremental_unassign(partitions)
        log.info("revoked %s", fmt_partitions(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions taken away without a hand-over: what this member did since its last commit may
        already be another's to do, so abort it and rewind the partitions it keeps."""
        if consumer is not self.consumer:
            return  # a fenced consumer being closed
        partitions = self._ours(partitions)
        for tp in partitions:
            self.engine.revoke(self.inputs[tp.topic], tp.partition)
            self._assigned.discard((tp.topic, tp.partition))
        consumer.incremental_unassign(partitions)
        self._recover(f"lost {fmt_partitions(partitions)}", abort=True)
