"""The sink's pure parts, without a broker: where a partition starts, batching, dead-letter headers."""

from __future__ import annotations

from confluent_kafka import OFFSET_INVALID

from smartcity.ingest.sink.batching import MESSAGE_OVERHEAD, PartitionBuffer, batch_limit, is_full
from smartcity.ingest.sink.deadletter import dead_letter_headers
from smartcity.ingest.sink.landing import DeadLetter
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.ingest.sink.start import start_offset


def test_nothing_landed_keeps_the_committed_offset_or_the_reset_policy() -> None:
    assert start_offset(OFFSET_INVALID, None).offset == OFFSET_INVALID
    s = start_offset(120, None)
    assert (s.offset, s.commit) == (120, False)


def test_lake_ahead_of_the_committed_offset_wins_and_is_committed() -> None:
    s = start_offset(100, 149)  # landed 100..149, the commit of 150 was lost
    assert (s.offset, s.commit) == (150, True)
    assert "149" in s.reason
    s = start_offset(OFFSET_INVALID, 9)  # landed, never committed
    assert (s.offset, s.commit) == (10, True)


def test_committed_offset_past_the_lake_stands() -> None:
    s = start_offset(200, 149)  # committed by a member whose later batches are in the lake too
    assert (s.offset, s.commit) == (200, False)
    s = start_offset(150, 149)
    assert (s.offset, s.commit) == (150, False)


def test_a_lake_past_the_log_end_is_a_stated_problem_not_a_skip() -> None:
    s = start_offset(OFFSET_INVALID, 999, low=0, high=300)  # topic recreated: 300 new messages
    assert s.problem and "created again" in s.problem and s.offset == OFFSET_INVALID
    s = start_offset(1000, 999, low=0, high=1000)  # exactly caught up: fine
    assert not s.problem and s.offset == 1000


def test_a_new_topic_id_is_a_stated_problem_even_when_the_log_is_longer() -> None:
    """Recreated with more messages than the lake holds: the offsets alone look fine, the id does not."""
    s = start_offset(OFFSET_INVALID, 999, low=0, high=5000, landed_topic_id="old", topic_id="new")
    assert s.problem and "created again" in s.problem
    s = start_offset(OFFSET_INVALID, 999, low=0, high=5000, landed_topic_id="same", topic_id="same")
    assert not s.problem and s.offset == 1000
    s = start_offset(OFFSET_INVALID, 999, low=0, high=5000, landed_topic_id=None, topic_id="new")  # older lake
    assert not s.problem


def test_offsets_lost_to_retention_are_counted_and_skipped_explicitly() -> None:
    s = start_offset(OFFSET_INVALID, 99, low=500, high=900)
    assert (s.offset, s.commit, s.skipped) == (500, True, 400)
    assert "100..499" in s.reason


class _Msg(bytes):
    """Stands in for a consumed message: only its length matters to batching."""


def test_batch_limit_follows_bytes_when_messages_are_big() -> None:
    ingest = IngestSettings(batch_max_rows=1000, batch_max_bytes=10_000)
    buf = PartitionBuffer("t", 0)
    msgs = [_Msg(b"x" * 700) for _ in range(40)]
    buf.add(msgs, sum(map(len, msgs)) + MESSAGE_OVERHEAD * len(msgs))  # 40 kB
    assert is_full(buf, ingest)
    assert batch_limit(buf, ingest) == 10  # 1000 bytes per message
    taken, size = buf.take(batch_limit(buf, ingest))
    assert len(taken) == 10 and size == 10_000 and buf.nbytes == 30_000


def test_dead_letter_headers_keep_the_original_and_say_why() -> None:
    headers = dead_letter_headers([("content-type", b"application/x-protobuf")],
                                  DeadLetter(index=3, stage="decode", reason="truncated message"),
                                  topic="smartcity.bus.telemetry", partition=2, offset=77, dataset="bus_telemetry")
    got = dict(headers)
    assert headers[0] == ("content-type", b"application/x-protobuf")
    assert got["smartcity-error"] == b"truncated message" and got["smartcity-error-stage"] == b"decode"
    assert got["smartcity-source-offset"] == b"77" and got["smartcity-source-partition"] == b"2"


def test_losing_a_partition_while_the_writer_is_full_does_not_break_flushing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """_submit serves rebalance callbacks while it waits for a full writer queue: a partition lost in that
    moment must not make the flush loop trip over its dropped buffer (it raised KeyError)."""
    from confluent_kafka import TopicPartition

    from smartcity.ingest.kafka.settings import KafkaSettings
    from smartcity.ingest.sink import daemon
    from smartcity.ingest.sink.writer import Job
    from smartcity.storage.settings import LakeSettings

    monkeypatch.setattr(daemon, "PAUSE_AFTER_S", 0.01)
    ingest = IngestSettings(topics=["bus"], batch_max_rows=10)
    sink = daemon.Sink(KafkaSettings(bootstrap_servers="127.0.0.1:1"), LakeSettings(path=tmp_path), ingest)
    topic = KafkaSettings().topic("bus")
    writer = daemon.Writer(sink.topics, sink.decoders, sink.committer, None, sink.metrics, sink.stats)  # type: ignore[arg-type]
    sink.writer = writer
    for _ in range(2):  # the writer's queue is full
        writer.queues[0].put(Job(topic, 9, []))

    class Consumer:
        calls = 0

        def pause(self, _tps: object) -> None: ...
        def resume(self, _tps: object) -> None: ...
        def incremental_unassign(self, _tps: object) -> None: ...

        def consume(self, num_messages: int, timeout: float) -> list[object]:
            Consumer.calls += 1
            if Consumer.calls == 1:
                sink._on_lost(self, [TopicPartition(topic, 1)])  # type: ignore[arg-type]
            writer.queues[0].get_nowait()  # the writer frees a slot
            writer.queues[0].task_done()
            return []

    sink.consumer = Consumer()  # type: ignore[assignment]
    sink.assigned = {(topic, 0), (topic, 1)}
    for partition in (0, 1):
        sink.buffers.add((topic, partition), [_Msg(b"x" * 10) for _ in range(30)])
    sink._flush_due()  # raised KeyError before
    assert (topic, 1) not in sink.buffers.by_key
    queued = [writer.queues[0].get_nowait() for _ in range(writer.queues[0].qsize())]
    assert {(j.topic, j.partition) for j in queued} <= {(topic, 0)}


def test_a_writer_that_has_stopped_never_leaves_drain_waiting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The sink's last revoke (the consumer leaving the group) came after the writer thread had ended, and
    queued a batch nobody would land: drain() then waited forever, and the process hung instead of
    exiting with its error. drain() returns once the writer thread is gone."""
    import threading

    from smartcity.ingest.kafka.settings import KafkaSettings
    from smartcity.ingest.sink import daemon
    from smartcity.ingest.sink.writer import Job
    from smartcity.storage.settings import LakeSettings

    sink = daemon.Sink(KafkaSettings(bootstrap_servers="127.0.0.1:1"), LakeSettings(path=tmp_path),
                       IngestSettings(topics=["bus"]))
    writer = daemon.Writer(sink.topics, sink.decoders, sink.committer, None, sink.metrics, sink.stats)  # type: ignore[arg-type]
    writer.start()
    writer.close()
    writer.queues[0].put(Job(KafkaSettings().topic("bus"), 0, []))  # queued after the writer ended
    drained = threading.Thread(target=writer.drain, daemon=True)
    drained.start()
    drained.join(timeout=10)
    assert not drained.is_alive()
