"""``live``: the live view under 500 browsers, one of them stalled.

A ``smartcity live`` server follows a bus topic fed at a steady rate; a second process holds 500
Server-Sent Event streams and times each update from the Kafka timestamp of its newest (and oldest)
message to its arrival. Half-way it adds a client that never reads. The stalled client's queue is
bounded, so it should lose updates (and be told) while the others see no change in latency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, cast

import httpx
import numpy as np
import psutil
from confluent_kafka import Producer

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.devbroker.local import free_port
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import producer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto.codec import BUS
from smartcity.proto.smartcity.v1.bus_pb2 import BusTelemetry

BUSES = 40
PHASES = ("without a stalled client", "with a stalled client", "after the stalled client left")


def _produce(settings: KafkaSettings, rate: float, stop: threading.Event) -> int:
    """Bus readings at ``rate`` per second (each bus moves a little every time) until ``stop``."""
    producer, sent, began = Producer(producer_config(settings)), 0, time.monotonic()
    headers: Any = BUS.headers("protobuf")
    while not stop.is_set():
        due = int((time.monotonic() - began) * rate)
        while sent < due:
            i = sent % BUSES
            message = BusTelemetry(bus_id=f"B{i:03d}", route_id=f"R{i % 8:02d}",
                                   event_time_ms=int(time.time() * 1000), latitude=47.35 + (sent % 500) / 10_000,
                                   longitude=8.5 + i / 1000, passengers=sent % 90, capacity=90,
                                   occupancy_status=cast(Any, (sent // BUSES) % 6))
            producer.produce(settings.topic("bus"), BUS.encode(message), message.bus_id.encode(), headers=headers)
            sent += 1
        producer.poll(0.005)
    producer.flush(30)
    return sent


def _percentiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {"p50": round(float(np.percentile(a, 50)), 1), "p99": round(float(np.percentile(a, 99)), 1),
            "max": round(float(a.max()), 1)}


def run(ctx: BenchContext) -> Result:
    clients, seconds, rate = ctx.size(500, 100), ctx.size(30.0, 8.0), 200.0
    # quick: a short queue and socket buffer, so that the stalled client overflows them within the run
    queue, send_buffer_kib = ctx.size(64, 4), ctx.size(128, 16)
    settings = ctx.settings(partitions=2)
    create_topics(settings, [settings.topic(k) for k in ("bus", "air", "station", "alerts", "bus_windows")])
    port = free_port()
    env = dict(os.environ, SMARTCITY_KAFKA_BOOTSTRAP_SERVERS=str(settings.bootstrap_servers),
               SMARTCITY_KAFKA_TOPIC_PREFIX=settings.topic_prefix, SMARTCITY_LIVE_SEND_BUFFER_KIB=str(send_buffer_kib))
    store = ctx.scratch("live-store")
    server = subprocess.Popen([sys.executable, "-m", "smartcity.cli.main", "live", "--port", str(port),
                               "--store", f"surrealkv://{store}", "--client-queue", str(queue)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop, sent = threading.Event(), [0]
    producer = threading.Thread(target=lambda: sent.__setitem__(0, _produce(settings, rate, stop)), daemon=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/health", timeout=2)
                break
            except httpx.TransportError as exc:
                if server.poll() is not None or time.monotonic() > deadline:
                    why = server.stderr.read() if server.stderr else ""
                    raise RuntimeError(f"the live server did not start: {why}") from exc
                time.sleep(0.2)
        producer.start()
        ctx.log(f"live: {clients} clients, {rate:.0f} msgs/s, {seconds:.0f} s each without, with and after a "
                "stalled client")
        rss = [0.0]

        def sample() -> None:
            proc = psutil.Process(server.pid)
            while not stop.is_set():
                rss[0] = max(rss[0], proc.memory_info().rss / 2**20)
                time.sleep(0.5)

        threading.Thread(target=sample, daemon=True).start()
        spec = {"host": "127.0.0.1", "port": port, "clients": clients, "seconds": seconds}
        done = subprocess.run([sys.executable, "-m", "smartcity.bench.live_clients", json.dumps(spec)],
                              capture_output=True, text=True, timeout=seconds * 3 + 180)
        if done.returncode != 0:
            raise RuntimeError(f"the clients failed: {done.stderr[-2000:]}")
        answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        health = httpx.get(f"{url}/api/health", timeout=10).json()
    finally:
        stop.set()
        producer.join(30)
        server.terminate()
        server.wait(30)
    rows = []
    found: dict[str, dict[str, float]] = {}
    for name in PHASES:
        newest = _percentiles(answer["samples"].get(name, [0.0]))
        oldest = _percentiles(answer["samples"].get(name + " (oldest)", [0.0]))
        found[name] = newest
        rows.append({"phase": name, "healthy clients": answer["connected"], "updates timed":
                     len(answer["samples"].get(name, [])), "p50 ms": newest["p50"], "p99 ms": newest["p99"],
                     "max ms": newest["max"], "p99 ms (oldest message)": oldest["p99"]})
    headline = {"clients": clients, "p99 ms without stalled": found[PHASES[0]]["p99"],
                "p99 ms with stalled": found[PHASES[1]]["p99"], "p99 ms after it left": found[PHASES[2]]["p99"],
                "updates dropped for the stalled client": health.get("dropped", 0),
                "server peak RSS MB": round(rss[0], 1)}
    return Result("live", f"Live view: event-to-browser latency with {clients} clients, one stalled", rows, headline,
                  Chart(x="phase", y="p99 ms", ylabel="p99 ms, Kafka timestamp to browser"),
                  notes=[f"{sent[0]:,} bus readings at {rate:.0f}/s over {BUSES} buses into a 2-partition topic; "
                         "one `smartcity live` server (embedded SurrealDB, flush every 250 ms); the clients are "
                         "asyncio streams in one other process on the same machine.",
                         "latency: arrival time minus the Kafka timestamp of the newest message in each update "
                         "(and, last column, of the oldest, which also waited for the flush).",
                         f"the stalled client opens after {seconds:.0f} s with a 4 KiB receive buffer and never "
                         f"reads; its bounded queue ({queue} updates, once its {send_buffer_kib} KiB socket buffer "
                         "and the server's transport buffer are full) drops the "
                         "oldest and tells it, and the others "
                         f"are timed for {seconds:.0f} s more; then it closes and they are timed another "
                         f"{seconds:.0f} s (the first phase's conditions, later: the run's drift). Each healthy "
                         "client got between "
                         f"{answer['events_min']} and {answer['events_max']} updates."])
