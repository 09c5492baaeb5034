"""The alerts part of ``smartcity bench scale``: one bus backlog handled by an alerts group of one
member, and by a group that grows from 1 to 2 members under the KEDA rule while it works; the time to
drain, and whether both give the same bus windows, fleet figures and alerts."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from smartcity.bench.autoscaler import Autoscaler, Members
from smartcity.bench.core import BenchContext
from smartcity.bench.steps import backlog
from smartcity.ingest.alerts.fleet import fleet_by_window
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.scaling import ScalerSpec
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto.codec import ALERT, BUS_WINDOW, Codec

FLAGS = ["--streams", "bus", "--window", "5m", "--grace", "30s", "--idle-timeout", "5s", "-q"]


def read_all(kafka: KafkaSettings, kind: str, codec: Codec[Any]) -> list[Any]:
    """Every committed record of a topic (read_committed, to the end of each partition)."""
    topic = kafka.topic(kind)
    consumer = Consumer(consumer_config(kafka, f"bench-read-{time.monotonic_ns()}", **{
        "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in parts}
        ends = {p: high for p, (_, high) in marks.items()}
        consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        out, deadline = [], time.monotonic() + 120
        done = {p for p, (low, high) in marks.items() if high <= low}  # empty partitions
        while len(done) < len(parts) and time.monotonic() < deadline:
            done |= {p for p, end in ends.items() if consumer.position([TopicPartition(topic, p)])[0].offset >= end}
            for m in consumer.consume(num_messages=10_000, timeout=0.5):
                if m.error() is None:
                    out.append(codec.decode(m.value(), m.headers()))  # type: ignore[arg-type]
        return out
    finally:
        consumer.close()


def _run(ctx: BenchContext, n: int, max_members: int) -> tuple[float, Autoscaler, dict[str, Any]]:
    """Alerts over a fresh copy of the backlog (its own topics: outputs of two runs never mix)."""
    topic = backlog(ctx, n, partitions=6, distinct=True)
    kafka = topic.settings
    create_topics(kafka)  # the outputs, the changelog and the other inputs
    group = f"{kafka.topic_prefix}-alerts"
    env = dict(os.environ, SMARTCITY_KAFKA_TOPIC_PREFIX=kafka.topic_prefix)

    def command(name: str) -> list[str]:
        return [sys.executable, "-m", "smartcity.cli.main", "alerts", "--bootstrap-servers",
                kafka.bootstrap_servers or "", "--group", group, "--instance-id", name, *FLAGS]

    members = Members(command, env, ctx.scratch(f"logs-{group}"), name="smartcity-alerts", grace_s=30)
    spec = ScalerSpec(lag_threshold=max(n // 2, 1), min_replicas=1, max_replicas=max_members,
                      offset_reset_policy="earliest")
    scaler = Autoscaler(kafka, group, [topic.topic], spec, members, poll_s=0.5, scale_down_window_s=3600)
    # done a while after the lag reads 0: the last windows close on the idle timeout
    drained = scaler.drain(1, lambda sample, t0: sample.t > t0 + 12, timeout=ctx.size(900.0, 300.0))
    windows = read_all(kafka, "bus_windows", BUS_WINDOW)
    alerts = read_all(kafka, "alerts", ALERT)
    outputs = {
        "windows": Counter((w.bus_id, w.window_start_ms, w.readings, w.passengers_min, w.passengers_max,
                            round(w.passengers_mean, 9)) for w in windows),
        "fleet": {s: (f.buses, round(f.passengers_mean, 9)) for s, f in fleet_by_window(windows).items()},
        "alerts": Counter((a.alert_id, a.state, a.event_time_ms, round(a.peak_value, 9)) for a in alerts),
    }
    return drained, scaler, outputs


def alerts_rows(ctx: BenchContext) -> tuple[list[dict[str, object]], dict[str, list[tuple[float, float]]], bool]:
    """Rows for the result table, lag curves, and whether 1 → 2 members gave what 1 member gave."""
    n = ctx.size(600_000, 30_000)
    rows: list[dict[str, object]] = []
    curves: dict[str, list[tuple[float, float]]] = {}
    outputs = []
    for label, most in (("alerts, 1 member", 1), ("alerts, KEDA 1 → 2", 2)):
        ctx.log(f"scale: {label}")
        drain, scaler, out = _run(ctx, n, most)
        outputs.append(out)
        curves[label] = scaler.lag_curve()
        rows.append({"run": label, "drain s": drain, "msgs/s": n / drain, "members over time": scaler.path(),
                     "bus windows": sum(out["windows"].values()), "alert records": sum(out["alerts"].values())})
    same = outputs[0] == outputs[1]
    return rows, curves, same
