"""Steps the experiments share: a fresh topic filled with bus telemetry, the sink landing it, the lake's size."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartcity.bench.core import BenchContext
from smartcity.bench.workload import fill_topic
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.producer import produce_records
from smartcity.ingest.sink.daemon import Sink, SinkStats
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.proto.codec import Encoding
from smartcity.storage.layout import RAW
from smartcity.storage.settings import LakeFormat, LakeSettings

LAND_BATCH_ROWS = 200_000  # the sink experiment's batch size: the figures of different experiments compare


@dataclass(frozen=True)
class Backlog:
    """A topic holding ``messages`` bus telemetry records, and how fast they were produced."""

    settings: KafkaSettings
    topic: str
    messages: int
    produce_rate: float


def backlog(ctx: BenchContext, n: int, encoding: Encoding = "protobuf", partitions: int = 4,
            replication: int = 1, bootstrap: str | None = None, distinct: bool = False) -> Backlog:
    """A fresh ``bus`` topic with ``n`` simulated bus telemetry records (acks=all, idempotent): the
    workload's 50,000 records replayed, or with ``distinct`` ``n`` different ones (days of the simulated
    city, for sizes on disk that replays would flatter)."""
    settings = ctx.settings(bootstrap, partitions=partitions, replication=replication)
    topic = settings.topic("bus")
    create_topics(settings, [topic])
    if not distinct:
        return Backlog(settings, topic, n, fill_topic(settings, topic, n, encoding))
    from smartcity.simulator import default_city, simulate, to_records

    start = datetime(2026, 3, 10, 5, tzinfo=UTC)
    events = simulate(default_city(), start, timedelta(days=30), seed=3, domains=("bus",))
    records = list(itertools.islice(to_records(events, encoding, topics={"bus": topic}), n))
    stats = produce_records(settings, records)
    return Backlog(settings, topic, stats.delivered, stats.rate)


def land(settings: KafkaSettings, lake: Path, group: str, fmt: LakeFormat = "parquet",
         batch_rows: int = LAND_BATCH_ROWS) -> SinkStats:
    """The sink (one group member, this process) landing the ``bus`` topic until caught up."""
    # landing as live data: the simulated day lies in the past, which would make the sink merge its hours
    # as a backfill's
    ingest = IngestSettings(topics=["bus"], group=group, batch_max_rows=batch_rows, compact_closed_hours_at=0)
    return Sink(settings, LakeSettings(path=lake, format=fmt), ingest, until_caught_up=True).run()


def rate(stats: SinkStats) -> float:
    """Messages per second from the first consumed message to the last commit."""
    return stats.consumed / stats.active_seconds if stats.active_seconds else 0.0


def lake_rows(lake: Path) -> int:
    """Rows of the raw Parquet files in a lake."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in (lake / RAW).rglob("*.parquet"))


def raw_bytes(lake: Path) -> int:
    """Bytes of the raw data files in a lake (staging and state left out)."""
    return sum(f.stat().st_size for f in (lake / RAW).rglob("*") if f.is_file())
