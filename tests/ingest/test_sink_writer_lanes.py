"""The sink's writer lanes: a partition's batches land in order on one thread, different partitions side by side."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink import daemon
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.ingest.sink.writer import Job, Writer
from smartcity.storage.settings import LakeSettings

TOPIC = KafkaSettings().topic("bus")


class RecordingWriter(Writer):
    """Lands nothing: records which thread took which batch, and holds partition 0's batches until released."""

    def __init__(self, tmp_path: Path, lanes: int) -> None:
        sink = daemon.Sink(KafkaSettings(bootstrap_servers="127.0.0.1:1"), LakeSettings(path=tmp_path),
                           IngestSettings(topics=["bus"]))
        super().__init__(sink.topics, sink.decoders, sink.committer, None, sink.metrics, sink.stats,  # type: ignore[arg-type]
                         lanes=lanes)
        self.release = threading.Event()
        self.landed: list[tuple[int, int, str]] = []  # (partition, batch number, thread)

    def _land(self, job: Job) -> None:
        if job.partition == 0:
            assert self.release.wait(10)
        time.sleep(0.001)  # give the other lane a chance to run in between
        self.landed.append((job.partition, job.epoch, threading.current_thread().name))


def _job(partition: int, number: int) -> Job:
    return Job(TOPIC, partition, [], epoch=number)  # the epoch field carries the batch number here


def test_a_slow_partition_does_not_hold_up_another_lane(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, lanes=2)
    writer.start()
    try:
        writer.put(_job(0, 0), timeout=1)
        for number in range(3):
            writer.put(_job(1, number), timeout=5)
        deadline = time.monotonic() + 10
        while len(writer.landed) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [(p, n) for p, n, _ in writer.landed] == [(1, 0), (1, 1), (1, 2)]  # while partition 0 waits
        writer.release.set()
        writer.drain()
        assert writer.landed[-1][:2] == (0, 0)
    finally:
        writer.release.set()
        writer.close()


@pytest.mark.parametrize("lanes", [1, 2, 3])
def test_every_partition_lands_in_order_on_one_lane(tmp_path: Path, lanes: int) -> None:
    writer = RecordingWriter(tmp_path, lanes=lanes)
    writer.release.set()
    writer.start()
    try:
        for number in range(20):
            for partition in range(4):
                writer.put(_job(partition, number), timeout=5)
        writer.drain()
    finally:
        writer.close()
    assert len(writer.landed) == 80
    for partition in range(4):
        mine = [(n, thread) for p, n, thread in writer.landed if p == partition]
        assert [n for n, _ in mine] == list(range(20))
        assert len({thread for _, thread in mine}) == 1
    assert len({thread for _, _, thread in writer.landed}) == min(lanes, 4)
    assert sum(q.maxsize for q in writer.queues) <= max(2, lanes)  # the batches waiting stay few
