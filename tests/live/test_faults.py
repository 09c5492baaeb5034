"""The live server under faults: the broker away for a while, the server frozen and woken late, a disk
that refuses the store's writes, a store it cannot open. The answer is always the same picture as the
messages, nothing skipped, and a clear word on /api/health or on the command line."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from smartcity.ingest.kafka.settings import KafkaSettings
from tests.test_devbroker_restart import _cli, _own_cache, _start

from .server import Server, alert, bus, send_alerts, send_buses, setup_topics

pytestmark = [pytest.mark.kafka]


def _lat(server: Server, bus_id: str) -> float | None:
    rows = [v for v in server.get("/api/vehicles") if v["id"] == bus_id]
    return rows[0].get("lat") if rows else None


@pytest.mark.slow
def test_the_broker_away_for_a_while_keeps_the_picture_and_the_feed_goes_on(tmp_path: Path, unique: str) -> None:
    env = _own_cache(tmp_path)
    data_dir = tmp_path / "broker"
    bootstrap, _ = _start(env, data_dir)
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"l{unique}", partitions=2)
    server = None
    try:
        setup_topics(kafka)
        server = Server(kafka, tmp_path / "state", tmp_path / "live.log")
        send_buses(kafka, bus("B1", "R1", 47.30), bus("B2", "R1", 47.31))
        server.wait_for("/api/vehicles", lambda v: len(v) == 2)
        assert _cli(env, "kafka", "stop", "--keep-data").returncode == 0
        deadline = time.monotonic() + 30
        while "waiting for Kafka" not in server.health()["feed"]:
            assert time.monotonic() < deadline, server.health()
            time.sleep(0.5)
        assert len(server.get("/api/vehicles")) == 2  # the picture stays while Kafka is away
        restarted, _ = _start(env, data_dir)
        assert restarted == bootstrap
        send_buses(kafka, bus("B1", "R1", 47.40))
        server.wait_for("/api/vehicles", lambda v: any(r["id"] == "B1" and r["lat"] == 47.40 for r in v), timeout=60)
        assert server.health()["feed"] == "ok"
        assert server.health()["messages"] == 3  # nothing read twice after the outage
    finally:
        if server is not None:
            server.stop()
        _cli(env, "kafka", "stop")


def test_a_server_frozen_and_woken_late_catches_up(kafka_settings: KafkaSettings, tmp_path: Path) -> None:
    setup_topics(kafka_settings)
    server = Server(kafka_settings, tmp_path / "state", tmp_path / "live.log")
    try:
        send_buses(kafka_settings, bus("B1", "R1", 47.30))
        server.wait_for("/api/vehicles", lambda v: len(v) == 1)
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            for k in range(1, 6):
                send_buses(kafka_settings, bus("B1", "R1", 47.30 + k / 100))
            send_alerts(kafka_settings, alert("a1", 1, "B1"), alert("a1", 3, "B1"), alert("a2", 1, "B1"))
            time.sleep(4)
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        server.wait_for("/api/vehicles", lambda v: v[0]["lat"] == 47.30 + 5 / 100)
        assert [a["id"] for a in server.wait_for("/api/alerts", lambda a: len(a) == 1)] == ["a2"]
        assert server.health()["messages"] == 9
    finally:
        server.stop()


def test_a_disk_that_refuses_the_store_loses_nothing_once_it_has_room(
        kafka_settings: KafkaSettings, tmp_path: Path) -> None:
    setup_topics(kafka_settings)
    server = Server(kafka_settings, tmp_path / "state", tmp_path / "live.log")
    try:
        send_buses(kafka_settings, bus("B0", "R1", 47.30))
        server.wait_for("/api/vehicles", lambda v: len(v) == 1)
        used = sum(f.stat().st_size for f in (tmp_path / "state").rglob("*") if f.is_file())
        # no file of the server may grow any more: writes fail with EFBIG, as on a full disk (the soft
        # limit only, so that it can be lifted again: "the disk has room")
        _, hard = resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (used, hard))
        send_buses(kafka_settings, *[bus(f"B{i}", "R1", 47.3 + i / 1000) for i in range(1, 400)])
        deadline = time.monotonic() + 30
        while server.health().get("store_error") is None:
            assert time.monotonic() < deadline and server.process.poll() is None, server.health()
            time.sleep(0.2)
        health = server.health()
        assert "live store" in health["store_error"] and health["store_failures"] >= 1
        answer = httpx.get(f"{server.url}/api/vehicles", timeout=10)  # what it has, or a 503 that says why
        assert answer.status_code == 200 or "live store" in answer.json()["error"]
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        server.wait_for("/api/vehicles", lambda v: len(v) == 400, timeout=30)
        assert server.health()["store_error"] is None
    finally:
        server.stop()


def test_a_store_that_cannot_be_opened_stops_the_command_with_one_line(tmp_path: Path) -> None:
    store = tmp_path / "state"
    store.mkdir()
    (store / "clog").write_text("not a directory")
    done = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "live", "--port", "1", "--store",
                           f"surrealkv://{store}"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "live store" in done.stderr or "cannot serve" in done.stderr, done.stderr
