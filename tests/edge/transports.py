"""Test helpers for the edge gateway: a real Mosquitto broker, free endpoints, the gateway and the
simulated devices as processes, and what the devices sent (computed independently, in-process)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartcity.bench.transport_gateway import mosquitto_binary as bench_mosquitto_binary
from smartcity.devbroker.local import free_port, port_open
from tests.conftest import unavailable

START = "2026-03-10T06:00"
SEED = 7


def mosquitto_binary() -> str:
    found = bench_mosquitto_binary()
    if found is None:
        unavailable("no Mosquitto broker (apt-get install mosquitto)")
    return found


def start_mosquitto(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A Mosquitto broker on a free loopback port, persisting sessions, queueing without limit."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {folder}/\nmax_queued_messages 0\n")
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=(folder / "mosquitto.log").open("wb"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if port_open(port):
            return proc, port
        time.sleep(0.05)
    proc.kill()
    unavailable(f"Mosquitto did not start: {(folder / 'mosquitto.log').read_text()[-500:]}")


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    proc, port = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def edge_env(bootstrap: str, prefix: str, mqtt_port: int | None) -> dict[str, str]:
    """Environment of a gateway and its devices: the broker, the topic prefix, fresh endpoints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_EDGE_")}
    env.update({"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "SMARTCITY_KAFKA_TOPIC_PREFIX": prefix,
                "SMARTCITY_EDGE_ZMQ_PULL": f"tcp://127.0.0.1:{free_port()}",
                "SMARTCITY_EDGE_ZMQ_ACKS": f"tcp://127.0.0.1:{free_port()}",
                "SMARTCITY_EDGE_ZENOH_LISTEN": f"tcp/127.0.0.1:{free_port()}",
                "SMARTCITY_EDGE_MQTT_CLIENT_ID": f"gw-{prefix}"[:23],
                "SMARTCITY_HEALTH_HEARTBEAT": f"/tmp/hb-{prefix}"})
    if mqtt_port is not None:
        env["SMARTCITY_EDGE_MQTT_PORT"] = str(mqtt_port)
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "smartcity.cli.main", *args]


def start_gateway(env: dict[str, str], transport: str, spool: Path, *extra: str, log: Path,
                  max_file_bytes: int | None = None) -> subprocess.Popen[bytes]:
    """``smartcity edge`` as a process; ``max_file_bytes`` makes the disk refuse to grow any of its files
    beyond that size (RLIMIT_FSIZE: writes fail with EFBIG, as on a full disk)."""

    def limit() -> None:
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.Popen(cli("-v", "edge", f"--{transport}", "--spool-dir", str(spool), *extra), env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("ab"), preexec_fn=limit)


def devices_command(transport: str, *extra: str, minutes: int = 4) -> list[str]:
    """The simulated devices: buses and air sensors of the default city for ``minutes`` (~780 messages a minute)."""
    return cli("simulate", "--to", transport, "--domains", "bus,air", "--start", START, "--duration",
               f"{minutes}m", "--seed", str(SEED), *extra)


def expected_messages(minutes: int = 4) -> set[tuple[str, str, int]]:
    """(domain, device, device_seq) of every message the devices of :func:`devices_command` send."""
    from smartcity.ingest.edge.play import numbered
    from smartcity.simulator import SimConfig, default_city, simulate

    start = datetime.fromisoformat(START).replace(tzinfo=UTC)
    events = simulate(default_city(), start, timedelta(minutes=minutes), SEED, ("bus", "air"), SimConfig())
    return {(ev.domain, ev.key, ev.message.device_seq) for ev in numbered(events)}


def landed_messages(lake: Path) -> list[tuple[str, str, int]]:
    """(domain, device, device_seq) of every row in the lake's bus and air datasets (with repeats)."""
    from smartcity.storage.scan import read_table

    out = []
    for domain, dataset, key in (("bus", "bus_telemetry", "bus_id"), ("air", "air_readings", "sensor_id")):
        table = read_table(lake, dataset)
        out += [(domain, k, s) for k, s in zip(table.column(key).to_pylist(), table.column("device_seq").to_pylist(),
                                               strict=True)]
    return out
