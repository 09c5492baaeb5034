"""Benchmarks of the alerting daemon on a real broker: end-to-end latency and the sustained input rate.

* :func:`latency_benchmark` produces live bus telemetry (event time = wall-clock time at produce) at
  ``rate`` messages per second to a daemon running in its own process, and reads the alerts and window
  records back with ``read_committed``. An alert's latency is its receipt time minus the event time of
  the reading that triggered it, so it covers produce, consume, the engine, the transaction commit and
  the read. A window's latency is its receipt time minus the moment it could first close
  (``window end + grace``).
* :func:`max_rate` lays down a backlog of ``messages`` and times the daemon through it, from its first
  committed offsets to its last: the largest input rate one process sustains, transactions included.

Some buses cycle between crowded and calm (12 of every 40 readings at 90 % of capacity), so crowding
alerts open and close all the time; every bus fills 1-second windows.

Run ``python -m smartcity.bench.alert_latency --bootstrap-servers HOST:PORT [--rate 20000 --seconds 60] --out r.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from confluent_kafka import Consumer, Producer

from smartcity.bench.alert_daemon import (
    committed_offsets,
    delete_run_topics,
    end_offsets,
    prepare_run,
    start_daemon,
    stop_daemon,
    wait_for_member,
)
from smartcity.bench.alert_workload import Fleet, backlog
from smartcity.ingest.kafka.config import consumer_config, producer_config
from smartcity.ingest.kafka.member import produce
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto.codec import ALERT, BUS_WINDOW

WARMUP_S = 5.0


def _percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    a = np.asarray(values)
    return {"count": len(values), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "p99_ms": round(float(np.percentile(a, 99)), 1),
            "max_ms": round(float(a.max()), 1), "mean_ms": round(float(a.mean()), 1)}


class _Receiver(threading.Thread):
    """Reads alerts and windows (read_committed) and records each record's latency in ms."""

    def __init__(self, kafka: KafkaSettings, grace_ms: int) -> None:
        super().__init__(daemon=True)
        self.kafka, self.grace_ms = kafka, grace_ms
        self.alerts: list[tuple[float, float]] = []   # (receipt s, latency ms)
        self.windows: list[tuple[float, float]] = []
        self.ready = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        alerts, windows = self.kafka.topic("alerts"), self.kafka.topic("bus_windows")
        consumer = Consumer(consumer_config(self.kafka, f"bench-reader-{uuid.uuid4().hex[:6]}", **{
            "isolation.level": "read_committed", "fetch.min.bytes": 1, "fetch.wait.max.ms": 5,
            "auto.offset.reset": "latest"}))
        consumer.subscribe([alerts, windows], on_assign=lambda c, ps: self.ready.set())
        try:
            while not self.done.is_set():
                for m in consumer.consume(5000, timeout=0.005):
                    if m.error() is not None:
                        continue
                    now = time.time()
                    if m.topic() == alerts:
                        t = ALERT.decode(m.value()).event_time_ms
                        self.alerts.append((now, now * 1000 - t))
                    else:
                        w = BUS_WINDOW.decode(m.value())
                        self.windows.append((now, now * 1000 - (w.window_end_ms + self.grace_ms)))
        finally:
            consumer.close()


def latency_benchmark(kafka: KafkaSettings, rate: float = 20_000, seconds: float = 60, *, buses: int = 2000,
                      commit_interval: float | None = None, keep_topics: bool = False) -> dict[str, Any]:
    """Produce ``rate`` msgs/s of live bus telemetry for ``seconds``; latency percentiles of alerts and windows."""
    kafka, settings = prepare_run(kafka, "latency", commit_interval)
    receiver = _Receiver(kafka, settings.grace_ms)
    receiver.start()
    proc = start_daemon(kafka, settings)
    producer = Producer(producer_config(kafka, **{"linger.ms": 1, "compression.type": "none"}))
    fleet = Fleet(buses)
    topic = kafka.topic("bus")
    try:
        receiver.ready.wait(60)
        wait_for_member(kafka, settings.group, 60, proc)
        began = time.monotonic()
        sent = 0
        end = began + WARMUP_S + seconds
        measure_from = time.time() + WARMUP_S
        while (now := time.monotonic()) < end:
            due = int((now - began) * rate)
            t_ms = int(time.time() * 1000)
            while sent < due:
                key, value = fleet.next(t_ms)
                try:
                    producer.produce(topic, value, key)
                except BufferError:
                    producer.poll(0.01)
                    continue
                sent += 1
            producer.poll(0)
            time.sleep(0.001)
        produced_s = time.monotonic() - began
        producer.flush(30)
        time.sleep(3.0)
    finally:
        receiver.done.set()
        stop_daemon(proc)
        receiver.join(10)
    alerts = [lat for at, lat in receiver.alerts if at >= measure_from]
    windows = [lat for at, lat in receiver.windows if at >= measure_from]
    result = {
        "benchmark": "alerts-latency", "target_rate_msgs_s": rate, "achieved_rate_msgs_s": round(sent / produced_s),
        "seconds": seconds, "warmup_s": WARMUP_S, "buses": buses, "partitions": kafka.partitions,
        "commit_interval_s": settings.commit_interval, "window_s": settings.window, "grace_s": settings.grace,
        "alert_latency": _percentiles(alerts), "window_latency": _percentiles(windows),
    }
    if not keep_topics:
        delete_run_topics(kafka)
    return result


def max_rate(kafka: KafkaSettings, messages: int = 2_000_000, *, buses: int = 2000, event_rate: float = 20_000,
             commit_interval: float | None = None, keep_topics: bool = False) -> dict[str, Any]:
    """Time one daemon process through a backlog of ``messages``; the sustained input rate (msgs/s)."""
    kafka, settings = prepare_run(kafka, "rate", commit_interval)
    producer = Producer(producer_config(kafka))
    topic = kafka.topic("bus")
    start_ms = int(time.time() * 1000) - int(messages * 1000 / event_rate) - 60_000
    for key, value in backlog(Fleet(buses), messages, event_rate, start_ms):
        produce(producer, topic, value, key)
    producer.flush(120)
    total = end_offsets(kafka, topic)
    proc = start_daemon(kafka, settings, until_idle=3.0)
    first: tuple[float, int] | None = None
    last: tuple[float, int] = (time.monotonic(), 0)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = committed_offsets(kafka, settings.group, topic)
            now = time.monotonic()
            if done and first is None:
                first = (now, done)
            last = (now, done)
            if done >= total:
                break
            time.sleep(0.2)
    finally:
        stop_daemon(proc)
    if first is None or last[1] <= first[1]:
        raise RuntimeError("the daemon committed no progress")
    rate = (last[1] - first[1]) / (last[0] - first[0])
    result = {"benchmark": "alerts-max-rate", "messages": total, "buses": buses, "partitions": kafka.partitions,
              "commit_interval_s": settings.commit_interval, "measured_messages": last[1] - first[1],
              "seconds": round(last[0] - first[0], 2), "sustained_rate_msgs_s": round(rate),
              "completed": last[1] >= total}
    if not keep_topics:
        delete_run_topics(kafka)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", "-b", help="Kafka bootstrap servers [default: the local broker]")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of the benchmark topics")
    parser.add_argument("--rate", type=float, default=20_000, help="input rate of the latency run (msgs/s)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the latency run")
    parser.add_argument("--buses", type=int, default=2000, help="synthetic buses")
    parser.add_argument("--commit-interval", type=float, help="daemon commit interval (s) [default: the setting's]")
    parser.add_argument("--messages", type=int, default=2_000_000, help="backlog of the max-rate run")
    parser.add_argument("--only", choices=["latency", "max-rate"], help="run one of the two")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    ns = parser.parse_args(argv)
    from smartcity.core.settings import load_settings

    kafka = load_settings(flags={"kafka": {"bootstrap_servers": ns.bootstrap_servers,
                                           "partitions": ns.partitions}}).kafka
    results: dict[str, Any] = {}
    if ns.only in (None, "latency"):
        results["latency"] = latency_benchmark(kafka, ns.rate, ns.seconds, buses=ns.buses,
                                               commit_interval=ns.commit_interval)
    if ns.only in (None, "max-rate"):
        results["max_rate"] = max_rate(kafka, ns.messages, buses=ns.buses, commit_interval=ns.commit_interval)
    text = json.dumps(results, indent=2)
    print(text)
    if ns.out:
        ns.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
