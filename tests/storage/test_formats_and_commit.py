"""Formats hold identical rows; batches land atomically and recover after a crash; paths stay in the lake."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from smartcity.core.errors import CorruptStateError, FencedBatch
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.sink.landing import lake_rows, process_batch, split_by_hour
from smartcity.proto import AirQualityReading, BusTelemetry
from smartcity.proto.codec import AIR, BUS
from smartcity.storage.commit import Committer, read_landed_offset, staging_dir, state_path
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY, DATASETS
from smartcity.storage.formats import FORMATS, get_format
from smartcity.storage.layout import UnsafePathError, data_files, file_name, inside, parse_file_name, partition_dir
from smartcity.storage.scan import read_table

T0 = 1_764_000_000_000  # 2025-11-24T16:00:00Z


def air_messages(n: int) -> list[AirQualityReading]:
    out = []
    for i in range(n):
        m = AirQualityReading(sensor_id=f"A{i % 7}", event_time_ms=T0 + i * 60_000, latitude=47.3 + i * 1e-4,
                              longitude=8.5, temperature_c=-3.5 + i * 0.1)
        if i % 3:
            m.pm25_ugm3 = 10.0 + i
        if i % 5 == 0:
            m.no2_ppb = 0.0
        out.append(m)
    return out


def test_every_format_holds_identical_rows(tmp_path: Path) -> None:
    msgs = [BusTelemetry(bus_id=name, route_id="R,1", trip_id='T"2', event_time_ms=T0 + i, passengers=i,
                         capacity=70, latitude=1.5, longitude=2.5, speed_mps=3.25, next_stop_id="line\nbreak",
                         occupancy_status=i % 9)
            for i, name in enumerate(["B1", "Bäckerstraße", "", "B,4", "日本"])]
    decoded = BatchDecoder(BUS_TELEMETRY).decode([BUS.encode(m) for m in msgs])
    rows = lake_rows(BUS_TELEMETRY, decoded.table, "smartcity.bus.telemetry", 3, np.arange(5) + 100, T0)
    air = BatchDecoder(AIR_READINGS).decode([AIR.encode(m) for m in air_messages(20)])
    air_rows = lake_rows(AIR_READINGS, air.table, "smartcity.air.readings", 0, np.arange(20), T0)
    for table in (rows, air_rows):
        for name, fmt in FORMATS.items():
            path = tmp_path / f"{name}-{table.num_rows}.{fmt.ext}"
            fmt.write(table, path)
            back = fmt.read(path, table.schema)
            assert back.equals(table), name
    assert air_rows.column("pm25_ugm3").null_count == 7 and air_rows.column("no2_ppb").null_count == 16


def test_lineage_and_event_time_columns() -> None:
    decoded = BatchDecoder(BUS_TELEMETRY).decode([BUS.encode(BusTelemetry(bus_id="B", event_time_ms=T0))])
    rows = lake_rows(BUS_TELEMETRY, decoded.table, "topic", 7, np.array([42]), T0 + 5)
    row = rows.to_pylist()[0]
    assert row["_topic"] == "topic" and row["_partition"] == 7 and row["_offset"] == 42
    assert int(row["event_time"].timestamp() * 1000) == T0
    assert int(row["_ingested_at"].timestamp() * 1000) == T0 + 5
    assert rows.schema == BUS_TELEMETRY.schema
    assert row["current_status"] == "IN_TRANSIT_TO"  # GTFS-RT: absent means IN_TRANSIT_TO


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_batch_lands_one_file_per_event_hour(tmp_path: Path, fmt: str) -> None:
    msgs = air_messages(150)  # 150 minutes: three hours
    committer = Committer(tmp_path, get_format(fmt))
    result = process_batch(AIR_READINGS, BatchDecoder(AIR_READINGS), committer, "smartcity.air.readings", 2,
                           [AIR.encode(m) for m in msgs], np.arange(1000, 1150), now_ms=T0)
    assert [f.rows for f in result.landed] == [60, 60, 30] and not result.dead
    names = [f.path.name for f in result.landed]
    ext = FORMATS[fmt].ext
    assert names == [f"smartcity.air.readings+2+1000+1059.{ext}", f"smartcity.air.readings+2+1060+1119.{ext}",
                     f"smartcity.air.readings+2+1120+1149.{ext}"]
    assert [f.path.parent.name for f in result.landed] == ["hour=16", "hour=17", "hour=18"]
    assert read_landed_offset(tmp_path, "smartcity.air.readings", 2) == 1149
    table = read_table(tmp_path, "air_readings")
    assert sorted(table.column("_offset").to_pylist()) == list(range(1000, 1150))
    assert not any(staging_dir(tmp_path, "smartcity.air.readings", 2).iterdir())


def test_late_events_land_in_their_own_hour(tmp_path: Path) -> None:
    msgs = air_messages(3)
    msgs[1].event_time_ms = T0 - 5 * 3_600_000  # five hours late
    committer = Committer(tmp_path, get_format("parquet"))
    result = process_batch(AIR_READINGS, BatchDecoder(AIR_READINGS), committer, "t", 0,
                           [AIR.encode(m) for m in msgs], np.arange(3), now_ms=T0)
    hours = sorted(f.path.parent.name for f in result.landed)
    assert hours == ["hour=11", "hour=16"]


def _crash_after_manifest(target: Committer, monkeypatch: pytest.MonkeyPatch, **batch: object) -> None:
    """Land a batch but die right after the manifest is written (before any rename)."""

    class Crash(Exception):
        pass

    def boom(*_a: object, **_k: object) -> None:
        raise Crash

    monkeypatch.setattr(target, "_roll_forward", boom)
    with pytest.raises(Crash):
        process_batch(**batch)  # type: ignore[arg-type]
    monkeypatch.undo()


def test_recover_rolls_a_landed_batch_forward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    msgs = air_messages(90)
    batch = dict(dataset=AIR_READINGS, decoder=BatchDecoder(AIR_READINGS), committer=committer, topic="t",
                 partition=0, values=[AIR.encode(m) for m in msgs], offsets=np.arange(90), now_ms=T0)
    _crash_after_manifest(committer, monkeypatch, **batch)
    assert data_files(tmp_path, "air_readings") == []          # nothing visible yet
    assert read_landed_offset(tmp_path, "t", 0) is None
    assert Committer(tmp_path, get_format("parquet")).recover("t", 0) == 89
    assert sorted(read_table(tmp_path, "air_readings").column("_offset").to_pylist()) == list(range(90))
    # landing the same batch again (a consumer that had not committed) is fenced, never duplicated
    with pytest.raises(FencedBatch):
        process_batch(**batch)  # type: ignore[arg-type]
    assert read_table(tmp_path, "air_readings").num_rows == 90
    assert not [p for p in staging_dir(tmp_path, "t", 0).iterdir() if p.is_dir()]  # its staged files are gone


def test_recover_drops_an_unfinished_batch(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    stage = staging_dir(tmp_path, "t", 1) / "0-99"
    stage.mkdir(parents=True)
    (stage / "0.parquet").write_bytes(b"half a file")
    assert committer.recover("t", 1) is None
    assert not stage.exists()


def test_recover_without_state_scans_file_names(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    process_batch(AIR_READINGS, BatchDecoder(AIR_READINGS), committer, "t", 4,
                  [AIR.encode(m) for m in air_messages(5)], np.arange(10, 15), now_ms=T0)
    (tmp_path / "_state" / "offsets" / "t+4").unlink()
    assert committer.recover("t", 4) == 14


def test_partition_recorded_as_landed_when_every_message_is_dead(tmp_path: Path) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    result = process_batch(BUS_TELEMETRY, BatchDecoder(BUS_TELEMETRY), committer, "t", 0,
                           [b"\xff\xff", b"garbage"], np.array([7, 8]), now_ms=T0)
    assert len(result.dead) == 2 and not result.landed
    assert read_landed_offset(tmp_path, "t", 0) == 8


def test_names_and_paths_cannot_leave_the_lake(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "..", "", "x" * 300):
        with pytest.raises(UnsafePathError):
            file_name(bad, 0, 0, 1, "parquet")
    with pytest.raises(UnsafePathError):
        partition_dir(tmp_path, "bus_telemetry", "../../etc", 1)
    with pytest.raises(UnsafePathError):
        partition_dir(tmp_path, "../x", "2025-01-01", 1)
    with pytest.raises(UnsafePathError):
        inside(tmp_path, tmp_path / ".." / "elsewhere")
    assert parse_file_name("smartcity.bus.telemetry+3+10+20.parquet").last == 20
    assert parse_file_name("part-0.parquet") is None


def test_hostile_ids_stay_column_values(tmp_path: Path) -> None:
    hostile = ["../../../../tmp/pwned", "/etc/passwd", "..\\..\\x", "a\x00b"]
    msgs = [BusTelemetry(bus_id=h, route_id=h, event_time_ms=T0, capacity=70) for h in hostile]
    committer = Committer(tmp_path / "lake", get_format("csv"))
    result = process_batch(BUS_TELEMETRY, BatchDecoder(BUS_TELEMETRY), committer, "t", 0,
                           [BUS.encode(m) for m in msgs], np.arange(4), now_ms=T0)
    assert result.rows == 4
    for path in (tmp_path / "lake").rglob("*"):
        assert (tmp_path / "lake") in path.parents
    assert set(read_table(tmp_path / "lake", "bus_telemetry").column("bus_id").to_pylist()) == set(hostile)
    assert not (tmp_path / "tmp").exists()


def test_schemas_have_lineage() -> None:
    for ds in DATASETS.values():
        names = ds.schema.names
        assert names[-5:] == ["event_time", "_topic", "_partition", "_offset", "_ingested_at"]
        assert "event_time_ms" in names


def test_split_by_hour_keeps_offset_order() -> None:
    msgs = air_messages(130)
    decoded = BatchDecoder(AIR_READINGS).decode([AIR.encode(m) for m in msgs])
    rows = lake_rows(AIR_READINGS, decoded.table, "t", 0, np.arange(130), T0)
    parts = split_by_hour(AIR_READINGS, rows)
    assert [p.table.num_rows for p in parts] == [60, 60, 10]
    for p in parts:
        offs = p.table.column("_offset").to_pylist()
        assert offs == sorted(offs) and (p.first_offset, p.last_offset) == (offs[0], offs[-1])
    assert json.dumps([p.hour for p in parts]) == "[16, 17, 18]"
    assert os.sep not in parts[0].date and pa.types.is_timestamp(rows.schema.field("event_time").type)



def test_split_by_hour_of_interleaved_hours_keeps_each_rows_offset_order() -> None:
    """A backfill mixes hours within a batch: every part holds exactly its hour's rows, in offset order."""
    msgs = air_messages(130)
    rng = np.random.default_rng(7)
    for m in msgs:
        m.event_time_ms = T0 + int(rng.integers(0, 4)) * 3_600_000 + int(rng.integers(0, 3_600_000))
    decoded = BatchDecoder(AIR_READINGS).decode([AIR.encode(m) for m in msgs])
    rows = lake_rows(AIR_READINGS, decoded.table, "t", 0, np.arange(1000, 1130), T0)
    parts = split_by_hour(AIR_READINGS, rows)
    assert [p.hour for p in parts] == [16, 17, 18, 19]
    for p in parts:
        offs = p.table.column("_offset").to_pylist()
        expected = [1000 + i for i, m in enumerate(msgs) if (m.event_time_ms - T0) // 3_600_000 == p.hour - 16]
        assert offs == expected and (p.first_offset, p.last_offset) == (offs[0], offs[-1])
        assert p.table.column("sensor_id").to_pylist() == [msgs[o - 1000].sensor_id for o in offs]


def test_parquet_dictionary_encodes_text_columns_only(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    decoded = BatchDecoder(AIR_READINGS).decode([AIR.encode(m) for m in air_messages(500)])
    rows = lake_rows(AIR_READINGS, decoded.table, "t", 0, np.arange(500), T0)
    get_format("parquet", "zstd").write(rows, tmp_path / "f.parquet")
    meta = pq.ParquetFile(tmp_path / "f.parquet").metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert "RLE_DICTIONARY" in encodings["sensor_id"] and "RLE_DICTIONARY" in encodings["_topic"]
    assert "RLE_DICTIONARY" not in encodings["latitude"] and "RLE_DICTIONARY" not in encodings["_offset"]
    assert pq.read_table(tmp_path / "f.parquet").equals(rows)


def _land(committer: Committer, first: int, n: int, partition: int = 0) -> None:
    msgs = air_messages(n)
    process_batch(AIR_READINGS, BatchDecoder(AIR_READINGS), committer, "t", partition,
                  [AIR.encode(m) for m in msgs], np.arange(first, first + n), now_ms=T0)


def test_fencing_keeps_every_offset_once(tmp_path: Path) -> None:
    owner, zombie = Committer(tmp_path, get_format("parquet")), Committer(tmp_path, get_format("parquet"))
    _land(owner, 0, 50)
    for first, n in ((0, 30), (20, 40), (49, 10), (51, 5)):  # overlaps, and a gap
        with pytest.raises(FencedBatch):
            _land(zombie, first, n)
    _land(zombie, 50, 10)  # exactly next: lands, whoever it is
    offsets = read_table(tmp_path, "air_readings").column("_offset").to_pylist()
    assert sorted(offsets) == list(range(60))
    assert read_landed_offset(tmp_path, "t", 0) == 59


def test_damaged_state_and_manifest_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    committer = Committer(tmp_path, get_format("parquet"))
    _land(committer, 0, 10)
    state_path(tmp_path, "t", 0).write_text('{"last_off')
    with pytest.raises(CorruptStateError, match=re.escape(str(state_path(tmp_path, "t", 0)))):
        committer.recover("t", 0)
    state_path(tmp_path, "t", 0).unlink()
    manifest = staging_dir(tmp_path, "t", 0) / "10-19.manifest"
    manifest.write_text('{"first": 10, "la')
    with pytest.raises(CorruptStateError, match=r"10-19\.manifest"):
        committer.recover("t", 0)
