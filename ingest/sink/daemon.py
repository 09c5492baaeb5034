"""The sink daemon: a consumer group member that lands its partitions in the lake, exactly once.

The main thread consumes and buffers messages per topic-partition. A writer thread takes full
batches (rows, bytes or age), decodes and validates them, sends bad messages to the dead-letter
topic, lands the good rows (:mod:`smartcity.storage.commit`), and only then commits the Kafka offset. While
the writer is busy and its queue is full, the consumer pauses its partitions (back-pressure, so
memory stays bounded whatever the backlog). When partitions are assigned, the lake's record of
landed offsets decides where to start, so a file landed but not committed is neither lost nor
duplicated. Revoked partitions are flushed and committed before they move to another member.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from smartcity.core.errors import SinkError
from smartcity.ingest.decode.gtfsrt import GtfsRtDecoder
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.health import Heartbeat
from smartcity.ingest.kafka.config import consumer_config, producer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.landing import BatchResult, process_batch
from smartcity.ingest.sink.metrics import SinkMetrics
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.storage.commit import Committer
from smartcity.storage.datasets import BUS_TELEMETRY, BY_KIND, Dataset
from smartcity.storage.formats import get_format
from smartcity.storage.settings import LakeSettings

log = logging.getLogger("smartcity.ingest")

TP = tuple[str, int]
MESSAGE_OVERHEAD = 300  # bytes a buffered message costs beyond its value (Python objects, topic, headers)
ASSIGN_TIMEOUT_S = 90.0
PAUSE_AFTER_S = 5.0  # a writer busier than this makes the consumer pause its partitions


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


@dataclass
class PartitionBuffer:
    topic: str
    partition: int
    messages: list[Message] = field(default_factory=list)
    nbytes: int = 0
    since: float = 0.0

    def add(self, chunk: list[Message], nbytes: int) -> None:
        if not self.messages:
            self.since = time.monotonic()
        self.messages.extend(chunk)
        self.nbytes += nbytes

    def take(self, limit: int) -> tuple[list[Message], int]:
        """The oldest ``limit`` messages and their size in bytes."""
        if len(self.messages) <= limit:
            out, size = self.messages, self.nbytes
            self.messages, self.nbytes = [], 0
            return out, size
        out, self.messages = self.messages[:limit], self.messages[limit:]
        size = sum(map(len, out)) + MESSAGE_OVERHEAD * len(out)
        self.nbytes -= size
        self.since = time.monotonic()
        return out, size


@dataclass
class SinkStats:
    consumed: int = 0
    rows: int = 0
    files: int = 0
    dead_letters: int = 0
    batches: int = 0
    seconds: float = 0.0
    active_seconds: float = 0.0  # from the first consumed message to the end (no start-up, no group join)
    paused_seconds: float = 0.0
    by_dataset: dict[str, int] = field(default_factory=dict)


@dataclass
class _Job:
    topic: str
    partition: int
    messages: list[Message]


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
        self.decoders: dict[str, Any] = {}
        for topic, dataset in self.topics.items():
            gtfs = topic == ingest.gtfsrt_topic
            self.decoders[topic] = GtfsRtDecoder() if gtfs else BatchDecoder(dataset)
        self.metrics = SinkMetrics()
        self.stats = SinkStats()
        self.buffers: dict[TP, PartitionBuffer] = {}
        self.assigned: set[TP] = set()
        self.targets: dict[TP, int] = {}
        self.starts: dict[TP, int] = {}
        self._assigned_once = threading.Event()
        self._stop = threading.Event()
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=2)
        self._writer_error: BaseException | None = None
        self._to_commit: dict[TP, int] = {}
        self._commit_lock = threading.Lock()
        self._buffered = 0
        self._first_message_at: float | None = None
        self._closing = False
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish: flush every batch, commit, leave the group (signal-safe)."""
        self._stop.set()

    def run(self) -> SinkStats:
        began = time.monotonic()
        self.lake.root.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {
            "partition.assignment.strategy": "cooperative-sticky",
            "queued.min.messages": 200_000,
            "queued.max.messages.kbytes": 32_768,
            # a member killed with -9 leaves the group after 10 s, not librdkafka's default 45 s
            "session.timeout.ms": 10_000,
            "heartbeat.interval.ms": 2_000,
        }
        if self.ingest.instance_id:
            extra["group.instance.id"] = self.ingest.instance_id
        if self.ingest.metrics_port is not None:
            extra["statistics.interval.ms"] = 5000
            extra["stats_cb"] = self.metrics.on_stats
            self.metrics.serve(self.ingest.metrics_port)
        for decoder in self.decoders.values():
            getattr(decoder, "warm_up", lambda: None)()
        self.consumer = Consumer(consumer_config(self.kafka, self.ingest.group, **extra))
        self.producer = Producer(producer_config(self.kafka, **{"linger.ms": 5}))
        writer = threading.Thread(target=self._writer, name="sink-writer", daemon=True)
        writer.start()
        self.consumer.subscribe(list(self.topics), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_lost)
        log.info("sink started", extra={"topics": list(self.topics), "group": self.ingest.group,
                                        "lake": str(self.lake.root), "format": self.lake.format})
        try:
            self._loop()
            self._flush_all()
            self._drain()
            self._commit_landed(asynchronous=False)
        finally:
            self._jobs.put(None)
            writer.join(timeout=120)
            self._closing = True
            self.consumer.close()
            self.producer.flush(30)
        ended = time.monotonic()
        self.stats.seconds = ended - began
        self.stats.active_seconds = ended - (self._first_message_at or ended)
        if self._writer_error is not None:
            raise SinkError(f"landing failed: {self._writer_error}") from self._writer_error
        log.info("sink stopped", extra={"consumed": self.stats.consumed, "rows": self.stats.rows,
                                        "files": self.stats.files, "dead_letters": self.stats.dead_letters})
        return self.stats

    def _loop(self) -> None:
        assert self.consumer is not None
        consume = self.consumer.consume
        wait_started = time.monotonic()
        while not self._stop.is_set():
            if self._writer_error is not None:
                return
            msgs = consume(num_messages=20_000, timeout=0.2)
            if msgs and self._first_message_at is None:
                self._first_message_at = time.monotonic()
            if msgs:
                self._route(msgs)
            self._flush_due()
            self._commit_landed(asynchronous=True)
            if self.heartbeat is not None:
                self.heartbeat.beat()
            if self.until_caught_up:
                if not self._assigned_once.is_set():
                    if time.monotonic() - wait_started > ASSIGN_TIMEOUT_S:
                        raise SinkError(f"no partitions of {', '.join(self.topics)} were assigned within "
                                        f"{ASSIGN_TIMEOUT_S:.0f} s (do the topics exist?)")
                    continue
                if self._caught_up():
                    return

    def _route(self, msgs: list[Message]) -> None:
        """Append consumed messages to their partition's buffer, a run of one partition at a time."""
        if any(map(Message.error, msgs)):
            for m in msgs:
                if m.error() is not None:
                    self._on_error(m.error())
            msgs = [m for m in msgs if m.error() is None]
            if not msgs:
                return
        partitions = np.fromiter(map(Message.partition, msgs), np.int64, count=len(msgs))
        change = partitions[1:] != partitions[:-1]
        if len(self.topics) > 1:
            topics = np.array(list(map(Message.topic, msgs)), dtype=object)
            change |= topics[1:] != topics[:-1]
        bounds = [0, *(np.nonzero(change)[0] + 1).tolist(), len(msgs)]
        for a, b in itertools.pairwise(bounds):
            first = msgs[a]
            self._add((first.topic(), first.partition()), msgs[a:b])
        self.stats.consumed += len(msgs)

    def _add(self, key: TP, run: list[Message]) -> None:
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = PartitionBuffer(*key)
        nbytes = sum(map(len, run)) + MESSAGE_OVERHEAD * len(run)
        buf.add(run, nbytes)
        self._buffered += nbytes
        self.metrics.consumed.labels(key[0]).inc(len(run))

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            raise SinkError(f"fatal Kafka error: {err.str()}")
        if err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART and self.until_caught_up:
            raise SinkError(f"{err.str()} (create the topics with `smartcity topics create`)")
        log.warning("kafka: %s", err.str())

    # -- batching --------------------------------------------------------------------------------

    def _flush_due(self) -> None:
        ing = self.ingest
        for key, buf in list(self.buffers.items()):
            while buf.messages and (len(buf.messages) >= ing.batch_max_rows or buf.nbytes >= ing.batch_max_bytes):
                self._submit(key)
            if buf.messages and time.monotonic() - buf.since >= ing.batch_max_age_s:
                self._submit(key)
        while self._buffered > ing.max_buffered_bytes:
            biggest = max(self.buffers, key=lambda k: self.buffers[k].nbytes)
            self._submit(biggest)

    def _flush_all(self, keys: list[TP] | None = None) -> None:
        for key in list(self.buffers) if keys is None else keys:
            while key in self.buffers and self.buffers[key].messages:
                self._submit(key)

    def _submit(self, key: TP) -> None:
        """Hand the partition's oldest batch (at most batch_max_rows messages) to the writer."""
        buf = self.buffers[key]
        limit = self.ingest.batch_max_rows
        if buf.nbytes > self.ingest.batch_max_bytes and len(buf.messages) > 1:
            average = buf.nbytes / len(buf.messages)
            limit = max(1, min(limit, int(self.ingest.batch_max_bytes / average)))
        messages, size = buf.take(limit)
        self._buffered -= size
        job = _Job(key[0], key[1], messages)
        try:  # the writer usually frees a slot within a batch's time: just wait
            self._jobs.put(job, timeout=PAUSE_AFTER_S)
            return
        except queue.Full:
            pass
        # the writer is slow: pause fetching (memory stays bounded) but keep polling, so the group
        # keeps this member and rebalance callbacks run
        assert self.consumer is not None
        paused = [TopicPartition(t, p) for t, p in self.assigned]
        if paused:
            self.consumer.pause(paused)
        self.metrics.paused.set(1)
        began = time.monotonic()
        while True:
            try:
                self._jobs.put(job, timeout=0.2)
                break
            except queue.Full:
                late = self.consumer.consume(num_messages=1000, timeout=0.05)
                if late:
                    self._route(late)
        self.stats.paused_seconds += time.monotonic() - began
        self.metrics.paused.set(0)
        if paused:
            self.consumer.resume([TopicPartition(t, p) for t, p in self.assigned])

    def _drain(self) -> None:
        """Wait until the writer has landed and committed everything submitted."""
        self._jobs.join()

    # -- the writer thread ------------------------------------------------------------------------

    def _writer(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._writer_error is None:
                    self._land(job)
            except BaseException as exc:  # surfaced by the main loop
                log.exception("landing a batch of %s[%d] failed", job.topic if job else "?",
                              job.partition if job else -1)
                self._writer_error = exc
            finally:
                self._jobs.task_done()

    def _land(self, job: _Job) -> None:
        msgs = job.messages
        dataset = self.topics[job.topic]
        values = list(map(Message.value, msgs))
        offsets = np.fromiter(map(Message.offset, msgs), np.int64, count=len(msgs))
        with self.metrics.batch_seconds.time():
            result = process_batch(dataset, self.decoders[job.topic], self.committer, job.topic, job.partition,
                                   values, offsets, headers_of=lambda i: msgs[i].headers())
            if result.dead:
                self._dead_letter(job, dataset, result)
        with self._commit_lock:  # committed by the consumer's own thread (never while it waits on us)
            self._to_commit[(job.topic, job.partition)] = int(offsets[-1]) + 1
        st = self.stats
        st.batches += 1
        st.rows += result.rows
        st.files += len(result.landed)
        st.dead_letters += len(result.dead)
        st.by_dataset[dataset.name] = st.by_dataset.get(dataset.name, 0) + result.rows
        self.metrics.rows.labels(dataset.name).inc(result.rows)
        for f in result.landed:
            self.metrics.files.labels(dataset.name).inc()
            self.metrics.bytes.labels(dataset.name).inc(f.bytes)
        log.info("landed batch", extra={"topic": job.topic, "partition": job.partition,
                                        "first_offset": int(offsets[0]), "last_offset": int(offsets[-1]),
                                        "rows": result.rows, "files": len(result.landed),
                                        "dead_letters": len(result.dead), "seconds": round(result.seconds, 3)})
        if self.on_batch is not None:
            self.on_batch(result, st)

    def _dead_letter(self, job: _Job, dataset: Dataset, result: BatchResult) -> None:
        assert self.producer is not None
        dlq = self.kafka.topic("deadletter")
        for dead in result.dead:
            m = job.messages[dead.index]
            headers = list(m.headers() or [])
            headers += [
                ("smartcity-error", dead.reason.encode()),
                ("smartcity-error-stage", dead.stage.encode()),
                ("smartcity-source-topic", job.topic.encode()),
                ("smartcity-source-partition", str(job.partition).encode()),
                ("smartcity-source-offset", str(m.offset()).encode()),
                ("smartcity-dataset", dataset.name.encode()),
            ]
            self.producer.produce(dlq, key=m.key(), value=m.value(), headers=headers)
            self.metrics.deadletters.labels(job.topic, dead.stage).inc()
        remaining = self.producer.flush(60)
        if remaining:
            raise SinkError(f"{remaining} dead letters could not be delivered to {dlq}; offsets not committed")

    def _commit_landed(self, asynchronous: bool, keys: list[TP] | None = None) -> None:
        """Commit the offsets of landed batches (all, or those of ``keys``)."""
        with self._commit_lock:
            if keys is None:
                pending, self._to_commit = self._to_commit, {}
            else:
                pending = {k: self._to_commit.pop(k) for k in keys if k in self._to_commit}
        if pending:
            self._commit([TopicPartition(t, p, o) for (t, p), o in pending.items()], asynchronous)

    def _commit(self, offsets: list[TopicPartition], asynchronous: bool = False) -> None:
        assert self.consumer is not None
        try:
            self.consumer.commit(offsets=offsets, asynchronous=asynchronous)
            self.metrics.last_commit.set_to_current_time()
        except KafkaException as exc:
            # The lake already records these batches as landed; whoever owns the partition next starts after them.
            log.warning("offset commit of %s failed (%s); the lake's record stands", _fmt(offsets), exc.args[0].str())

    # -- rebalancing --------------------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
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
                landed = self.committer.recover(tp.topic, tp.partition)
                start = committed.get(key, OFFSET_INVALID)
                if landed is not None and (start < 0 or start <= landed):
                    if start >= 0 or landed >= 0:
                        log.info("%s[%d]: lake has offsets up to %d landed, starting after them",
                                 tp.topic, tp.partition, landed)
                    start = landed + 1
                    self._commit([TopicPartition(tp.topic, tp.partition, start)])
                tp.offset = start
                self.starts[key] = start
                self.assigned.add(key)
                if self.until_caught_up:
                    _low, high = consumer.get_watermark_offsets(tp, timeout=30, cached=False)
                    self.targets[key] = high
            consumer.incremental_assign(partitions)
        self._assigned_once.set()
        log.info("assigned %s", _fmt(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        self._flush_all(keys)
        self._drain()
        self._commit_landed(asynchronous=False, keys=keys)
        for key in keys:
            self.assigned.discard(key)
            self.buffers.pop(key, None)
            self.targets.pop(key, None)
        consumer.incremental_unassign(partitions)
        log.info("revoked %s", _fmt(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions taken away without a clean hand-over: drop what was buffered, land nothing more."""
        for tp in partitions:
            key = (tp.topic, tp.partition)
            buf = self.buffers.pop(key, None)
            if buf:
                self._buffered -= buf.nbytes
            with self._commit_lock:
                self._to_commit.pop(key, None)
            self.assigned.discard(key)
            self.targets.pop(key, None)
        consumer.incremental_unassign(partitions)
        log.warning("lost %s", _fmt(partitions))

    def _caught_up(self) -> bool:
        assert self.consumer is not None
        if not self.assigned:
            return True
        positions = self.consumer.position([TopicPartition(t, p) for t, p in self.assigned])
        for tp in positions:
            key = (tp.topic, tp.partition)
            target = self.targets.get(key, 0)
            position = tp.offset if tp.offset >= 0 else self.starts.get(key, -1)
            if position < 0:
                position = (self.consumer.get_watermark_offsets(tp, cached=True) or (0, 0))[0]
            if position < target:
                return False
        return True


def _fmt(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
