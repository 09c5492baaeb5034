"""Helpers of the live-view tests: ``smartcity live`` as a process, messages to produce, an SSE reader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Producer

from smartcity.devbroker.local import free_port
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto.codec import ALERT, BUS, BUS_WINDOW, Codec
from smartcity.proto.smartcity.v1.alert_pb2 import Alert
from smartcity.proto.smartcity.v1.bus_pb2 import BusTelemetry
from smartcity.proto.smartcity.v1.window_pb2 import BusWindowStats

TOPICS = ("bus", "air", "station", "alerts", "bus_windows")


def now_ms() -> int:
    return int(time.time() * 1000)


class Server:
    """A ``smartcity live`` process on a free port, with its own store folder."""

    def __init__(self, kafka: KafkaSettings, store: Path, log: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, SMARTCITY_KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
                   SMARTCITY_KAFKA_TOPIC_PREFIX=kafka.topic_prefix, SMARTCITY_LIVE_FLUSH_MS="100")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "smartcity.cli.main", "live", "--port", str(self.port),
             "--store", f"surrealkv://{store}", *extra], env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
        self.log = log
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"smartcity live did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/api/health", timeout=10).json()  # type: ignore[no-any-return]

    def wait_for(self, path: str, check: Any, timeout: float = 20.0, **params: Any) -> Any:
        """Poll ``path`` until ``check`` holds (a 503, the store unavailable for now, counts as not yet)."""
        deadline = time.monotonic() + timeout
        while True:
            response = httpx.get(f"{self.url}{path}", params=params, timeout=10)
            value = response.json()
            if response.status_code != 503:
                response.raise_for_status()
                if check(value):
                    return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never matched; last: {value}")
            time.sleep(0.1)

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def setup_topics(kafka: KafkaSettings) -> None:
    create_topics(kafka, [kafka.topic(kind) for kind in TOPICS])


def send(kafka: KafkaSettings, kind: str, codec: Codec[Any], messages: list[Any], key: str = "") -> None:
    producer = Producer(producer_config(kafka))
    for m in messages:
        value = m if isinstance(m, bytes) else codec.encode(m)
        producer.produce(kafka.topic(kind), value, (key or getattr(m, "bus_id", "") or "x").encode(),
                         headers=codec.headers("protobuf"))
    assert producer.flush(30) == 0


def bus(bus_id: str, route: str, lat: float, occupancy: int = 1, t: int | None = None) -> BusTelemetry:
    return BusTelemetry(bus_id=bus_id, route_id=route, event_time_ms=t or now_ms(), latitude=lat, longitude=8.54,
                        passengers=10 * occupancy, capacity=80, occupancy_status=occupancy)


def alert(alert_id: str, state: int, subject: str = "B1", t: int | None = None) -> Alert:
    return Alert(alert_id=alert_id, kind=1, severity=3, state=state, subject_id=subject, subject_type="bus",
                 event_time_ms=t or now_ms(), start_time_ms=now_ms(), message=f"bus {subject} is crowded",
                 observed_value=1.2, threshold=1.0, unit="ratio")


def window(mean: float) -> BusWindowStats:
    """One bus's window of 10 readings: ``mean`` with one decimal is a whole number of passengers."""
    end = now_ms()
    return BusWindowStats(bus_id="B1", window_start_ms=end - 60_000, window_end_ms=end, readings=10,
                          passengers_mean=mean)


def send_buses(kafka: KafkaSettings, *messages: BusTelemetry) -> None:
    send(kafka, "bus", BUS, list(messages))


def send_alerts(kafka: KafkaSettings, *messages: Alert) -> None:
    send(kafka, "alerts", ALERT, list(messages))


def send_window(kafka: KafkaSettings, message: BusWindowStats) -> None:
    send(kafka, "bus_windows", BUS_WINDOW, [message])


@contextmanager
def events(url: str, last_event_id: str | None = None) -> Iterator[Iterator[tuple[str | None, str, Any]]]:
    """The event stream as (id, event, data) tuples; keep-alive comments and ``retry`` are skipped."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with httpx.stream("GET", f"{url}/events", headers=headers, timeout=httpx.Timeout(10, read=30)) as response:
        def parse() -> Iterator[tuple[str | None, str, Any]]:
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if not line:
                    if "event" in fields:
                        yield fields.get("id"), fields["event"], json.loads(fields["data"])
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
        yield parse()
