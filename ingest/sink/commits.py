"""Offset commits that failed, sent again.

The sink commits the offsets of landed batches asynchronously; an asynchronous commit that fails
(``NOT_COORDINATOR`` while the group coordinator moves or loads, a rebalance in progress) is only
reported to the ``on_commit`` callback. Dropping it is safe for the data, since the lake's record of
what landed decides where a partition starts, but the group's committed offset then stays behind until
that partition lands again: with no new data, never. Its lag looks stuck, so ``smartcity lag`` and
KEDA see work that is done and never scale the group down. :class:`CommitRetry` keeps the newest
failed offset per partition and hands it to the next commit while the partition is still this
member's, unless a newer offset was committed since.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, TopicPartition

from smartcity.ingest.sink.batching import TP

log = logging.getLogger("smartcity.sink")


class CommitRetry:
    def __init__(self) -> None:
        self._failed: dict[TP, int] = {}
        self._done: dict[TP, int] = {}
        self.failures = 0
        """Commits that failed (each retried with the next commit)."""
        self._failing = False

    def on_commit(self, err: KafkaError | None, partitions: list[TopicPartition]) -> None:
        """The consumer's ``on_commit`` callback (runs inside its poll, on the sink's thread)."""
        failed = [tp for tp in partitions if err is not None or tp.error is not None]
        for tp in partitions:
            if tp.offset < 0:
                continue
            key = (tp.topic, tp.partition)
            target = self._failed if tp in failed else self._done
            target[key] = max(target.get(key, -1), tp.offset)
        if failed:
            self.failed_now(failed, err.str() if err is not None else str(failed[0].error))
        elif partitions:
            if self._failing:
                log.info("offset commits go through again")
            self._failing = False

    def failed_now(self, partitions: list[TopicPartition], why: str) -> None:
        """A commit that raised (a synchronous one): retry it like an asynchronous failure."""
        for tp in partitions:
            if tp.offset >= 0:
                key = (tp.topic, tp.partition)
                self._failed[key] = max(self._failed.get(key, -1), tp.offset)
        self.failures += 1
        if not self._failing:  # once per run of failures, not once per retry
            log.info("offset commit of %d partition(s) failed (%s); sent again with the next commits",
                     len(partitions), why)
        self._failing = True

    def with_retries(self, pending: dict[TP, int], owned: set[TP]) -> dict[TP, int]:
        """``pending`` offsets plus the failed ones of partitions still ``owned`` and not committed since."""
        out = dict(pending)
        for key, offset in self._failed.items():
            if key in owned and offset > self._done.get(key, -1) and offset > out.get(key, -1):
                out[key] = offset
        self._failed.clear()
        return out

    def forget(self, keys: list[TP]) -> None:
        """Partitions that left this member: their next owner commits for them."""
        for key in keys:
            self._failed.pop(key, None)
            self._done.pop(key, None)
