"""``batching``: the sink persisting every 3, 100 and 10,000 messages (``batch_max_rows``): throughput and the
files it leaves in the lake. The original design persisted every 3 or every 100 messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.steps import backlog, land, rate
from smartcity.storage.compact import compact
from smartcity.storage.file_density import file_density


def run(ctx: BenchContext) -> Result:
    # small batches are slow (each one is a file, an fsync and an offset record): bound each case by messages
    cases = [(3, ctx.size(3_000, 150)), (100, ctx.size(100_000, 3_000)), (10_000, ctx.size(1_000_000, 30_000))]
    rows: list[dict[str, object]] = []
    speed: dict[int, float] = {}
    for batch_rows, n in cases:
        ctx.log(f"batching: {n:,} messages, persisted every {batch_rows:,}")
        topic = backlog(ctx, n)
        lake = ctx.scratch(f"lake-{batch_rows}")
        stats = land(topic.settings, lake, f"{topic.settings.topic_prefix}-sink", batch_rows=batch_rows)
        speed[batch_rows] = rate(stats)
        (landed,) = file_density(lake, ["bus_telemetry"])
        compact(lake, ["bus_telemetry"], now=datetime.now(UTC) + timedelta(days=1))  # every hour closed
        (merged,) = file_density(lake, ["bus_telemetry"])
        rows.append({"batch rows": f"{batch_rows:,}", "messages": stats.consumed, "batches": stats.batches,
                     "files": stats.files, "files per 1k msgs": round(1000 * stats.files / max(stats.consumed, 1), 1),
                     "files per partition-hour": round(landed.per_partition_hour, 1),
                     "after compaction": round(merged.per_partition_hour, 1),
                     "ms per batch": round(1000 * stats.active_seconds / max(stats.batches, 1), 1),
                     "msgs/s": speed[batch_rows]})
    headline = {"every 10k / every 3 msgs/s": round(speed[10_000] / speed[3]),
                "every 100 / every 3 msgs/s": round(speed[100] / speed[3], 1),
                "msgs/s every 3": round(speed[3]), "msgs/s every 10k": round(speed[10_000])}
    return Result("batching", "Persisting every 3, 100 or 10,000 messages", rows, headline,
                  Chart(x="batch rows", y="msgs/s", ylabel="messages per second (log)", log=True),
                  notes=["Protobuf bus telemetry on 4 partitions; `batch_max_rows` is per partition. Every batch is "
                         "landed atomically (files written, fsynced, renamed, the offset recorded) and then its "
                         "offset committed to Kafka, so the cost per batch bounds small batches.",
                         "A batch whose messages span two event-time hours lands as two files. Files per "
                         "partition-hour: landed files per Kafka partition and event-time hour, as landed (live "
                         "landing: the sink's merging of a backfill's closed hours is off) and after `smartcity "
                         "compact` merged every hour (the maintenance flow's job for closed hours).",
                         "Each case lands a different number of messages (the 3-message case is bounded by its "
                         "time); rates are from the first consumed message to the last commit."])
