"""``sink``: smartcity ingest landing bus telemetry in Parquet against a bare confluent-kafka read of
the same topic on the same broker, Protobuf and JSON, with Quix Streams on the JSON topic; and peak
memory with a large backlog."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from confluent_kafka import Consumer

from smartcity.bench.children import ChildRun, child_command, run_child
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.workload import fill_topic
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings

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


def backlog_rss(settings: KafkaSettings, lake: Path, group: str) -> tuple[float, float, int]:
    """Run `smartcity ingest --until-caught-up` over the backlog in a child; its peak RSS (MB), msgs/s."""
    cmd = [sys.executable, "-m", "smartcity.cli.main", "ingest",
           "--bootstrap-servers", settings.bootstrap_servers or "",
           "--lake", str(lake), "--group", group, "--topics", "bus", "--until-caught-up"]
    import os

    # landing as live data (as the other rows): its simulated day lies in the past, and the backlog replays the
    # same hours again and again, which the backfill merger would merge again and again
    env = {**os.environ, "SMARTCITY_KAFKA_TOPIC_PREFIX": settings.topic_prefix,
           "SMARTCITY_INGEST_COMPACT_CLOSED_HOURS_AT": "0"}
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


SINK_BATCH_ROWS = 200_000


def _rate(child: ChildRun) -> float:
    return float(child.answer["consumed"]) / float(child.answer["active_seconds"])


def _quix(ctx: BenchContext, settings: KafkaSettings, topic: str, n: int) -> tuple[str, ChildRun]:
    """Quix Streams landing the same JSON topic into Parquet, as in ``bench peers``."""
    from smartcity.bench.peers import quix_landing, quix_python

    python, version, _shared = quix_python(ctx)
    quix, rows, _files = quix_landing(ctx, python, settings, topic, n)
    if rows != n:
        raise RuntimeError(f"Quix Streams landed {rows:,} rows of {n:,}")
    return version, quix


def run(ctx: BenchContext) -> Result:
    n = ctx.size(2_000_000, 100_000)
    rows: list[dict[str, object]] = []
    headline: dict[str, object] = {}
    for encoding in ("protobuf", "json"):
        settings = ctx.settings(partitions=4)
        topic = settings.topic("bus")
        bootstrap, prefix = settings.bootstrap_servers or "", settings.topic_prefix
        create_topics(settings, [topic])
        ctx.log(f"sink/{encoding}: producing {n:,} bus telemetry records")
        fill_topic(settings, topic, n, encoding)
        ctx.log(f"sink/{encoding}: bare reads, then the sink, each in a process of its own")
        bare = _rate(run_child(child_command("bare", bootstrap=bootstrap, topic=topic, group=f"{prefix}-bare", n=n)))
        tuned = _rate(run_child(child_command("bare", bootstrap=bootstrap, topic=topic, group=f"{prefix}-bare-gc",
                                              n=n, fewer_gc=True)))
        lake = ctx.scratch(f"lake-{encoding}")
        sink = run_child(child_command("sink", bootstrap=bootstrap, prefix=prefix, group=f"{prefix}-sink",
                                       lake=str(lake), batch_rows=SINK_BATCH_ROWS))
        if sink.answer["rows"] != n:
            raise RuntimeError(f"the sink landed {sink.answer['rows']:,} rows of {n:,}")
        landed = _rate(sink)
        rows += [
            {"encoding": encoding, "path": "bare confluent-kafka read", "msgs/s": bare, "of bare": 1.0},
            {"encoding": encoding, "path": "bare read, fewer GC collections", "msgs/s": tuned,
             "of bare": round(tuned / bare, 2)},
            {"encoding": encoding, "path": "smartcity ingest -> Parquet", "msgs/s": landed,
             "of bare": round(landed / bare, 2), "files": sink.answer["files"],
             "peak RSS MB": round(sink.peak_rss_mb)},
        ]
        headline[f"{encoding} sink/bare"] = round(landed / bare, 2)
        headline[f"{encoding} sink/bare with fewer GC"] = round(landed / tuned, 2)
        headline[f"{encoding} sink msgs/s"] = round(landed)
        if encoding == "json":
            ctx.log("sink/json: Quix Streams on the same topic")
            version, quix = _quix(ctx, settings, topic, n)
            rows.append({"encoding": encoding, "path": f"Quix Streams {version} -> Parquet", "msgs/s": _rate(quix),
                         "of bare": round(_rate(quix) / bare, 2), "peak RSS MB": round(quix.peak_rss_mb)})
            headline["json Quix/bare"] = round(_rate(quix) / bare, 2)
    backlog = ctx.size(10_000_000, 300_000)
    settings = ctx.settings(partitions=4)
    create_topics(settings, [settings.topic("bus")])
    ctx.log(f"sink/backlog: producing {backlog:,} records")
    fill_topic(settings, settings.topic("bus"), backlog)
    peak, rate, consumed = backlog_rss(settings, ctx.scratch("lake-backlog"), f"{settings.topic_prefix}-backlog")
    rows.append({"encoding": "protobuf", "path": f"ingest over a {backlog:,}-message backlog", "msgs/s": rate,
                 "peak RSS MB": round(peak)})
    headline["peak RSS MB (backlog)"] = round(peak)
    return Result("sink", "Sink throughput vs a bare Kafka read", rows, headline,
                  Chart(x="path", y="msgs/s", series="encoding", ylabel="messages per second"),
                  notes=[f"{n:,} simulated bus telemetry records per encoding on 4 partitions. Every reader runs in "
                         "a fresh process of its own, one after the other, on the same topic: the bare reads and "
                         "the sink from this package, Quix Streams (JSON only, as in `bench peers`) from its own "
                         "interpreter.",
                         "Bare read: a loop that only consumes batches of 10,000 and touches each value, with "
                         "queued.min.messages=1e6, fetch.min.bytes=1e6, fetch.wait.max.ms=10. 'fewer GC "
                         "collections': the same loop under the sink's garbage-collector setting "
                         "(`smartcity.core.gc_pause`): start-up objects frozen, young collections every 50,000 "
                         "allocations instead of 700.",
                         f"Sink: `smartcity ingest` with batches of {SINK_BATCH_ROWS:,} rows per partition, Parquet "
                         "zstd, two writer threads (the default); its rate runs from the first consumed message "
                         "to the last commit (group join excluded), as does Quix Streams' (to the end of its "
                         "run); 'of bare' divides by the bare read's rate of the same encoding.",
                         f"Backlog: {consumed:,} messages landed by one `smartcity ingest --until-caught-up` "
                         "process with its default settings (batches of 25,000 rows) but the backfill merger off "
                         "(the replayed workload fills the same past hours again and again); its rate includes "
                         "process start-up and group join; peak RSS sampled every 100 ms."])
