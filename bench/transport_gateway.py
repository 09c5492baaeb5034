"""The processes around ``smartcity bench transports``: Mosquitto, the edge gateway (``smartcity edge``) and
reading a child's JSON answers and CPU time."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from smartcity.devbroker.local import free_port, port_open
from smartcity.ingest.kafka.settings import KafkaSettings


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if Path(p).exists()), None)


def tail(path: Path, lines: int = 3) -> str:
    """The last ``lines`` lines of a log, on one line."""
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return " | ".join(ln.strip() for ln in text[-lines:]) or "no output"


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if port_open(port):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def mosquitto(folder: Path) -> Iterator[tuple[psutil.Process, int] | str]:
    """A Mosquitto on a free loopback port (its process and port), or why there is none."""
    binary = mosquitto_binary()
    if binary is None:
        yield "no Mosquitto broker on this machine (apt-get install mosquitto)"
        return
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n")
    with (folder / "mosquitto.log").open("wb") as log:
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log)
    try:
        if not _wait_port(port, proc):
            yield f"Mosquitto did not start: {tail(folder / 'mosquitto.log', 1)}"
            return
        yield psutil.Process(proc.pid), port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_LAST_CPU: dict[int, float] = {}


def cpu_seconds(proc: psutil.Process | None) -> float:
    """User + system CPU seconds of a process so far (0 without one; once it is gone, the last reading)."""
    if proc is None:
        return 0.0
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return _LAST_CPU.get(proc.pid, 0.0)
    _LAST_CPU[proc.pid] = float(t.user + t.system)
    return _LAST_CPU[proc.pid]


class Lines:
    """A child's stdout, a JSON answer per line, read with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line)
        self.queue.put(None)

    def next(self, timeout_s: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{what}: no answer within {timeout_s:.0f} s") from None
            if line is None:
                raise RuntimeError(f"{what}: the process ended")
            if line.startswith("{"):
                answer: dict[str, Any] = json.loads(line)
                return answer


@dataclass
class Gateway:
    """``smartcity edge`` in a process of its own, logging to ``log``."""

    proc: subprocess.Popen[bytes]
    log: Path
    ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.proc.pid)

    def wait_ready(self, way: str, timeout_s: float = 60.0) -> None:
        wanted = ["edge gateway up"] + (["mqtt: connected"] if way == "mqtt" else [])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace") if self.log.exists() else ""
            if all(w in text for w in wanted):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"smartcity edge --{way} exited ({self.proc.returncode}): {tail(self.log)}")
            time.sleep(0.05)
        raise RuntimeError(f"smartcity edge --{way} not ready within {timeout_s:.0f} s: {tail(self.log)}")

    def stop(self) -> str:
        """SIGTERM, wait, and its summary line (``edge zmq: N received, N forwarded, N still spooled``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        lines = [ln.strip() for ln in self.log.read_text(errors="replace").splitlines() if ln.startswith("edge ")]
        return lines[-1] if lines else f"exit {self.proc.returncode}"


def gateway_endpoints() -> dict[str, str]:
    """Free loopback endpoints for the gateway's ZeroMQ pull and acknowledgement sockets and Zenoh listener."""
    return {"zmq_pull": f"tcp://127.0.0.1:{free_port()}", "zmq_acks": f"tcp://127.0.0.1:{free_port()}",
            "zenoh": f"tcp/127.0.0.1:{free_port()}"}


def start_gateway(way: str, settings: KafkaSettings, folder: Path, mqtt_port: int,
                  endpoints: dict[str, str]) -> Gateway:
    """``smartcity edge --<way>`` forwarding into ``settings``' topics, spooling under ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_EDGE_")}
    env.update({"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
                "SMARTCITY_KAFKA_TOPIC_PREFIX": settings.topic_prefix, "COLUMNS": "200"})
    cmd = [sys.executable, "-m", "smartcity.cli.main", "-v", "edge", f"--{way}", "--spool-dir", str(folder / "spool"),
           "--zmq-pull", endpoints["zmq_pull"], "--zmq-acks", endpoints["zmq_acks"],
           "--zenoh-listen", endpoints["zenoh"], "--mqtt-port", str(mqtt_port),
           "--mqtt-client-id", f"gw-{settings.topic_prefix}"[:23], "--heartbeat", str(folder / "heartbeat"),
           "--until-idle", "120s"]  # a safety net: the bench stops it with SIGTERM once everything is in Kafka
    log = folder / "edge.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=fh)
    return Gateway(proc, log)
