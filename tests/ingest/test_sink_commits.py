"""Failed offset commits are sent again while the partition is still ours, never behind a newer commit."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaError, TopicPartition

from smartcity.ingest.sink.commits import CommitRetry

T = "smartcity.bus.telemetry"


def _tp(offset: int, partition: int = 0) -> TopicPartition:
    return TopicPartition(T, partition, offset)


@dataclass(frozen=True)
class _Reported:
    """A partition as the commit callback reports it, with its own error (TopicPartition's is read-only)."""

    topic: str
    partition: int
    offset: int
    error: KafkaError | None = None


def test_a_failed_asynchronous_commit_rides_with_the_next_one() -> None:
    retry = CommitRetry()
    retry.on_commit(KafkaError(KafkaError.NOT_COORDINATOR), [_tp(500), _tp(70, 1)])
    assert retry.failures == 1
    # nothing new landed on partition 0: its failed offset is committed anyway; partition 1 moved on
    assert retry.with_retries({(T, 1): 90}, owned={(T, 0), (T, 1)}) == {(T, 0): 500, (T, 1): 90}
    assert retry.with_retries({}, owned={(T, 0), (T, 1)}) == {}  # sent once; a new failure brings it back


def test_a_retry_never_moves_a_partition_back_or_commits_for_another_member() -> None:
    retry = CommitRetry()
    retry.on_commit(KafkaError(KafkaError.REBALANCE_IN_PROGRESS), [_tp(500), _tp(40, 2)])
    retry.on_commit(None, [_tp(800)])  # a newer commit of partition 0 went through since
    assert retry.with_retries({}, owned={(T, 0)}) == {}  # partition 2 is no longer ours
    retry.failed_now([_tp(900)], "timed out")  # a synchronous commit that raised
    retry.forget([(T, 0)])  # revoked before the next commit
    assert retry.with_retries({}, owned={(T, 0)}) == {}


def test_a_per_partition_error_is_a_failure_of_that_partition_only() -> None:
    retry = CommitRetry()
    reported = [_Reported(T, 3, 300, KafkaError(KafkaError.UNKNOWN_MEMBER_ID)), _Reported(T, 4, 10)]
    retry.on_commit(None, reported)  # type: ignore[arg-type]
    assert retry.with_retries({}, owned={(T, 3), (T, 4)}) == {(T, 3): 300}
