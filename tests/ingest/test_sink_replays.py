"""The sink against a real broker drops replays of numbered devices: each (device, device_seq) lands once,
within a batch, across batches, across runs (the marks come from the lake) and across a kill -9."""

from __future__ import annotations

import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.daemon import Sink
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.proto import BusTelemetry
from smartcity.proto.codec import BUS
from smartcity.storage.commit import read_device_marks, read_landed_offset
from smartcity.storage.scan import read_table
from smartcity.storage.settings import LakeSettings
from tests.ingest.helpers import (
    bus,
    consume_all,
    landed_offsets,
    produce,
    run_sink,
    sink_command,
    sink_env,
    topic_offsets,
)
from tests.storage.test_replays import highest, reference

pytestmark = pytest.mark.kafka

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]
HEADERS = BUS.headers("protobuf")


@pytest.fixture
def topics(kafka_settings: KafkaSettings) -> KafkaSettings:
    create_topics(kafka_settings)
    return kafka_settings


def numbered(i: int) -> Record:
    """Message i of its bus (``bus(i)``: bus ``B{i % 13}``), numbered ``i // 13 + 1``: each bus counts 1, 2, 3..."""
    m = bus(i, device_seq=i // 13 + 1)
    return m.bus_id.encode(), BUS.encode(m), HEADERS


def unnumbered(i: int) -> Record:
    m = bus(i)
    return m.bus_id.encode(), BUS.encode(m), HEADERS


def first_run() -> list[Record]:
    """390 numbered messages, every 17th sent twice in a row (a replay in the same batch, mostly); 60 unnumbered
    messages each sent twice (both land); then 100 of the numbered messages again, far behind."""
    records: list[Record] = []
    for i in range(390):
        records += [numbered(i)] * (2 if i % 17 == 0 else 1)
    for i in range(1000, 1060):
        records += [unnumbered(i)] * 2
    records += [numbered(i) for i in range(100, 200)]
    return records


def second_run() -> list[Record]:
    """Replays of the first run's messages (only the lake knows they landed), new numbered messages, and
    replays of those."""
    return ([numbered(i) for i in range(0, 390, 7)] + [numbered(i) for i in range(390, 520)]
            + [numbered(i) for i in range(450, 520, 3)] + [unnumbered(i) for i in range(2000, 2010)])


class Expected:
    """What the lake must hold after the topic's messages so far: the rule applied to each partition's
    messages in offset order."""

    def __init__(self, settings: KafkaSettings, group: str, count: int) -> None:
        messages = consume_all(settings, settings.topic("bus"), group, expected=count)
        assert len(messages) == count
        by_partition: dict[int, list[tuple[int, BusTelemetry]]] = defaultdict(list)
        for m in messages:
            by_partition[m.partition()].append((m.offset(), BusTelemetry.FromString(m.value())))
        self.kept: list[tuple[int, int]] = []
        self.replays = 0
        self.marks: dict[int, dict[str, int]] = {}
        for partition, items in by_partition.items():
            items.sort(key=lambda item: item[0])
            devices = [msg.bus_id for _, msg in items]
            seqs = [msg.device_seq if msg.HasField("device_seq") else None for _, msg in items]
            keep, marks = reference(devices, seqs, {})
            self.kept += [(partition, offset) for (offset, _), k in zip(items, keep, strict=True) if k]
            self.replays += keep.count(False)
            self.marks[partition] = marks
        self.kept.sort()
        self.numbered = {(m.bus_id, m.device_seq) for _, items in by_partition.items() for _, m in items
                         if m.HasField("device_seq")}
        self.unnumbered = sum(1 for items in by_partition.values() for _, m in items if not m.HasField("device_seq"))


def check_lake(settings: KafkaSettings, lake: Path, expected: Expected) -> None:
    assert landed_offsets(lake) == expected.kept
    table = read_table(lake, "bus_telemetry")
    seqs = table.column("device_seq").to_pylist()
    landed = Counter((b, s) for b, s in zip(table.column("bus_id").to_pylist(), seqs, strict=True) if s is not None)
    assert set(landed) == expected.numbered and set(landed.values()) == {1}   # each (device, device_seq) once
    assert seqs.count(None) == expected.unnumbered                              # unnumbered: every one lands
    topic = settings.topic("bus")
    ends: dict[int, int] = {}
    for partition, offset in topic_offsets(settings, topic):
        ends[partition] = max(offset, ends.get(partition, -1))
    for partition, end in ends.items():  # every offset accounted as landed, replays included
        assert read_landed_offset(lake, topic, partition) == end
        assert highest(read_device_marks(lake, topic, partition)) == expected.marks[partition]


def test_replays_land_once_within_and_across_runs(topics: KafkaSettings, tmp_path: Path, unique: str) -> None:
    lake, group = tmp_path / "lake", f"g-{unique}"
    first = first_run()
    produce(topics, topics.topic("bus"), first)
    expected = Expected(topics, f"probe-1-{unique}", len(first))
    assert expected.replays == 23 + 100
    out = run_sink(topics, lake, group, "--batch-rows", "50")
    assert f"{expected.replays:,} replays dropped" in out
    check_lake(topics, lake, expected)

    second = second_run()
    produce(topics, topics.topic("bus"), second)
    everything = Expected(topics, f"probe-2-{unique}", len(first) + len(second))
    sink = Sink(topics, LakeSettings(path=lake), IngestSettings(topics=["bus"], group=group, batch_max_rows=40),
                until_caught_up=True)  # a new process state: the marks can only come from the lake
    stats = sink.run()
    dropped = everything.replays - expected.replays
    assert dropped == len(range(0, 390, 7)) + len(range(450, 520, 3))
    assert stats.replays == dropped and stats.rows == len(second) - dropped
    assert sink.metrics.registry.get_sample_value("smartcity_ingest_replays_dropped_total",
                                                  {"topic": topics.topic("bus")}) == dropped
    check_lake(topics, lake, everything)


@pytest.mark.parametrize("point", ["manifest", "landed"])
def test_a_kill_9_while_landing_replays_keeps_each_message_once(topics: KafkaSettings, tmp_path: Path, unique: str,
                                                                 point: str) -> None:
    """Killed after the commit point of its third batch (the lake has it, Kafka's offset does not): the rerun
    starts from the lake's record and its marks, and the replays still land once."""
    lake, group = tmp_path / "lake", f"g-{unique}"
    first = first_run()
    produce(topics, topics.topic("bus"), first)
    crashed = subprocess.run(sink_command(topics, lake, group, "--until-caught-up", "--batch-rows", "40"),
                             env={**sink_env(topics, tmp_path), "SMARTCITY_FAULT": f"{point}:3"},
                             capture_output=True, text=True, timeout=180)
    assert crashed.returncode == 137 and f"fault injected at {point}" in crashed.stderr, crashed.stderr[-2000:]
    second = second_run()
    produce(topics, topics.topic("bus"), second)
    run_sink(topics, lake, group, "--batch-rows", "40")
    check_lake(topics, lake, Expected(topics, f"probe-{unique}", len(first) + len(second)))
