"""``transports``: the same device messages into Kafka four ways, measured.

1. Kafka direct: :func:`smartcity.ingest.producer.produce_records` (idempotent, acks=all) into the topics;
2. ZeroMQ, 3. Zenoh, 4. MQTT (a Mosquitto started here) into ``smartcity edge``, run as its own process,
   which spools each batch with an fsync, acknowledges it to the devices and forwards it to Kafka.

Every way sends identical message bytes: simulated bus, air and station messages numbered per device
(``device_seq``) and addressed ``<prefix>/<domain>/<device>``, as ``smartcity simulate --to zmq`` plays
them. The devices (for Kafka direct, the producer) run in a child process of their own
(:mod:`smartcity.bench.transport_devices`) driven over stdin, so the CPU time measured is theirs
alone; the gateway's (and Mosquitto's) is read from its process with psutil. Each way runs three
phases on one gateway: *throughput* (unpaced: messages / (last append in Kafka - first send)), then
*latency* at a moderate and at a low fixed rate (per message, the broker's append time - the device's
send time; the topics are created with ``message.timestamp.type=LogAppendTime``). Afterwards the
topics are read back and every message is matched by key and value bytes (which carry the device and
its ``device_seq``): missing ones, extra copies and strangers are counted
(:mod:`smartcity.bench.transport_topics`). Mosquitto and the gateway: :mod:`smartcity.bench.transport_gateway`.
"""

from __future__ import annotations

import itertools
import json
import pickle
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.transport_devices import SETTLE_S, device_command, device_records
from smartcity.bench.transport_gateway import (
    Gateway,
    Lines,
    cpu_seconds,
    gateway_endpoints,
    mosquitto,
    start_gateway,
    tail,
)
from smartcity.bench.transport_topics import PARTITIONS, Landed, create_topics, in_kafka, read_back
from smartcity.ingest.edge.devices import MqttLink
from smartcity.ingest.kafka.settings import KafkaSettings

WAYS = ("kafka", "zmq", "zenoh", "mqtt")
LABELS = {"kafka": "Kafka direct (producer)", "zmq": "ZeroMQ -> gateway -> Kafka",
          "zenoh": "Zenoh -> gateway -> Kafka", "mqtt": "MQTT (Mosquitto) -> gateway -> Kafka"}


# -- one way --------------------------------------------------------------------------------------


@dataclass
class Phase:
    rate: float | None
    answer: dict[str, Any] = field(default_factory=dict)
    gateway_cpu_s: float = 0.0
    broker_cpu_s: float = 0.0
    send_s: np.ndarray = field(default_factory=lambda: np.zeros(0))


def run_way(ctx: BenchContext, way: str, records: Path, sizes: list[int], rates: list[float | None],
            broker: tuple[psutil.Process, int] | None) -> tuple[KafkaSettings, list[str], list[Phase], str]:
    """Both phases of one way; its settings, topics, phases and (through a gateway) the gateway's summary."""
    settings = ctx.settings(partitions=PARTITIONS)
    topics = create_topics(settings)
    folder = ctx.scratch(f"transports-{way}")
    mqtt_port = broker[1] if broker is not None else 1883
    endpoints = gateway_endpoints()
    gateway: Gateway | None = None
    summary = ""
    from confluent_kafka import Consumer

    from smartcity.ingest.kafka.config import client_config

    watch = Consumer(client_config(settings, **{"group.id": f"{settings.topic_prefix}-watch"}))
    child: subprocess.Popen[str] | None = None
    phases = [Phase(rate) for rate in rates]
    try:
        if way != "kafka":
            gateway = start_gateway(way, settings, folder, mqtt_port, endpoints)
            gateway.wait_ready(way)
        args = dict(way=way, records=str(records), times_dir=str(folder), bootstrap=settings.bootstrap_servers,
                    topic_prefix=settings.topic_prefix, zmq_pull=endpoints["zmq_pull"],
                    zmq_acks=endpoints["zmq_acks"], zenoh=endpoints["zenoh"], mqtt_port=mqtt_port)
        cmd = device_command(**args)
        with (folder / "device.log").open("w") as err:
            child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
        assert child.stdin is not None and child.stdout is not None
        answers = Lines(child.stdout)
        what = f"{way} devices"
        try:
            answers.next(60, what)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {tail(folder / 'device.log')}") from None
        expected = 0
        for i, (phase, n) in enumerate(zip(phases, sizes, strict=True)):
            pace = f"at {phase.rate:,.0f} msgs/s" if phase.rate else "unpaced"
            ctx.log(f"transports: {LABELS[way]}: {n:,} messages {pace}")
            gw0, br0 = cpu_seconds(gateway.ps if gateway else None), cpu_seconds(broker[0] if broker else None)
            child.stdin.write(json.dumps({"phase": i, "rate": phase.rate}) + "\n")
            child.stdin.flush()
            try:
                phase.answer = answers.next(n / (phase.rate or 500) + 120, what)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}: {tail(folder / 'device.log')}") from None
            expected += n
            deadline = time.monotonic() + SETTLE_S
            while in_kafka(watch, topics) < expected and time.monotonic() < deadline:
                if gateway is not None and gateway.proc.poll() is not None:
                    break
                time.sleep(0.01)
            phase.gateway_cpu_s = cpu_seconds(gateway.ps if gateway else None) - gw0
            phase.broker_cpu_s = cpu_seconds(broker[0] if broker else None) - br0
            phase.send_s = np.fromfile(folder / f"phase{i}.bin", dtype=np.float64)
        child.stdin.write(json.dumps({"quit": True}) + "\n")
        child.stdin.flush()
        answers.next(30, what)
        child.wait(10)
    finally:
        watch.close()
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        if gateway is not None:
            summary = gateway.stop()
    return settings, topics, phases, summary


def _pct(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def _per_10k(cpu_s: float, n: int) -> float:
    return round(cpu_s / n * 10_000, 2) if n else 0.0


def _rate(rate: float | None) -> str:
    return f"{rate:,.0f}/s" if rate else "unpaced"


def way_row(way: str, landed: Landed, phases: list[Phase], sizes: list[int], with_broker: bool) -> dict[str, Any]:
    """One way's row: msgs/s and CPU of the unpaced phase, latency of the paced ones, what landed."""
    bounds = list(itertools.accumulate(sizes, initial=0))
    missing = int((landed.append_ms < 0).sum())
    fast_n = sizes[0]
    fast_ms = landed.append_ms[:fast_n]
    elapsed = fast_ms.max() / 1000 - phases[0].send_s[0] if (fast_ms >= 0).any() else None
    device_cpu = float(phases[0].answer["cpu_s"])
    row: dict[str, Any] = {"way": LABELS[way], "msgs/s": round(fast_n / elapsed) if elapsed else None}
    for (a, b), phase in itertools.islice(zip(itertools.pairwise(bounds), phases, strict=True), 1, None):
        append_ms = landed.append_ms[a:b]
        ok = append_ms >= 0
        latency = append_ms[ok] - phase.send_s[ok] * 1000
        row[f"p50 ms {_rate(phase.rate)}"] = _pct(latency, 50)
        row[f"p99 ms {_rate(phase.rate)}"] = _pct(latency, 99)
    row["CPU s/10k"] = _per_10k(device_cpu + phases[0].gateway_cpu_s, fast_n)
    row["device CPU s/10k"] = _per_10k(device_cpu, fast_n)
    row["gateway CPU s/10k"] = _per_10k(phases[0].gateway_cpu_s, fast_n) if way != "kafka" else ""
    paced_phase = phases[1]
    row[f"CPU s/10k {_rate(paced_phase.rate)}"] = _per_10k(
        float(paced_phase.answer["cpu_s"]) + paced_phase.gateway_cpu_s, sizes[1])
    if with_broker:
        row["Mosquitto CPU s/10k"] = _per_10k(phases[0].broker_cpu_s, fast_n)
    row.update({"missing": missing, "copies": landed.copies,
                "resent": sum(int(p.answer["resent"]) for p in phases)})
    if landed.strangers:
        row["strangers"] = landed.strangers
    return row


def run(ctx: BenchContext) -> Result:
    # (messages, rate): as fast as the way takes them, then a moderate and a low fixed rate
    plan: list[tuple[int, float | None]] = [(ctx.size(100_000, 3_000), None), (ctx.size(30_000, 1_000), 2_000.0),
                                            (ctx.size(3_000, 300), 200.0)]
    sizes, rates = [n for n, _ in plan], [r for _, r in plan]
    total = sum(sizes)
    ctx.log(f"transports: simulating {total:,} device messages")
    records = device_records(total)
    if len(records) < total:
        raise RuntimeError(f"the simulator gave {len(records):,} messages, {total:,} wanted")
    bounds = list(itertools.accumulate(sizes, initial=0))
    file = ctx.scratch("transports") / "records.pickle"
    file.write_bytes(pickle.dumps([records[a:b] for a, b in itertools.pairwise(bounds)]))
    index = {value: i for i, (_, _, value, _, _) in enumerate(records)}
    if len(index) != len(records):
        raise RuntimeError("two device messages have the same bytes: they could not be told apart in Kafka")
    keys = [key for _, key, _, _, _ in records]
    devices = len({(topic, key) for topic, key, _, _, _ in records})
    mean_size = round(sum(len(v) for _, _, v, _, _ in records) / len(records))
    ctx.broker()

    rows: list[dict[str, Any]] = []
    checks: list[str] = []
    with mosquitto(ctx.scratch("mosquitto")) as mq:
        for way in WAYS:
            label = LABELS[way]
            if way == "mqtt" and isinstance(mq, str):
                ctx.log(f"transports: {label}: skipped, {mq}")
                rows.append({"way": label, "note": f"not measured: {mq}"})
                continue
            broker = mq if way == "mqtt" and not isinstance(mq, str) else None
            settings, topics, phases, summary = run_way(ctx, way, file, sizes, rates, broker)
            landed = read_back(settings, topics, index, keys)
            row = way_row(way, landed, phases, sizes, with_broker=broker is not None)
            rows.append(row)
            missing = row["missing"]
            if not landed.log_append:
                checks.append(f"{label}: some timestamps were not the broker's append time")
            unacked = sum(int(p.answer.get("unacked", 0)) for p in phases)
            failed = sum(int(p.answer.get("failed", 0)) for p in phases)
            if missing or landed.strangers or unacked or failed:
                checks.append(f"{label}: {missing:,} missing, {landed.strangers:,} not matching anything sent, "
                              f"{unacked:,} unacknowledged, {failed:,} failed ({summary})")
            ctx.log(f"transports: {label}: {row['msgs/s'] or 0:,} msgs/s, p50 {row[f'p50 ms {_rate(rates[1])}']} ms "
                    f"at {_rate(rates[1])}, {missing:,} missing, {landed.copies:,} copies"
                    + (f"; {summary}" if summary else ""))

    measured = {r["way"]: r for r in rows if r.get("msgs/s")}
    direct = measured.get(LABELS["kafka"])
    p50 = f"p50 ms {_rate(rates[1])}"
    headline: dict[str, Any] = {}
    for way in WAYS[1:]:
        r = measured.get(LABELS[way])
        if r is not None and direct is not None:
            headline[f"direct/{way} msgs/s"] = round(direct["msgs/s"] / r["msgs/s"], 1)
            headline[f"{way}/direct CPU per msg"] = round(r["CPU s/10k"] / direct["CPU s/10k"], 1)
    for way in WAYS:
        r = measured.get(LABELS[way])
        if r is not None:
            headline[f"{'direct' if way == 'kafka' else way} {p50}"] = r[p50]
    headline["every message in Kafka once"] = "no" if checks else "yes"
    fast_n, slow = sizes[0], ", then ".join(f"{n:,} messages at {r:,.0f} msgs/s" for n, r in plan[1:] if r)
    notes = [
        f"{total:,} simulated device messages ({devices} devices: buses, air sensors, stations; Protobuf, "
        f"{mean_size} B on average, numbered per device with device_seq), the same bytes for every way. Topics of "
        f"{PARTITIONS} partitions on one broker, created with message.timestamp.type=LogAppendTime.",
        f"msgs/s and CPU: the first {fast_n:,} messages sent as fast as the way takes them; msgs/s = messages / "
        f"(last broker append time - first send). Latency: the next {slow}, paced; per message, broker "
        "append time - device send time (one clock, ms resolution). Each way's devices (or producer) connect "
        "before the clock starts (the idempotent producer's ~0.5 s to get its producer id is left out).",
        "CPU: user + system seconds of the device process (all its threads; for Kafka direct, the producer's) and "
        "of the `smartcity edge` process, per 10,000 messages; also at the paced rate. Mosquitto's own CPU is shown "
        "apart, not added. The devices are smartcity's ReliableSender, which decodes each message to learn its "
        "device_seq and keeps it until acknowledged.",
        "Kafka direct: produce_records (idempotent, acks=all, zstd, linger.ms=20). Gateways: `smartcity edge "
        "--zmq|--zenoh|--mqtt` as a process of its own with default settings: batches of up to 2,000 messages, "
        "closed 2 ms after their first, fsynced into the spool before the devices are acknowledged, forwarded in "
        "batches of up to 5,000 that wait for Kafka's acknowledgement before the spool cursor is committed "
        "(another fsync).",
        "MQTT: QoS 1 through a Mosquitto on loopback (max_queued_messages 0, other settings default: at most 20 "
        "messages in flight to the gateway, which acknowledges each only once it is spooled). The devices' "
        "acknowledgement is Mosquitto's PUBACK; what Mosquitto did not acknowledge paho sends again when it "
        "reconnects on its session (ReliableSender never resends over MQTT), and the devices keep at most "
        f"{MqttLink.max_unacked:,} unacknowledged (MqttLink.max_unacked: paho numbers messages 1..65,535 and would "
        "reuse a number still waiting in its queue).",
        "Every message is read back from Kafka and matched by key and value bytes: missing must be 0; copies are "
        "extra copies of a message (allowed through a gateway, counted); resent: messages the devices sent again "
        "because no acknowledgement came within 5 s (ZeroMQ and Zenoh; paho's own retransmissions over MQTT are not "
        "counted).",
        *checks,
    ]
    if direct is None:
        notes.append("Kafka direct was not measured, so no ratios.")
    return Result("transports", "Devices into Kafka: direct vs ZeroMQ, Zenoh and MQTT through the edge gateway",
                  rows, headline, Chart(x="way", y="msgs/s", ylabel="messages per second into Kafka (unpaced)",
                                        log=True), notes=notes)

