"""``smartcity live`` against a real broker: the API follows Kafka with its filters, browsers resume from
their last event id, a bad message is skipped, and a server killed with ``-9`` shows the same picture
at once from SurrealDB, then goes on from where it stopped without reading anything twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto.codec import BUS

from .server import Server, alert, bus, events, send, send_alerts, send_buses, send_window, setup_topics, window

pytestmark = [pytest.mark.kafka]


def _ids(rows: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(r["id"] for r in rows)


def test_the_api_follows_kafka_and_a_browser_resumes_from_its_last_event(
        kafka_settings: KafkaSettings, tmp_path: Path) -> None:
    setup_topics(kafka_settings)
    server = Server(kafka_settings, tmp_path / "state", tmp_path / "live.log")
    try:
        send_buses(kafka_settings, bus("B1", "R1", 47.30, occupancy=5), bus("B2", "R1", 47.31, occupancy=0),
                   bus("B3", "R2", 47.32, occupancy=3))
        send_alerts(kafka_settings, alert("a1", state=1, subject="B1"))
        send_window(kafka_settings, window(41.5))
        server.wait_for("/api/vehicles", lambda v: len(v) == 3)
        assert _ids(server.get("/api/vehicles", route="R1")) == ["B1", "B2"]
        assert _ids(server.get("/api/vehicles", at_least="STANDING_ROOM_ONLY")) == ["B1", "B3"]
        assert _ids(server.get("/api/vehicles", occupancy=["EMPTY", "FULL"])) == ["B1", "B2"]
        assert server.wait_for("/api/alerts", lambda a: len(a) == 1)[0]["message"] == "bus B1 is crowded"
        assert server.wait_for("/api/fleet", bool)["passengers_mean"] == 41.5

        with events(server.url) as stream:
            last_id, kind, first = next(stream)
        assert kind == "snapshot" and _ids(first["vehicles"]) == ["B1", "B2", "B3"]
        assert [a["id"] for a in first["alerts"]] == ["a1"]

        # while the browser is away: B1 moves, the alert closes, and one message is garbage
        send(kafka_settings, "bus", BUS, [b"\xff not a message"], key="B9")
        send_buses(kafka_settings, bus("B1", "R1", 47.40, occupancy=5))
        send_alerts(kafka_settings, alert("a1", state=3, subject="B1"))
        server.wait_for("/api/alerts", lambda a: a == [])
        assert server.health()["undecodable"] == 1
        with events(server.url, last_event_id=last_id) as stream:
            missed = []
            while not (missed and any(data.get("closed") for _, _, data in missed)):
                missed.append(next(stream))
        assert {kind for _, kind, _ in missed} == {"update"}  # what it missed, not the whole picture again
        moved = [v for _, _, data in missed for v in data["vehicles"] if v["id"] == "B1"]
        assert moved[-1]["lat"] == 47.40
        assert server.get("/api/vehicles", route="R1'; --") == []
        deadline = time.monotonic() + 10
        while server.health()["clients"]:  # a browser that went away is forgotten
            assert time.monotonic() < deadline, server.health()
            time.sleep(0.1)
    finally:
        server.stop()


def test_kill_9_then_restart_shows_the_same_picture_before_new_messages(
        kafka_settings: KafkaSettings, tmp_path: Path) -> None:
    setup_topics(kafka_settings)
    store, log = tmp_path / "state", tmp_path / "live.log"
    server = Server(kafka_settings, store, log)
    try:
        send_buses(kafka_settings, *[bus(f"B{i}", f"R{i % 2}", 47.3 + i / 100, occupancy=i % 6) for i in range(8)])
        send_alerts(kafka_settings, alert("a1", 1, "B1"), alert("a2", 1, "B2"), alert("a2", 3, "B2"))
        server.wait_for("/api/vehicles", lambda v: len(v) == 8)
        before = {"vehicles": server.wait_for("/api/vehicles", lambda v: len(v) == 8),
                  "alerts": server.wait_for("/api/alerts", lambda a: _ids(a) == ["a1"])}
        read = server.health()["messages"]
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    finally:
        server.stop()
    restarted = Server(kafka_settings, store, log)
    try:
        assert restarted.get("/api/vehicles") == before["vehicles"]
        assert restarted.get("/api/alerts") == before["alerts"]
        with events(restarted.url) as stream:
            _, kind, snapshot = next(stream)
        assert kind == "snapshot" and _ids(snapshot["vehicles"]) == _ids(before["vehicles"])
        time.sleep(1.5)
        assert restarted.health()["messages"] == 0, read  # went on from its stored positions
        send_buses(kafka_settings, bus("B0", "R0", 47.5, occupancy=4))
        moved = restarted.wait_for("/api/vehicles", lambda v: v and v[0]["lat"] == 47.5, route="R0")
        assert _ids(moved) == ["B0", "B2", "B4", "B6"]
        assert restarted.health()["messages"] == 1
    finally:
        restarted.stop()
