"""The sink against a real broker: exactly once through crashes and rebalances, dead letters, formats."""

from __future__ import annotations

import random
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2

from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.sink.daemon import Sink
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.proto.codec import BUS
from smartcity.storage.settings import LakeSettings

from .helpers import (
    T0,
    bus,
    consume_all,
    landed_offsets,
    produce,
    produce_bus,
    run_sink,
    sink_command,
    sink_env,
    topic_offsets,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def topics(kafka_settings):
    create_topics(kafka_settings)
    return kafka_settings


def test_lands_every_message_once_in_every_format(topics, tmp_path: Path, unique: str) -> None:
    produce_bus(topics, 0, 3000)
    produce_bus(topics, 3000, 4000, encoding="json")
    tables = {}
    for fmt in ("parquet", "hdf5", "csv"):
        lake = tmp_path / fmt
        run_sink(topics, lake, f"g-{fmt}-{unique}", "--format", fmt, "--batch-rows", "700")
        assert landed_offsets(lake) == topic_offsets(topics, topics.topic("bus"))
        from smartcity.storage.scan import read_table

        table = read_table(lake, "bus_telemetry").drop_columns(["_ingested_at"])
        tables[fmt] = table.sort_by([("_partition", "ascending"), ("_offset", "ascending")])
    assert tables["parquet"].equals(tables["hdf5"]) and tables["parquet"].equals(tables["csv"])
    odometers = sorted(int(x) for x in tables["parquet"].column("odometer_m").to_pylist())
    assert odometers == list(range(4000))
    exts = {p.suffix for p in (tmp_path / "hdf5").rglob("*.*") if "raw" in p.parts}
    assert exts == {".h5"}


def test_a_second_run_lands_only_new_messages(topics, tmp_path: Path, unique: str) -> None:
    lake = tmp_path / "lake"
    produce_bus(topics, 0, 500)
    run_sink(topics, lake, f"g-{unique}")
    produce_bus(topics, 500, 800)
    run_sink(topics, lake, f"g-{unique}")
    assert landed_offsets(lake) == topic_offsets(topics, topics.topic("bus"))
    assert len(landed_offsets(lake)) == 800


def test_malformed_flood_dead_letters_bad_and_lands_good(topics, tmp_path: Path, unique: str) -> None:
    rng = random.Random(7)
    good_headers = BUS.headers("protobuf")
    json_headers = BUS.headers("json")
    bad_kinds = {
        "garbage": lambda i: (b"\xff\xfe" + rng.randbytes(20), good_headers),
        "truncated": lambda i: (BUS.encode(bus(i))[:-3], good_headers),
        "bad-json": lambda i: (b'{"bus_id": "B1", "passengers": ', json_headers),
        "wrong-type": lambda i: (b'{"bus_id": "B1", "event_time_ms": 1764000000000, "passengers": "many"}',
                                 json_headers),
        "missing-id": lambda i: (BUS.encode(bus(i, bus_id="")), good_headers),
        "negative": lambda i: (BUS.encode(bus(i, passengers=-4)), good_headers),
        "off-planet": lambda i: (BUS.encode(bus(i, latitude=123.0)), good_headers),
        "before-1970": lambda i: (BUS.encode(bus(i, event_time_ms=-5_000)), good_headers),
        "future": lambda i: (BUS.encode(bus(i, event_time_ms=int(time.time() * 1000) + 10 * 86_400_000)),
                             good_headers),
        "null": lambda i: (None, good_headers),
    }
    records, expected_bad = [], {}
    for i in range(6000):
        if rng.random() < 0.25:
            kind = rng.choice(sorted(bad_kinds))
            value, headers = bad_kinds[kind](i)
            key = f"bad-{i}".encode()
            expected_bad[key] = kind
        else:
            value, headers, key = BUS.encode(bus(i)), good_headers, f"good-{i}".encode()
        records.append((key, value, headers))
    produce(topics, topics.topic("bus"), records)
    lake = tmp_path / "lake"
    out = run_sink(topics, lake, f"g-{unique}", "--batch-rows", "1000")
    landed = landed_offsets(lake)
    assert len(landed) == 6000 - len(expected_bad)
    dlq = consume_all(topics, topics.topic("deadletter"), f"dlq-{unique}", len(expected_bad))
    assert len(dlq) == len(expected_bad)
    in_lake = set(landed)
    for m in dlq:
        h = {k: v.decode() for k, v in m.headers()}
        assert m.key() in expected_bad
        assert h["smartcity-source-topic"] == topics.topic("bus") and h["smartcity-dataset"] == "bus_telemetry"
        source = (int(h["smartcity-source-partition"]), int(h["smartcity-source-offset"]))
        assert source not in in_lake
        assert h["smartcity-error"] and h["smartcity-error-stage"] in ("decode", "validate")
        kind = expected_bad[m.key()]
        reason = h["smartcity-error"]
        expected_words = {"negative": "negative passengers", "off-planet": "off the planet",
                          "before-1970": "earliest_event_time", "future": "future", "missing-id": "bus_id",
                          "null": "null value", "wrong-type": "passengers", "bad-json": "JSON",
                          "garbage": "cannot decode", "truncated": "cannot decode"}[kind]
        assert expected_words in reason, (kind, reason)
    assert f"{len(expected_bad):,}" in out


def test_hostile_ids_cannot_write_outside_the_lake(topics, tmp_path: Path, unique: str) -> None:
    hostile = ["../../../../escape", "/etc/passwd", "..", "a/../../b"]
    records = [(h.encode(), BUS.encode(bus(i, bus_id=h, route_id=h, trip_id=h)), BUS.headers("protobuf"))
               for i, h in enumerate(hostile)]
    produce(topics, topics.topic("bus"), records)
    lake = tmp_path / "deep" / "lake"
    run_sink(topics, lake, f"g-{unique}", "--format", "csv")
    outside = [p for p in tmp_path.rglob("*") if lake not in p.parents and p != lake and p not in lake.parents
               and p.name != "heartbeat"]
    assert outside == []
    from smartcity.storage.scan import read_table

    assert sorted(read_table(lake, "bus_telemetry").column("bus_id").to_pylist()) == sorted(hostile)


def test_repeated_kill_9_loses_and_duplicates_nothing(topics, tmp_path: Path, unique: str) -> None:
    lake = tmp_path / "lake"
    rng = random.Random(11)
    group = f"g-{unique}"
    env = sink_env(topics, tmp_path)
    produced, interrupted = 0, 0
    for _ in range(5):
        produce_bus(topics, produced, produced + 60_000)  # fresh backlog, so each kill lands mid-stream
        produced += 60_000
        # a static member id lets each restart take the partitions back at once
        cmd = sink_command(topics, lake, group, "--batch-rows", "250", "--batch-age", "0.1", "--instance-id", "a")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        interrupted += 0 < len(landed_offsets(lake)) < produced
    run_sink(topics, lake, group, "--instance-id", "a")
    assert interrupted >= 3
    assert landed_offsets(lake) == topic_offsets(topics, topics.topic("bus"))  # every offset exactly once


def test_two_members_rebalance_mid_stream(topics, tmp_path: Path, unique: str) -> None:
    produce_bus(topics, 0, 20_000)
    lake = tmp_path / "lake"
    group = f"g-{unique}"
    env = sink_env(topics, tmp_path)
    cmd = sink_command(topics, lake, group, "--batch-rows", "1500", "--batch-age", "0.3")
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        time.sleep(3)
        second = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        produce_bus(topics, 20_000, 35_000)
        time.sleep(4)
        first.send_signal(signal.SIGTERM)  # its partitions move to the second member
        assert first.wait(60) == 0, first.stderr.read()[-2000:] if first.stderr else ""
        produce_bus(topics, 35_000, 40_000)
        time.sleep(3)
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    run_sink(topics, lake, group)
    assert landed_offsets(lake) == topic_offsets(topics, topics.topic("bus"))


def test_sigterm_flushes_commits_and_exits_zero(topics, tmp_path: Path, unique: str) -> None:
    produce_bus(topics, 0, 1000)
    lake = tmp_path / "lake"
    cmd = sink_command(topics, lake, f"g-{unique}", "--batch-age", "3600", "--metrics-port", "0")
    proc = subprocess.Popen(cmd, env=sink_env(topics, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(5)
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert time.monotonic() - began < 30
    assert len(landed_offsets(lake)) == 1000  # the hour-long batch was flushed on SIGTERM
    produce_bus(topics, 1000, 1100)
    run_sink(topics, lake, f"g-{unique}")  # committed: only the new 100 are read
    assert len(landed_offsets(lake)) == 1100


def test_metrics_and_heartbeat(topics, tmp_path: Path, unique: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    produce_bus(topics, 0, 300)
    cmd = sink_command(topics, tmp_path / "lake", f"g-{unique}", "--batch-age", "0.2", "--metrics-port", str(port))
    proc = subprocess.Popen(cmd, env=sink_env(topics, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        text = ""
        for _ in range(40):
            time.sleep(0.5)
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                continue
            if 'smartcity_ingest_rows_landed_total{dataset="bus_telemetry"} 300.0' in text:
                break
        assert 'smartcity_ingest_rows_landed_total{dataset="bus_telemetry"} 300.0' in text
        assert "smartcity_ingest_messages_consumed_total" in text and "smartcity_ingest_batch_seconds" in text
        assert (tmp_path / "heartbeat").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_gtfs_realtime_vehicle_positions_land_as_bus_telemetry(topics, tmp_path: Path, unique: str) -> None:
    topic = f"{topics.topic_prefix}.gtfsrt"
    create_topics(topics, [topic], partitions=1)
    feed = gtfs_realtime_pb2.FeedMessage()
    feed.header.gtfs_realtime_version = "2.0"
    feed.header.timestamp = T0 // 1000
    for i in range(3):
        e = feed.entity.add(id=f"e{i}")
        v = e.vehicle
        v.vehicle.id = f"V{i}"
        v.trip.trip_id, v.trip.route_id = f"trip{i}", "R9"
        v.position.latitude, v.position.longitude, v.position.speed, v.position.bearing = 47.4, 8.5 + i / 100, 9.5, 90
        v.current_stop_sequence, v.stop_id = 4, "S4"
        if i:
            v.current_status = gtfs_realtime_pb2.VehiclePosition.STOPPED_AT
            v.occupancy_status = gtfs_realtime_pb2.VehiclePosition.FEW_SEATS_AVAILABLE
            v.timestamp = T0 // 1000 + i
    capture = (Path(__file__).parent.parent / "data" / "gtfsrt" / "nyct-subway-l-2019-09-16.pb").read_bytes()
    produce(topics, topic, [(b"feed", feed.SerializeToString(), []), (b"feed", b"\x01\x02 not a feed", []),
                            (b"nyct", capture, [])])
    lake = tmp_path / "lake"
    settings = IngestSettings(topics=[], gtfsrt_topic=topic, group=f"g-{unique}",
                              earliest_event_time="2000-01-01")
    stats = Sink(topics, LakeSettings(path=lake), settings, until_caught_up=True).run()
    assert stats.rows == 3 + 23 and stats.dead_letters == 1
    from smartcity.storage.scan import read_table

    everything = read_table(lake, "bus_telemetry").to_pylist()
    subway = [r for r in everything if r["bus_id_source"] == "entity.id"]
    assert len(subway) == 23 and all(r["latitude"] is None and r["longitude"] is None for r in subway)
    rows = sorted((r for r in everything if r["bus_id_source"] == "vehicle.id"), key=lambda r: r["bus_id"])
    assert [r["bus_id"] for r in rows] == ["V0", "V1", "V2"]
    assert rows[0]["current_status"] == "IN_TRANSIT_TO" and rows[1]["current_status"] == "STOPPED_AT"
    assert rows[1]["occupancy_status"] == "FEW_SEATS_AVAILABLE" and rows[0]["occupancy_status"] == "NO_DATA_AVAILABLE"
    assert rows[2]["event_time_ms"] == T0 + 2000 and rows[0]["event_time_ms"] == T0
    assert rows[1]["route_id"] == "R9" and rows[1]["speed_mps"] == pytest.approx(9.5)
