"""``sink``: smartcity ingest landing bus telemetry in Parquet against a bare confluent-kafka read of
the same topic on the same broker, Protobuf and JSON; and peak memory with a large backlog."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from confluent_kafka import Consumer

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.workload import fill_topic
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.daemon import Sink
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.storage.settings import LakeFormat, LakeSettings

BEST_READ = {"queued.min.messages": 1_000_000, "fetch.min.bytes": 1_000_000, "fetch.wait.max.ms": 10}


def bare_read(settings: KafkaSettings, topic: str, n: int, group: str) -> float:
    """A loop that only consumes and touches each value, with the fastest fetch settings; msgs/s."""
    consumer = Consumer(consumer_config(settings, group, **BEST_READ))
    consumer.subscribe([topic])
    seen, began = 0, None
    try:
        while seen < n:
            msgs = consumer.consume(10_000, timeout=1.0)
            if msgs and began is None:
                began = time.perf_counter()
            for m in msgs:
                m.value()
            seen += len(msgs)
    finally:
        consumer.close()
    return n / (time.perf_counter() - (began or time.perf_counter()))


def sink_run(settings: KafkaSettings, lake: Path, group: str, fmt: LakeFormat = "parquet",
             batch_rows: int = 200_000) -> tuple[float, int]:
    # landing as live data: the simulated day lies in the past, which would make the sink merge its hours
    # as a backfill's
    ingest = IngestSettings(topics=["bus"], group=group, batch_max_rows=batch_rows, compact_closed_hours_at=0)
    stats = Sink(settings, LakeSettings(path=lake, format=fmt), ingest, until_caught_up=True).run()
    return stats.consumed / stats.active_seconds, stats.files


def backlog_rss(settings: KafkaSettings, lake: Path, group: str) -> tuple[float, float, int]:
    """Run `smartcity ingest --until-caught-up` over the backlog in a child; its peak RSS (MB), msgs/s."""
    cmd = [sys.executable, "-m", "smartcity.cli.main", "ingest",
           "--bootstrap-servers", settings.bootstrap_servers or "",
           "--lake", str(lake), "--group", group, "--topics", "bus", "--until-caught-up"]
    import os

    env = {**os.environ, "SMARTCITY_KAFKA_TOPIC_PREFIX": settings.topic_prefix}
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = [0.0]

    def watch() -> None:
        p = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], p.memory_info().rss / 2**20)
            except psutil.Error:
                break
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    watcher.join()
    if proc.returncode != 0:
        raise RuntimeError(f"ingest over the backlog failed with exit code {proc.returncode}")
    rows = [ln for ln in out.splitlines() if "│" in ln]
    consumed = int(rows[-1].split("│")[1].strip().replace(",", "")) if rows else 0
    return peak[0], consumed / (time.perf_counter() - began), consumed


def run(ctx: BenchContext) -> Result:
    n = ctx.size(2_000_000, 100_000)
    rows: list[dict[str, object]] = []
    headline: dict[str, object] = {}
    for encoding in ("protobuf", "json"):
        settings = ctx.settings(partitions=4)
        topic = settings.topic("bus")
        create_topics(settings, [topic])
        ctx.log(f"sink/{encoding}: producing {n:,} bus telemetry records")
        fill_topic(settings, topic, n, encoding)
        bare = bare_read(settings, topic, n, f"{settings.topic_prefix}-bare")
        ctx.log(f"sink/{encoding}: bare read {bare:,.0f} msgs/s; landing")
        landed, files = sink_run(settings, ctx.scratch(f"lake-{encoding}"), f"{settings.topic_prefix}-sink")
        rows.append({"encoding": encoding, "path": "bare confluent-kafka read", "msgs/s": bare, "files": ""})
        rows.append({"encoding": encoding, "path": "smartcity ingest -> Parquet", "msgs/s": landed,
                     "files": files})
        headline[f"{encoding} sink/bare"] = round(landed / bare, 2)
        headline[f"{encoding} sink msgs/s"] = round(landed)
    backlog = ctx.size(10_000_000, 300_000)
    settings = ctx.settings(partitions=4)
    create_topics(settings, [settings.topic("bus")])
    ctx.log(f"sink/backlog: producing {backlog:,} records")
    fill_topic(settings, settings.topic("bus"), backlog)
    peak, rate, consumed = backlog_rss(settings, ctx.scratch("lake-backlog"), f"{settings.topic_prefix}-backlog")
    rows.append({"encoding": "protobuf", "path": f"ingest over a {backlog:,}-message backlog", "msgs/s": rate,
                 "files": "", "peak RSS MB": round(peak)})
    headline["peak RSS MB (backlog)"] = round(peak)
    return Result("sink", "Sink throughput vs a bare Kafka read", rows, headline,
                  Chart(x="path", y="msgs/s", series="encoding", ylabel="messages per second"),
                  notes=[f"{n:,} simulated bus telemetry records per encoding on 4 partitions; the bare read uses "
                         "queued.min.messages=1e6, fetch.min.bytes=1e6, fetch.wait.max.ms=10.",
                         "Sink rate is measured from its first consumed message to the last commit (group join "
                         "excluded); the backlog row includes process start-up and group join.",
                         f"Backlog: {consumed:,} messages landed by one `smartcity ingest --until-caught-up` "
                         "process; peak RSS sampled every 100 ms."])
