"""The sink's writer threads: land the batches the consumer hands them and record each landed batch's
next offset for the consumer to commit.

Each thread (a *lane*) has its own short queue and lands one batch at a time; every batch of a
topic-partition goes to the same lane, so a partition's batches land in offset order, while batches
of different partitions land side by side (the lake's commit point is per partition). Decoding in
NumPy/numba and writing Parquet release the GIL, so two lanes overlap on two cores."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from confluent_kafka import Message

from smartcity.core.errors import FencedBatch, is_transient
from smartcity.core.faults import fault_point
from smartcity.ingest.kafka.member import headers_of
from smartcity.ingest.sink.backfill import BackfillCompactor
from smartcity.ingest.sink.batching import TP
from smartcity.ingest.sink.deadletter import DeadLetterWriter
from smartcity.ingest.sink.landing import (
    DEFAULT_RULES,
    BatchResult,
    DeadLetter,
    LandingRules,
    RowsDecoder,
    process_batch,
)
from smartcity.ingest.sink.metrics import SinkMetrics
from smartcity.storage.commit import Committer
from smartcity.storage.datasets import Dataset

log = logging.getLogger("smartcity.ingest")

RETRY_MAX_S = 30.0


@dataclass
class SinkStats:
    consumed: int = 0
    rows: int = 0
    files: int = 0
    dead_letters: int = 0
    replays: int = 0  # messages dropped because their device_seq was already landed
    batches: int = 0
    seconds: float = 0.0
    active_seconds: float = 0.0  # from the first consumed message to the end (no start-up, no group join)
    paused_seconds: float = 0.0
    hours_compacted: int = 0  # closed hours a backfill filled up, merged by the writer
    by_dataset: dict[str, int] = field(default_factory=dict)


@dataclass
class Job:
    topic: str
    partition: int
    messages: list[Message]
    epoch: int = 0  # the partition's assignment epoch when the batch was cut (see Sink.epochs)


QUEUED_BATCHES = 2  # batches waiting for the lanes, all lanes together (with those landing, this bounds memory)


class Writer:
    """Takes :class:`Job` s from short queues (their length bounds memory) on ``lanes`` threads."""

    def __init__(self, topics: dict[str, Dataset], decoders: dict[str, RowsDecoder], committer: Committer,
                 dead_letters: DeadLetterWriter, metrics: SinkMetrics, stats: SinkStats,
                 on_batch: Callable[[BatchResult, SinkStats], None] | None = None,
                 is_current: Callable[[Job], bool] = lambda _job: True, rules: LandingRules = DEFAULT_RULES,
                 compact_at: int = 0, lanes: int = 1) -> None:
        self.topics, self.decoders, self.committer = topics, decoders, committer
        self.backfill = BackfillCompactor(committer.root, compact_at)  # merges full closed hours of a backfill
        self.rules = rules  # the event-time range and air-time convention of [ingest]
        self.topic_ids: dict[str, str] = {}  # topic -> Kafka topic id, recorded with each landed offset
        self.dead_letters, self.metrics, self.stats, self.on_batch = dead_letters, metrics, stats, on_batch
        self.queues: list[queue.Queue[Job | None]] = [
            queue.Queue(maxsize=max(1, QUEUED_BATCHES // lanes)) for _ in range(lanes)]
        self._lane_of: dict[TP, int] = {}  # a partition's lane, for as long as the writer lives
        self.error: BaseException | None = None
        self.is_current = is_current
        self.fenced: dict[TP, int | None] = {}  # partition -> the lake's landed offset that fenced a batch
        self._landed: dict[TP, int] = {}
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()  # statistics, the batch callback, backfill compaction: a lane at a time
        self.waiting: str | None = None  # why landing waits (the broker is away), while it does
        self.stopping = threading.Event()  # set by the sink on its way out: stop retrying
        self._threads = [threading.Thread(target=self._run, args=(q,), name=f"sink-writer-{i}", daemon=True)
                         for i, q in enumerate(self.queues)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def lane(self, key: TP) -> int:
        """The lane that lands every batch of partition ``key`` (assigned round-robin on first sight)."""
        lane = self._lane_of.get(key)
        if lane is None:
            lane = self._lane_of[key] = len(self._lane_of) % len(self.queues)
        return lane

    def put(self, job: Job, timeout: float) -> None:
        """Queue ``job`` on its partition's lane; ``queue.Full`` after ``timeout`` seconds."""
        self.queues[self.lane((job.topic, job.partition))].put(job, timeout=timeout)

    def drain(self) -> None:
        """Wait until everything queued is landed (or failed); at once for a lane whose thread has ended
        (closed, or stopped by an error): nobody would land what it holds."""
        for jobs, thread in zip(self.queues, self._threads, strict=True):
            done = jobs.all_tasks_done
            with done:
                while jobs.unfinished_tasks and thread.is_alive():
                    done.wait(0.5)

    def close(self, timeout: float = 120) -> None:
        for jobs in self.queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=timeout)

    def take_landed(self, keys: list[TP] | None = None) -> dict[TP, int]:
        """Next offsets of landed batches not yet committed (all, or those of ``keys``), forgotten here."""
        with self._lock:
            if keys is None:
                out, self._landed = self._landed, {}
                return out
            return {k: self._landed.pop(k) for k in keys if k in self._landed}

    def take_fenced(self) -> dict[TP, int | None]:
        with self._lock:
            out, self.fenced = self.fenced, {}
            return out

    def forget(self, key: TP) -> None:
        with self._lock:
            self._landed.pop(key, None)

    def _run(self, jobs: queue.Queue[Job | None]) -> None:
        while True:
            job = jobs.get()
            try:
                if job is None:
                    return
                if self.error is None and self.is_current(job):  # jobs of lost or revoked partitions never land
                    self._land_riding_out_outages(job)
            except FencedBatch as fenced:
                log.warning("%s; discarding it and reading again from the lake's offset", fenced)
                with self._lock:
                    self.fenced[(fenced.topic, fenced.partition)] = fenced.landed
            except BaseException as exc:  # surfaced by the consumer loop
                log.exception("landing a batch of %s[%d] failed", job.topic if job else "?",
                              job.partition if job else -1)
                if self.error is None:
                    self.error = exc
            finally:
                jobs.task_done()

    def wait_for_kafka(self, why: str | None) -> bool:
        """Say why landing waits (``None``: it no longer does); False once the member is stopping."""
        if why is not None and self.waiting is None:
            log.warning("waiting for Kafka: %s", why)
        elif why is None and self.waiting is not None:
            log.info("Kafka is back")
        self.waiting = why
        self.metrics.waiting.set(0 if why is None else 1)
        return not self.stopping.is_set()

    def _land_riding_out_outages(self, job: Job) -> None:
        """Land ``job``; while that fails for a transient reason (the broker away, so its dead letters cannot
        be acknowledged), wait and try again, with back-off up to ``RETRY_MAX_S``. Nothing of the batch is
        in the lake until it succeeds, so a retry never duplicates rows; the queue stays full meanwhile,
        which pauses consumption."""
        delay = 1.0
        while True:
            try:
                self._land(job)
                if self.waiting is not None:
                    self.wait_for_kafka(None)
                return
            except BaseException as exc:
                if isinstance(exc, FencedBatch) or not is_transient(exc) or self.stopping.is_set():
                    raise
                self.wait_for_kafka(str(exc))
                if self.stopping.wait(delay):
                    raise
                delay = min(delay * 2, RETRY_MAX_S)

    def _land(self, job: Job) -> None:
        msgs = job.messages
        dataset = self.topics[job.topic]
        values = list(map(Message.value, msgs))
        offsets = np.fromiter(map(Message.offset, msgs), np.int64, count=len(msgs))
        with self.metrics.batch_seconds.time():
            def deliver(dead: list[DeadLetter]) -> None:  # acknowledged before the lake's offset moves
                self.dead_letters.send(msgs, dead, topic=job.topic, partition=job.partition, dataset=dataset.name)

            result = process_batch(dataset, self.decoders[job.topic], self.committer, job.topic, job.partition,
                                   values, offsets, headers_of=lambda i: headers_of(msgs[i]), before_landing=deliver,
                                   rules=self.rules, topic_id=self.topic_ids.get(job.topic))
        fault_point("landed")
        with self._lock:  # committed by the consumer's own thread (never while it waits on us)
            self._landed[(job.topic, job.partition)] = int(offsets[-1]) + 1
        with self._count_lock:
            self._count(job, dataset, result, offsets)
            self.stats.hours_compacted += len(self.backfill.after_batch(result.landed))

    def _count(self, job: Job, dataset: Dataset, result: BatchResult, offsets: np.ndarray) -> None:
        st = self.stats
        st.batches += 1
        st.rows += result.rows
        st.files += len(result.landed)
        st.dead_letters += len(result.dead)
        st.replays += result.replays
        st.by_dataset[dataset.name] = st.by_dataset.get(dataset.name, 0) + result.rows
        self.metrics.rows.labels(dataset.name).inc(result.rows)
        for f in result.landed:
            self.metrics.files.labels(dataset.name).inc()
            self.metrics.bytes.labels(dataset.name).inc(f.bytes)
        if result.replays:
            self.metrics.replays.labels(job.topic).inc(result.replays)
            log.info("%s[%d]: dropped %d replays (device_seq already landed) in offsets %d..%d", job.topic,
                     job.partition, result.replays, int(offsets[0]), int(offsets[-1]))
        log.info("landed batch", extra={"topic": job.topic, "partition": job.partition,
                                        "first_offset": int(offsets[0]), "last_offset": int(offsets[-1]),
                                        "rows": result.rows, "flagged_rows": result.flagged,
                                        "files": len(result.landed),
                                        "dead_letters": len(result.dead), "replays": result.replays,
                                        "seconds": round(result.seconds, 3)})
        if self.on_batch is not None:
            self.on_batch(result, st)
