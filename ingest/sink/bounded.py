"""What a bounded run (``smartcity ingest --until-caught-up``, the ``ingest_batch`` flow) must reach
before it may report success: every partition of its topics landed up to the log end it saw at
start, whoever landed it.

A member of a group is given only some partitions, and none while a crashed member's session is
still open or while a live daemon holds them all. So "my partitions are caught up" proves nothing
about the topic. The goal is checked against the lake instead: a partition is done when this
member's position passed its end (what it holds is flushed on the way out), or when the lake's
landed offset reached it, or when nothing but transaction markers is left between the two (a probe
reads the gap with ``read_committed``). A run that cannot get there within its time fails and
names the partitions left.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import Consumer, TopicPartition

from smartcity.core.errors import SinkError
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.batching import TP
from smartcity.storage.commit import Committer, read_landed_offset

PROBE_EVERY_S = 5.0


@dataclass
class BoundedGoal:
    kafka: KafkaSettings
    committer: Committer
    ends: dict[TP, tuple[int, int]]  # (log start, log end) of every partition, at start
    within_s: float
    deadline: float
    _probe: Consumer | None = None
    _probed_at: dict[TP, float] = field(default_factory=dict)
    _probe_answer: dict[TP, bool] = field(default_factory=dict)

    @classmethod
    def at_start(cls, consumer: Consumer, kafka: KafkaSettings, topics: Iterable[str], committer: Committer,
                 within_s: float) -> BoundedGoal:
        ends: dict[TP, tuple[int, int]] = {}
        metadata = consumer.list_topics(timeout=30)
        for topic in topics:
            found = metadata.topics.get(topic)
            if found is None or found.error is not None or not found.partitions:
                raise SinkError(f"topic {topic} does not exist (create the topics with `smartcity topics create`)")
            for partition in sorted(found.partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30,
                                                           cached=False)
                ends[(topic, partition)] = (low, high)
        return cls(kafka, committer, ends, within_s, time.monotonic() + within_s)

    def left(self, positions: Mapping[TP, int]) -> list[TP]:
        """Partitions not landed to their end yet; ``positions`` are this member's, of its partitions."""
        out = []
        for key, (low, high) in self.ends.items():
            if high <= low:
                continue
            if key in positions:
                if positions[key] < high:
                    out.append(key)
                continue
            landed = read_landed_offset(self.committer.root, *key)
            if landed is not None and landed + 1 >= high:
                continue
            if not self._only_markers(key, low if landed is None else landed + 1, high):
                out.append(key)
        return out

    def reached(self, positions: Mapping[TP, int]) -> bool:
        return not self.left(positions)

    def check_deadline(self, assigned: Iterable[TP]) -> None:
        if time.monotonic() < self.deadline:
            return
        mine = set(assigned)
        left = self.left({})
        described = ", ".join(
            f"{t}[{p}] (landed up to {read_landed_offset(self.committer.root, t, p)}, end {self.ends[(t, p)][1]}"
            f"{', this member' if (t, p) in mine else ''})" for t, p in left[:10])
        raise SinkError(f"not caught up within {self.within_s:.0f} s: {len(left)} partitions are not landed to the "
                        f"end they had at start: {described}. Is another member of the group stuck, or the lake "
                        "fed by a different group? Run again, or raise the time limit", transient=True)

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def _only_markers(self, key: TP, start: int, end: int) -> bool:
        """No committed data message in ``[start, end)``: only transaction markers (or aborted data)."""
        now = time.monotonic()
        if now - self._probed_at.get(key, -PROBE_EVERY_S) < PROBE_EVERY_S:
            return self._probe_answer.get(key, False)
        self._probed_at[key] = now
        if self._probe is None:
            self._probe = Consumer(consumer_config(self.kafka, f"smartcity-probe-{uuid.uuid4().hex[:8]}", **{
                "isolation.level": "read_committed", "fetch.min.bytes": 1, "queued.min.messages": 10}))
        self._probe.assign([TopicPartition(key[0], key[1], start)])
        try:
            found = [m for m in self._probe.consume(1, timeout=2.0) if m.error() is None]
            if found:
                offset = found[0].offset()
                answer = offset is not None and offset >= end
            else:
                position = self._probe.position([TopicPartition(key[0], key[1])])[0].offset
                answer = position >= end
        finally:
            self._probe.unassign()
        self._probe_answer[key] = answer
        return answer
