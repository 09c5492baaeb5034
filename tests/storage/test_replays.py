"""Replays of numbered devices: the pure filter, and its marks in the lake's commit protocol (crashes included)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from smartcity.core.errors import CorruptStateError, FencedBatch
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.sink.landing import BatchResult, process_batch
from smartcity.ingest.sink.replays import Replays, find_replays
from smartcity.proto import AirQualityReading, BusTelemetry
from smartcity.proto.codec import AIR, BUS
from smartcity.storage.commit import Committer, read_device_marks, read_landed_offset, staging_dir, state_path
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY
from smartcity.storage.formats import get_format
from smartcity.storage.scan import read_table
from tests.conftest import REPO

T0 = 1_764_000_000_000
TOPIC = "smartcity.bus.telemetry"


def replays(devices: list[str | None], seqs: list[int | None], marks: dict[str, int] | None = None) -> Replays:
    return find_replays(pa.array(devices, pa.string()), pa.array(seqs, pa.int64()), marks or {})


def reference(devices: list[str | None], seqs: list[int | None],
              marks: dict[str, int]) -> tuple[list[bool], dict[str, int]]:
    """The rule, one row at a time, with plain sets: a number is new unless its device sent it before
    (a landed mark m means 1..m were sent)."""
    seen = {d: set(range(1, m + 1)) for d, m in marks.items()}
    keep, touched = [], set()
    for device, seq in zip(devices, seqs, strict=True):
        if device is None or seq is None:
            keep.append(True)
            continue
        touched.add(device)
        numbers = seen.setdefault(device, set())
        keep.append(seq not in numbers)
        numbers.add(seq)
    return keep, {d: max(seen[d]) for d in touched}


def highest(marks: dict[str, object]) -> dict[str, int]:
    """Each device's highest number in marks (``[highest, holes]``, or a bare highest)."""
    return {d: m if isinstance(m, int) else m[0] for d, m in marks.items()}  # type: ignore[index]


# -- the pure function ------------------------------------------------------------------------------------------

def test_a_second_copy_in_the_same_batch_is_dropped() -> None:
    found = replays(["B1", "B2", "B1", "B1", "B2"], [1, 1, 2, 2, 1])
    assert found.keep.tolist() == [True, True, True, False, False]
    assert found.dropped == 2 and found.marks == {"B1": [2, []], "B2": [1, []]}


def test_numbers_at_or_below_the_landed_mark_are_dropped() -> None:
    found = replays(["B1", "B1", "B1", "B2"], [4, 5, 6, 1], {"B1": 5, "B9": 3})
    assert found.keep.tolist() == [False, False, True, True]
    assert highest(found.marks) == {"B1": 6, "B2": 1}  # only devices of the batch; B2 was never seen


def test_unnumbered_rows_are_never_dropped() -> None:
    found = replays(["B1", "B1", "B1", None, "B1"], [None, None, 3, 3, None], {"B1": 7})
    assert found.keep.tolist() == [True, True, False, True, True]
    assert found.dropped == 1 and highest(found.marks) == {"B1": 7}
    nothing = replays(["B1", "B2"], [None, None], {"B1": 7})
    assert nothing.keep.tolist() == [True, True] and nothing.marks == {} and nothing.dropped == 0


def test_a_late_number_fills_its_hole_and_only_its_second_copy_is_dropped() -> None:
    # 5 arrives after 7 (it was lost with a gateway that died and sent again): it is new; its copy is not
    found = replays(["S1"] * 5, [3, 7, 5, 8, 5], {"S1": [2, []]})
    assert found.keep.tolist() == [True, True, True, True, False]
    assert found.marks == {"S1": [8, [[4, 4], [6, 6]]]}
    later = replays(["S1", "S1", "S1"], [6, 4, 6], found.marks)  # the holes are remembered across batches
    assert later.keep.tolist() == [True, True, False] and later.marks == {"S1": [8, []]}


def test_a_mark_stays_when_the_batch_holds_only_older_numbers() -> None:
    found = replays(["B1", "B1"], [2, 1], {"B1": 10})
    assert found.keep.tolist() == [False, False] and highest(found.marks) == {"B1": 10} and found.dropped == 2


def test_an_empty_batch_and_mismatched_columns() -> None:
    empty = replays([], [])
    assert empty.keep.tolist() == [] and empty.marks == {} and empty.dropped == 0
    with pytest.raises(ValueError, match="2 device ids for 1 device_seq values"):
        replays(["a", "b"], [1])


def test_chunked_columns_are_one_sequence() -> None:
    devices = pa.chunked_array([pa.array(["B1", "B1"]), pa.array(["B1"])])
    seqs = pa.chunked_array([pa.array([1, 2], pa.int64()), pa.array([2], pa.int64())])
    assert find_replays(devices, seqs, {}).keep.tolist() == [True, True, False]


def test_agrees_with_the_rule_row_by_row() -> None:
    rng = random.Random(20251124)
    for _ in range(500):
        n = rng.randint(0, 60)
        devices = [rng.choice(["a", "b", "c", "d", None]) for _ in range(n)]
        seqs = [None if rng.random() < 0.2 else rng.randint(1, 15) for _ in range(n)]
        marks = {d: rng.randint(0, 10) for d in rng.sample(["a", "b", "x"], rng.randint(0, 3))}
        found = replays(devices, seqs, marks)
        keep, new_marks = reference(devices, seqs, marks)
        assert found.keep.tolist() == keep, (devices, seqs, marks)
        assert highest(found.marks) == new_marks and found.dropped == keep.count(False)


# -- the sink's landing and the lake's record -------------------------------------------------------------------

def bus_msg(device: str, seq: int | None, i: int) -> BusTelemetry:
    """Reading ``i`` of ``device``: its odometer is i, so a landed row says which message it was."""
    m = BusTelemetry(bus_id=device, event_time_ms=T0 + i * 1000, latitude=47.4, longitude=8.5, capacity=70,
                     odometer_m=float(i))
    if seq is not None:
        m.device_seq = seq
    return m


def land(committer: Committer, batch: list[tuple[str, int | None, int]], first: int, *,
         fence: bool = True) -> BatchResult:
    """Land (device, device_seq, i) messages at offsets first.. of partition 0."""
    values = [BUS.encode(bus_msg(*m)) for m in batch]
    return process_batch(BUS_TELEMETRY, BatchDecoder(BUS_TELEMETRY), committer, TOPIC, 0, values,
                         np.arange(first, first + len(batch)), now_ms=T0, fence=fence)


def landed_rows(lake: Path) -> list[tuple[str, int | None, int]]:
    t = read_table(lake, "bus_telemetry")
    return sorted(zip(t.column("bus_id").to_pylist(), t.column("device_seq").to_pylist(),
                      [int(x) for x in t.column("odometer_m").to_pylist()], strict=True),
                  key=lambda r: r[2])


FIRST = [("B1", 1, 0), ("B2", 1, 1), ("B1", 2, 2), ("B1", 2, 3), ("B3", None, 4), ("B2", 2, 5)]


def test_marks_are_recorded_with_the_landed_offset(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    result = land(committer, FIRST, 100)
    assert result.replays == 1 and result.rows == 5 and not result.dead
    record = json.loads(state_path(tmp_path, TOPIC, 0).read_text())
    assert record["last_offset"] == 105 and highest(record["device_seq"]) == {"B1": 2, "B2": 2}
    assert highest(read_device_marks(tmp_path, TOPIC, 0)) == {"B1": 2, "B2": 2}
    assert highest(read_device_marks(tmp_path, TOPIC, 1)) == {}  # nothing landed there
    assert landed_rows(tmp_path) == [("B1", 1, 0), ("B2", 1, 1), ("B1", 2, 2), ("B3", None, 4), ("B2", 2, 5)]


def test_replays_in_a_later_batch_are_dropped_and_their_offsets_recorded(tmp_path: Path) -> None:
    land(Committer(tmp_path, get_format("parquet")), FIRST, 0)
    committer = Committer(tmp_path, get_format("parquet"))  # a new member: the marks come from the lake
    every_one_a_replay = land(committer, [("B1", 1, 0), ("B2", 2, 5), ("B1", 2, 2)], 6)
    assert every_one_a_replay.replays == 3 and every_one_a_replay.rows == 0 and not every_one_a_replay.landed
    assert read_landed_offset(tmp_path, TOPIC, 0) == 8  # the consumer moves past them
    mixed = land(committer, [("B1", 3, 10), ("B3", None, 4), ("B2", 1, 1), ("B4", 1, 11), ("B1", 3, 10)], 9)
    assert mixed.replays == 2 and mixed.rows == 3
    assert highest(read_device_marks(tmp_path, TOPIC, 0)) == {"B1": 3, "B2": 2, "B4": 1}
    rows = landed_rows(tmp_path)
    numbered = Counter((d, s) for d, s, _ in rows if s is not None)
    assert set(numbered.values()) == {1} and len(numbered) == 6
    assert [r for r in rows if r[1] is None] == [("B3", None, 4), ("B3", None, 4)]  # unnumbered: both land


def test_air_sensors_are_keyed_by_sensor_id(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("csv"))
    msgs = [AirQualityReading(sensor_id=s, event_time_ms=T0 + i, latitude=47.4, longitude=8.5, device_seq=q)
            for i, (s, q) in enumerate([("A1", 1), ("A2", 1), ("A1", 1), ("A1", 2)])]
    result = process_batch(AIR_READINGS, BatchDecoder(AIR_READINGS), committer, "smartcity.air.readings", 3,
                           [AIR.encode(m) for m in msgs], np.arange(4), now_ms=T0)
    assert result.replays == 1 and result.rows == 3
    assert highest(read_device_marks(tmp_path, "smartcity.air.readings", 3)) == {"A1": 2, "A2": 1}


def test_writers_that_are_not_consumers_land_everything(tmp_path: Path) -> None:
    """fence=False (the simulator, archive imports): landing a range again replaces its files; nothing is a
    replay and no marks are kept."""
    committer = Committer(tmp_path, get_format("parquet"))
    for _ in range(2):
        result = land(committer, FIRST, 0, fence=False)
        assert result.replays == 0 and result.rows == 6
    assert highest(read_device_marks(tmp_path, TOPIC, 0)) == {}
    assert len(landed_rows(tmp_path)) == 6


def test_a_batch_filtered_against_marks_that_moved_is_fenced(tmp_path: Path) -> None:
    """Marks are read before the partition lock: a batch whose marks are not those of the offset it lands
    after is fenced at the commit point, even when its range would fit."""
    committer = Committer(tmp_path, get_format("parquet"))
    before = committer.landed_marks(TOPIC, 0)
    assert before.landed is None and before.marks == {}
    land(committer, FIRST, 0)  # meanwhile, another batch lands
    with pytest.raises(FencedBatch):
        committer.land(TOPIC, 0, 6, 6, [], device_marks={"B1": 1}, marks_base=before.landed)
    assert read_landed_offset(tmp_path, TOPIC, 0) == 5
    assert highest(read_device_marks(tmp_path, TOPIC, 0)) == {"B1": 2, "B2": 2}
    now = committer.landed_marks(TOPIC, 0)
    committer.land(TOPIC, 0, 6, 6, [], device_marks={"B1": 9}, marks_base=now.landed)
    assert read_landed_offset(tmp_path, TOPIC, 0) == 6 and highest(read_device_marks(tmp_path, TOPIC, 0))["B1"] == 9


def test_damaged_marks_name_the_file_and_the_fix_works(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("hdf5"))
    land(committer, FIRST, 0)
    path = state_path(tmp_path, TOPIC, 0)
    path.write_text(json.dumps({"last_offset": 5, "device_seq": {"B1": "two"}}))
    with pytest.raises(CorruptStateError, match=re.escape(str(path))) as raised:
        read_device_marks(tmp_path, TOPIC, 0)
    assert "remove the file" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(CorruptStateError, match=re.escape(str(path))):
        land(committer, [("B1", 3, 6)], 6)
    path.write_text(json.dumps({"last_offset": 5, "device_seq": [1, 2]}))
    with pytest.raises(CorruptStateError, match=re.escape(str(path))):
        read_device_marks(tmp_path, TOPIC, 0)
    path.unlink()  # the fix the message gives: the offset and the marks come back from the landed files
    assert committer.recover(TOPIC, 0) == 5
    assert highest(read_device_marks(tmp_path, TOPIC, 0)) == {"B1": 2, "B2": 2}
    assert land(committer, [("B1", 2, 2), ("B1", 3, 6)], 6).replays == 1


def test_a_damaged_manifest_with_marks_names_the_file(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    land(committer, FIRST, 0)
    manifest = staging_dir(tmp_path, TOPIC, 0) / "6-9.manifest"
    manifest.write_text(json.dumps({"first": 6, "last": 9, "moves": [], "device_marks": {"B1": None}}))
    with pytest.raises(CorruptStateError, match=r"6-9\.manifest"):
        committer.recover(TOPIC, 0)


# -- kill -9 at each step of landing ----------------------------------------------------------------------------

BATCH_A = [("B1", 1, 0), ("B2", 1, 1), ("B1", 2, 2), ("B3", None, 3)]             # offsets 0..3
BATCH_B = [("B1", 3, 4), ("B1", 2, 2), ("B2", 2, 5), ("B4", 1, 6), ("B3", None, 7)]  # offsets 4..8, one replay
MARKS_A, MARKS_B = {"B1": 2, "B2": 1}, {"B1": 3, "B2": 2, "B4": 1}

CRASHING_SINK = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from smartcity.storage.commit import Committer
    from smartcity.storage.formats import get_format
    from tests.storage.test_replays import land
    committer = Committer(Path(sys.argv[1]), get_format(sys.argv[2]))
    first = 0
    for batch in json.loads(sys.argv[3]):
        land(committer, [tuple(m) for m in batch], first)
        first += len(batch)
""")


@pytest.mark.parametrize(("point", "fmt"), [("staged", "parquet"), ("manifest", "hdf5"), ("renamed", "csv"),
                                            ("recorded", "parquet")])
def test_a_crash_at_each_step_leaves_marks_that_agree_with_the_offset(tmp_path: Path, point: str, fmt: str) -> None:
    """os._exit(137) (kill -9: no cleanup) at the step, in the second batch; then what the sink does next:
    recover the partition, read again after its landed offset, and land later batches with replays."""
    lake = tmp_path / "lake"
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_SINK, str(lake), fmt, json.dumps([BATCH_A, BATCH_B])], cwd=REPO,
        env={**os.environ, "SMARTCITY_FAULT": f"{point}:2"}, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 137 and f"fault injected at {point}" in crashed.stderr, crashed.stderr[-2000:]

    # what the crash left: the record holds batch A, or batch B once it was recorded; never a mix
    before = json.loads(state_path(lake, TOPIC, 0).read_text())
    expected = (8, MARKS_B) if point == "recorded" else (3, MARKS_A)
    assert (before["last_offset"], highest(before["device_seq"])) == expected

    committer = Committer(lake, get_format(fmt))
    landed = committer.recover(TOPIC, 0)  # on assignment: a manifest (the commit point) is rolled forward
    marks = highest(read_device_marks(lake, TOPIC, 0))
    assert (landed, marks) == ((3, MARKS_A) if point == "staged" else (8, MARKS_B))
    if landed == 3:  # batch B was not landed: it is read again
        assert land(committer, BATCH_B, 4).replays == 1
    else:
        with pytest.raises(FencedBatch):  # landed: a member that read it again is fenced
            land(committer, BATCH_B, 4)
    later = land(committer, [("B1", 3, 4), ("B4", 1, 6), ("B4", 2, 9), ("B3", None, 3)], 9)
    assert later.replays == 2
    assert read_landed_offset(lake, TOPIC, 0) == 12
    assert highest(read_device_marks(lake, TOPIC, 0)) == {"B1": 3, "B2": 2, "B4": 2}
    rows = landed_rows(lake)
    assert Counter((d, s) for d, s, _ in rows if s is not None) == Counter(
        {("B1", 1): 1, ("B1", 2): 1, ("B1", 3): 1, ("B2", 1): 1, ("B2", 2): 1, ("B4", 1): 1, ("B4", 2): 1})
    assert sorted(i for d, s, i in rows if s is None) == [3, 3, 7]
    assert not [p for p in staging_dir(lake, TOPIC, 0).iterdir() if p.is_dir()]
