"""The sink daemon: a consumer group member that lands its partitions in the lake, exactly once.

The main thread consumes and buffers messages per topic-partition (:mod:`.batching`). A writer
thread (:mod:`.writer`) takes full batches (rows, bytes or age), decodes and validates them, sends
bad messages to the dead-letter topic (:mod:`.deadletter`), lands the good rows
(:mod:`smartcity.storage.commit`), and only then is the Kafka offset committed. While the writer is
busy and its queue is full, the consumer pauses its partitions (back-pressure, so memory stays
bounded whatever the backlog). When partitions are assigned, the lake's record of landed offsets
decides where to start (:mod:`.start`), so a file landed but not committed is neither lost nor
duplicated. Revoked partitions are flushed and committed before they move to another member.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

import numpy as np
from confluent_kafka import OFFSET_INVALID, Consumer, KafkaException, Message, Producer, TopicPartition

from smartcity.core.errors import SinkError
from smartcity.core.gc_pause import fewer_collections
from smartcity.ingest.decode.gtfsrt import GtfsRtDecoder
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.health import Heartbeat
from smartcity.ingest.kafka.admin import topic_ids
from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.member import (
    AssignmentClock,
    InstanceFenced,
    Reach,
    Rejoins,
    check_error,
    close_fenced,
    fmt_partitions,
    member_config,
    position_of,
)
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.batching import TP, Buffers, is_full, is_old
from smartcity.ingest.sink.bounded import BoundedGoal
from smartcity.ingest.sink.commits import CommitRetry
from smartcity.ingest.sink.deadletter import DeadLetterWriter
from smartcity.ingest.sink.landing import BatchResult, RowsDecoder
from smartcity.ingest.sink.metrics import SinkMetrics
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.ingest.sink.start import start_offset
from smartcity.ingest.sink.writer import Job, SinkStats, Writer
from smartcity.storage.commit import Committer
from smartcity.storage.datasets import BUS_TELEMETRY, BY_KIND, Dataset
from smartcity.storage.formats import get_format
from smartcity.storage.settings import LakeSettings

__all__ = ["Sink", "SinkStats", "resolve_topics"]

log = logging.getLogger("smartcity.ingest")

PAUSE_AFTER_S = 5.0  # a writer busier than this makes the consumer pause its partitions
CONSUME_BATCH = 10_000  # messages per consume() call: larger calls read slower (measured: 20,000 at 0.85x)


def resolve_topics(kafka: KafkaSettings, ingest: IngestSettings) -> dict[str, Dataset]:
    """Topic name -> dataset, from kinds (``bus``) or full names (``smartcity.bus.telemetry``)."""
    by_name = {kafka.topic(kind): dataset for kind, dataset in BY_KIND.items()}
    out: dict[str, Dataset] = {}
    for item in ingest.topics:
        if item in BY_KIND:
            out[kafka.topic(item)] = BY_KIND[item]
        elif item in by_name:
            out[item] = by_name[item]
        else:
            known = ", ".join([*BY_KIND, *by_name])
            raise SinkError(f"unknown topic {item!r} in --topics; use kinds or names: {known}")
    if ingest.gtfsrt_topic:
        out[ingest.gtfsrt_topic] = BUS_TELEMETRY
    return out


class Sink:
    """One member of the sink's consumer group."""

    def __init__(self, kafka: KafkaSettings, lake: LakeSettings, ingest: IngestSettings, *,
                 until_caught_up: bool = False, heartbeat: Heartbeat | None = None,
                 on_batch: Callable[[BatchResult, SinkStats], None] | None = None) -> None:
        self.kafka, self.lake, self.ingest = kafka, lake, ingest
        self.until_caught_up = until_caught_up
        self.heartbeat = heartbeat
        self.on_batch = on_batch
        self.topics = resolve_topics(kafka, ingest)
        self.committer = Committer(lake.root, get_format(lake.format, lake.compression))
        self.decoders: dict[str, RowsDecoder] = {
            topic: GtfsRtDecoder() if topic == ingest.gtfsrt_topic else BatchDecoder(dataset)
            for topic, dataset in self.topics.items()}
        self.metrics = SinkMetrics()
        self.stats = SinkStats()
        self.buffers = Buffers()
        self.assigned: set[TP] = set()
        self.commit_retry = CommitRetry()
        self.starts: dict[TP, int] = {}
        self.topic_ids: dict[str, str] = {}
        self.epochs: dict[TP, int] = {}  # bumped when a partition is lost or revoked: its queued jobs go stale
        self.goal: BoundedGoal | None = None
        self._stop = threading.Event()
        self._first_message_at: float | None = None
        self._closing = False
        self._clock = AssignmentClock(self.topics, SinkError)
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None
        self.writer: Writer | None = None
        self._rejoins = Rejoins(self.ingest.instance_id, SinkError)
        self.reach = Reach()

    # -- lifecycle ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish: flush every batch, commit, leave the group (signal-safe). A batch waiting
        for the broker to return is given up (it is not landed, so it is read again next time)."""
        self._stop.set()
        if self.writer is not None:
            self.writer.stopping.set()

    def run(self) -> SinkStats:
        began = time.monotonic()
        self.lake.root.mkdir(parents=True, exist_ok=True)
        if self.ingest.metrics_port is not None:
            self.metrics.serve(self.ingest.metrics_port, self.ingest.metrics_host)
        for decoder in self.decoders.values():
            getattr(decoder, "warm_up", lambda: None)()
        self.consumer = self._new_consumer()
        self.producer = Producer(producer_config(self.kafka, **{"linger.ms": 5}))
        dead_letters = DeadLetterWriter(self.producer, self.kafka.topic("deadletter"), self.metrics)
        self.writer = writer = Writer(self.topics, self.decoders, self.committer, dead_letters, self.metrics,
                                      self.stats, self.on_batch, is_current=self._is_current,
                                      rules=self.ingest.landing_rules(),
                                      compact_at=self.ingest.compact_closed_hours_at,
                                      lanes=self.ingest.writer_threads)
        dead_letters.on_wait = writer.wait_for_kafka
        try:
            writer.topic_ids = self.topic_ids = topic_ids(self.kafka, list(self.topics))
        except KafkaException as exc:  # unknown ids only weaken the incarnation check, never the landing
            log.warning("could not read the topic ids (%s); a recreated topic is then caught by its offsets only",
                        exc.args[0].str())
        writer.start()
        self._clock = AssignmentClock(self.topics, SinkError)
        if self.until_caught_up:
            self.goal = BoundedGoal.at_start(self.consumer, self.kafka, list(self.topics), self.committer,
                                             self.ingest.caught_up_within_s)
        self._subscribe()
        log.info("sink started", extra={"topics": list(self.topics), "group": self.ingest.group,
                                        "lake": str(self.lake.root), "format": self.lake.format})
        try:
            with fewer_collections():
                self._loop()
            self._flush_all()
            writer.drain()
            self._commit_landed(asynchronous=False)
        finally:
            self._closing = True  # from here a revoke (the consumer leaving) commits what landed, nothing more
            writer.stopping.set()
            writer.close()
            self.consumer.close()
            self.producer.flush(30)
            if self.goal is not None:
                self.goal.close()
        ended = time.monotonic()
        self.stats.seconds = ended - began
        self.stats.active_seconds = ended - (self._first_message_at or ended)
        if writer.error is not None:
            raise SinkError(f"landing failed: {writer.error}") from writer.error
        log.info("sink stopped", extra={"consumed": self.stats.consumed, "rows": self.stats.rows,
                                        "files": self.stats.files, "dead_letters": self.stats.dead_letters,
                                        "replays": self.stats.replays})
        return self.stats

    def _new_consumer(self) -> Consumer:
        # consumer_config's fetch settings, with [ingest] prefetch_mb fetched ahead at most (librdkafka's default
        # 64 MB): 32 MB landed JSON at 0.6x the rate, and 200,000 messages per partition Protobuf at 0.65x
        return Consumer(member_config(
            self.kafka, self.ingest.group, instance_id=self.ingest.instance_id,
            metrics=self.metrics if self.ingest.metrics_port is not None else None,
            on_commit=self.commit_retry.on_commit, **{"queued.max.messages.kbytes": self.ingest.prefetch_mb * 1024}))

    def _subscribe(self) -> None:
        assert self.consumer is not None
        self.consumer.subscribe(list(self.topics), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_lost)

    def _rejoin(self, why: str) -> None:
        """The consumer was fenced (see :class:`Rejoins`): drop what it held, as for lost partitions, and
        join the group with a new consumer."""
        assert self.writer is not None and self.consumer is not None
        self._rejoins.allow(why)
        log.warning("%s; joining the group again", why)
        self._forget_partitions(list(self.assigned))
        old, self.consumer = self.consumer, self._new_consumer()
        close_fenced(old)  # its rebalance callbacks see a consumer that is no longer ours and do nothing
        self._subscribe()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._step():
                    return
            except InstanceFenced as exc:
                self._rejoin(f"fenced: {exc}")

    def _step(self) -> bool:
        """One round of the loop; True when the run is over."""
        assert self.consumer is not None and self.writer is not None
        if self.writer.error is not None:
            return True
        msgs = self.consumer.consume(num_messages=CONSUME_BATCH, timeout=0.2)
        if msgs and self._first_message_at is None:
            self._first_message_at = time.monotonic()
        if msgs:
            self._route(msgs)
        self.reach.probe(self.consumer)
        self._flush_due()
        self._reread_fenced()
        self._commit_landed(asynchronous=True)
        if self.heartbeat is not None:
            waiting = self.writer.waiting or self.reach.error
            self.heartbeat.beat("ok" if waiting is None else f"waiting for Kafka: {waiting}")
        if not self.until_caught_up:
            return False
        assert self.goal is not None
        if not self._clock.assigned:  # a rebalance can wait for a stalled member's session to end
            self._clock.check()
            self.goal.check_deadline(self.assigned)
            return False
        if self._caught_up():
            return True
        self.goal.check_deadline(self.assigned)
        return False

    def _route(self, msgs: list[Message]) -> None:
        """Append consumed messages to their partition's buffer, a run of one partition at a time."""
        if any(map(Message.error, msgs)):
            for m in msgs:
                if (err := m.error()) is not None:
                    self.reach.saw(err)
                    check_error(err, SinkError, missing_topic_fatal=self.until_caught_up)
            msgs = [m for m in msgs if m.error() is None]
            if not msgs:
                return
        self.reach.fetched()
        partitions = np.fromiter(map(Message.partition, msgs), np.int64, count=len(msgs))
        change = partitions[1:] != partitions[:-1]
        if len(self.topics) > 1:
            topics = np.array(list(map(Message.topic, msgs)), dtype=object)
            change |= topics[1:] != topics[:-1]
        bounds = [0, *(np.nonzero(change)[0] + 1).tolist(), len(msgs)]
        for a, b in itertools.pairwise(bounds):
            topic, partition, _ = position_of(msgs[a])
            key = (topic, partition)
            self.buffers.add(key, msgs[a:b])
            self.metrics.consumed.labels(key[0]).inc(b - a)
        self.stats.consumed += len(msgs)

    # -- handing batches to the writer ------------------------------------------------------------

    def _flush_due(self) -> None:
        # _submit may serve rebalance callbacks (while the writer is busy): a partition can be lost, and
        # its buffer dropped, between two submits, so every step looks its buffer up again
        ing, buffers = self.ingest, self.buffers
        for key in buffers.partitions():
            while (buf := buffers.by_key.get(key)) is not None and is_full(buf, ing):
                self._submit(key)
            if (buf := buffers.by_key.get(key)) is not None and is_old(buf, ing, time.monotonic()):
                self._submit(key)
        while buffers.total > ing.max_buffered_bytes and buffers.by_key:
            self._submit(buffers.biggest())

    def _flush_all(self, keys: list[TP] | None = None) -> None:
        for key in self.buffers.partitions() if keys is None else keys:
            while self.buffers.pending(key):
                self._submit(key)

    def _submit(self, key: TP) -> None:
        """Hand the partition's oldest batch to the writer."""
        assert self.consumer is not None and self.writer is not None
        if not self.buffers.pending(key):
            self.buffers.drop(key)
            return
        job = Job(key[0], key[1], self.buffers.take(key, self.ingest), self.epochs.get(key, 0))
        try:  # the writer usually frees a slot within a batch's time: just wait
            self.writer.put(job, timeout=PAUSE_AFTER_S)
            return
        except queue.Full:
            pass
        # the writer is slow: pause fetching (memory stays bounded) but keep polling, so the group
        # keeps this member and rebalance callbacks run
        paused = [TopicPartition(t, p) for t, p in self.assigned]
        if paused:
            self.consumer.pause(paused)
        self.metrics.paused.set(1)
        began = time.monotonic()
        while True:
            try:
                self.writer.put(job, timeout=0.2)
                break
            except queue.Full:
                late = self.consumer.consume(num_messages=1000, timeout=0.05)
                if late:
                    self._route(late)
        self.stats.paused_seconds += time.monotonic() - began
        self.metrics.paused.set(0)
        if paused:
            self.consumer.resume([TopicPartition(t, p) for t, p in self.assigned])

    def _is_current(self, job: Job) -> bool:
        """The writer's check: the job's partition is still this member's, in the same assignment."""
        key = (job.topic, job.partition)
        return key in self.assigned and self.epochs.get(key, 0) == job.epoch

    def _reread_fenced(self) -> None:
        """A batch was fenced at the lake's commit point: drop what is buffered for its partition and read
        again after the lake's landed offset (batches already queued will be fenced too)."""
        assert self.writer is not None and self.consumer is not None
        for key, landed in self.writer.take_fenced().items():
            if key not in self.assigned:
                continue
            self.buffers.drop(key)
            self.epochs[key] = self.epochs.get(key, 0) + 1
            landed = self.committer.recover(*key) if landed is None else landed
            offset = landed + 1 if landed is not None else OFFSET_INVALID
            if offset >= 0:
                self.consumer.seek(TopicPartition(key[0], key[1], offset))
            log.warning("%s[%d]: reading again from offset %d (the lake's)", key[0], key[1], offset)

    # -- offsets ------------------------------------------------------------------------------------

    def _commit_landed(self, asynchronous: bool, keys: list[TP] | None = None) -> None:
        """Commit the offsets of landed batches (all, or those of ``keys``)."""
        assert self.writer is not None
        pending = self.writer.take_landed(keys)
        if keys is None:  # a revoke commits its own partitions synchronously; retries ride along with the rest
            pending = self.commit_retry.with_retries(pending, self.assigned)
        if pending:
            self._commit([TopicPartition(t, p, o) for (t, p), o in pending.items()], asynchronous)

    def _commit(self, offsets: list[TopicPartition], asynchronous: bool = False) -> None:
        assert self.consumer is not None
        try:
            if asynchronous:
                self.consumer.commit(offsets=offsets, asynchronous=True)
            else:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            self.metrics.last_commit.set_to_current_time()
        except KafkaException as exc:
            # The lake already records these batches as landed; whoever owns the partition next starts after them.
            log.warning("offset commit of %s failed (%s); the lake's record stands", fmt_partitions(offsets),
                        exc.args[0].str())
            self.commit_retry.failed_now(offsets, exc.args[0].str())

    # -- rebalancing --------------------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self.consumer:
            return  # a fenced consumer being closed
        if self._closing:  # a rebalance while leaving the group: take nothing on
            return
        if partitions:
            try:
                found = consumer.committed(partitions, timeout=30)
            except KafkaException as exc:  # no answer: the lake's record alone decides where to start
                log.warning("reading committed offsets failed (%s); starting from the lake's record",
                            exc.args[0].str())
                found = [TopicPartition(tp.topic, tp.partition, OFFSET_INVALID) for tp in partitions]
            committed = {(tp.topic, tp.partition): tp.offset for tp in found}
            for tp in partitions:
                key = (tp.topic, tp.partition)
                low, high = consumer.get_watermark_offsets(tp, timeout=30, cached=False)
                start = start_offset(committed.get(key, OFFSET_INVALID), self.committer.recover(*key), low, high,
                                     landed_topic_id=self.committer.landed_topic_id(*key),
                                     topic_id=self.topic_ids.get(tp.topic))
                if start.problem:
                    raise SinkError(f"{tp.topic}[{tp.partition}]: {start.problem}")
                if start.skipped:
                    log.warning("%s[%d]: %s", tp.topic, tp.partition, start.reason)
                    self.committer.skip_to(tp.topic, tp.partition, start.offset)
                elif start.reason:
                    log.info("%s[%d]: %s", tp.topic, tp.partition, start.reason)
                if start.commit:
                    self._commit([TopicPartition(tp.topic, tp.partition, start.offset)])
                tp.offset = start.offset
                self.starts[key] = start.offset
                self.assigned.add(key)
                self.epochs[key] = self.epochs.get(key, 0) + 1
            consumer.incremental_assign(partitions)
        self._clock.assigned = True
        log.info("assigned %s", fmt_partitions(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self.consumer:
            return  # a fenced consumer being closed
        assert self.writer is not None
        keys = [(tp.topic, tp.partition) for tp in partitions]
        if not self._closing:  # closing: the writer has stopped, so nothing more lands
            self._flush_all(keys)
            self.writer.drain()
        self._commit_landed(asynchronous=False, keys=keys)
        for key in keys:
            self.assigned.discard(key)
            self.buffers.drop(key)
            self.epochs[key] = self.epochs.get(key, 0) + 1
        self.commit_retry.forget(keys)
        consumer.incremental_unassign(partitions)
        log.info("revoked %s", fmt_partitions(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions taken away without a clean hand-over: drop what was buffered, land nothing more."""
        if consumer is not self.consumer:
            return  # a fenced consumer being closed
        self._forget_partitions([(tp.topic, tp.partition) for tp in partitions])
        consumer.incremental_unassign(partitions)
        log.warning("lost %s", fmt_partitions(partitions))

    def _forget_partitions(self, keys: list[TP]) -> None:
        """Drop what these partitions hold, buffered or queued: their batches never reach the commit."""
        assert self.writer is not None
        for key in keys:
            self.buffers.drop(key)
            self.writer.forget(key)
            self.assigned.discard(key)
            self.epochs[key] = self.epochs.get(key, 0) + 1
        self.commit_retry.forget(keys)

    def _caught_up(self) -> bool:
        """Every partition of the topics is landed up to the log end seen at start: by this member (its
        position reached it; what it holds is flushed on the way out) or by another (the lake says so)."""
        assert self.consumer is not None and self.goal is not None
        positions = {}
        if self.assigned:
            for tp in self.consumer.position([TopicPartition(t, p) for t, p in self.assigned]):
                key = (tp.topic, tp.partition)
                positions[key] = tp.offset if tp.offset >= 0 else self.starts.get(key, -1)
        return self.goal.reached(positions)
