"""``scale``: the time a sink group takes to drain a fixed backlog with 1, 2 and 3 members, and the same
backlog under the KEDA rule (:mod:`smartcity.bench.autoscaler`), which scales 1 → 3 → 1 as the lag
rises and falls. Members are ``smartcity ingest`` processes with static membership ids, as the
Kubernetes Deployment runs them; the lag is sampled from Kafka as KEDA reads it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from smartcity.bench.autoscaler import Autoscaler, Members
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.scale_alerts import FLAGS, alerts_rows
from smartcity.bench.steps import Backlog, backlog, lake_rows
from smartcity.ingest.kafka.scaling import ScalerSpec

PARTITIONS = 6
POLL_S = 0.5
BATCH_AGE_S = 2.0
"""A batch's longest wait (the default is 30 s): the drain then measures landing, not the final wait."""


def _members(ctx: BenchContext, topic: Backlog, group: str, lake: Path) -> Members:
    kafka = topic.settings
    env = dict(os.environ, SMARTCITY_KAFKA_TOPIC_PREFIX=kafka.topic_prefix,
               SMARTCITY_HEARTBEAT=str(lake.parent / f"{group}.heartbeat"))

    def command(name: str) -> list[str]:
        return [sys.executable, "-m", "smartcity.cli.main", "ingest", "--bootstrap-servers",
                kafka.bootstrap_servers or "", "--lake", str(lake), "--group", group, "--topics", "bus",
                "--instance-id", name, "--batch-age", str(BATCH_AGE_S)]

    return Members(command, env, ctx.scratch(f"logs-{group}"), name="smartcity-ingest")


def _drain(ctx: BenchContext, topic: Backlog, label: str, spec: ScalerSpec, start: int,
           window_s: float) -> tuple[Autoscaler, float]:
    """Land the backlog with ``start`` members under ``spec``; the controller (its samples) and the
    seconds to lag 0."""
    group = f"{topic.settings.topic_prefix}-{label.replace(' ', '-')}"
    lake = ctx.scratch(f"lake-{group}")
    scaler = Autoscaler(topic.settings, group, [topic.topic], spec, _members(ctx, topic, group, lake),
                        poll_s=POLL_S, scale_down_window_s=window_s)
    drained = scaler.drain(start, lambda sample, _: sample.members <= spec.min_replicas,
                           timeout=ctx.size(900.0, 240.0))
    landed = lake_rows(lake)
    if landed != topic.messages:
        raise RuntimeError(f"{label}: the group landed {landed:,} rows of {topic.messages:,}")
    return scaler, drained


def run(ctx: BenchContext) -> Result:
    n = ctx.size(1_500_000, 60_000)
    ctx.log(f"scale: producing {n:,} records to {PARTITIONS} partitions")
    topic = backlog(ctx, n, partitions=PARTITIONS)
    rows: list[dict[str, object]] = []
    curves: dict[str, list[tuple[float, float]]] = {}
    drain: dict[str, float] = {}
    for members in (1, 2, 3):
        label = f"{members} member{'s' if members > 1 else ''}"
        ctx.log(f"scale: draining with {label}")
        fixed = ScalerSpec(lag_threshold=1, min_replicas=members, max_replicas=members,
                           offset_reset_policy="earliest")  # a fixed count
        scaler, drain[label] = _drain(ctx, topic, label, fixed, members, window_s=0)
        curves[label] = scaler.lag_curve()
        rows.append({"run": label, "drain s": drain[label], "msgs/s": n / drain[label],
                     "members over time": scaler.path()})
    label = "KEDA 1 → 3 → 1"
    ctx.log(f"scale: draining under the KEDA rule ({label})")
    keda = ScalerSpec(lag_threshold=max(n // 3, 1), min_replicas=1, max_replicas=3, offset_reset_policy="earliest")
    window = ctx.size(10.0, 3.0)
    scaler, drain[label] = _drain(ctx, topic, "keda", keda, 1, window_s=window)
    curves[label] = scaler.lag_curve()
    path = scaler.path()
    rows.append({"run": label, "drain s": drain[label], "msgs/s": n / drain[label], "members over time": path})
    alert_rows, alert_curves, same = alerts_rows(ctx)
    rows += alert_rows
    curves.update(alert_curves)
    one = drain["1 member"]
    headline = {"drain 1 member s": round(one, 1), "speed-up 2 members": round(one / drain["2 members"], 2),
                "speed-up 3 members": round(one / drain["3 members"], 2),
                "KEDA run members": path, "every row landed once": "yes",
                "alerts 1 → 2 members = 1 member": "yes" if same else "NO"}
    return Result("scale", "Draining a backlog: 1, 2, 3 sink members, KEDA's rule, alerts 1 → 2", rows, headline,
                  Chart(x="seconds since the members were started", y="lag", series="run", kind="curve",
                        ylabel="group lag (messages)"), curves=curves,
                  notes=[f"{n:,} Protobuf bus telemetry records on {PARTITIONS} partitions; each run is a fresh "
                         "group and lake, its members `smartcity ingest` processes with static membership ids "
                         "(`--instance-id`, as the Deployment sets from the pod name), default batch size, "
                         f"`--batch-age {BATCH_AGE_S:g}` (a drain ends with partial batches), Parquet.",
                         f"Lag sampled every {POLL_S} s from the committed offsets, as KEDA's Kafka scaler reads "
                         "it. Drain time: from starting the members (process start-up and group join included) to "
                         "the first sample at lag 0. Every run must land every row once or the experiment fails.",
                         f"KEDA run: lagThreshold {keda.lag_threshold:,} (a third of the backlog), min 1, max 3 "
                         f"members, scale-down stabilisation {window:.0f} s; the same pure rule as `smartcity lag`.",
                         "Alerts: the same bus backlog (distinct simulated days, in event-time order) twice, on "
                         "topics of its own each time, handled by `smartcity alerts` "
                         f"`{' '.join(FLAGS)}` with 1 member, then with a group that the KEDA rule grows from 1 "
                         "to 2 members (lagThreshold half the backlog) while it works. Compared: every bus window "
                         "record, the fleet figures merged by window, every alert transition.",
                         "The broker and every member share this machine's 2 cores: more members add parallel "
                         "writers, not cores."])

