"""Simulated events straight into the lake through the storage writers (no Kafka): the demo's path.

Rows get the same columns as landed Kafka messages; the lineage says where they came from:
``_topic`` is ``simulator.<dataset>``, ``_partition`` 0 and ``_offset`` a sequence number that
starts at the run's start time in seconds x 10^6, so different runs never share file names and a
repeated run replaces its own files instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.sink.landing import lake_rows, process_batch, split_by_hour
from smartcity.simulator.events import SimEvent
from smartcity.storage.commit import Committer
from smartcity.storage.datasets import BY_KIND, Dataset
from smartcity.storage.formats import get_format
from smartcity.storage.settings import LakeSettings


@dataclass
class LakeWriteStats:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    dead: int = 0


def sim_topic(dataset: Dataset) -> str:
    return f"simulator.{dataset.name}"


def offset_base(start_ms: int) -> int:
    return (start_ms // 1000) * 1_000_000


@dataclass
class LakeWriter:
    lake: LakeSettings
    start_ms: int
    batch_rows: int = 200_000
    ingested_at_ms: int | None = None  # fixed lineage time (reproducible files); None = now
    stats: LakeWriteStats = field(default_factory=LakeWriteStats)

    def __post_init__(self) -> None:
        self.committer = Committer(self.lake.root, get_format(self.lake.format, self.lake.compression))
        self._pending: dict[str, list[bytes]] = {}
        self._next: dict[str, int] = {}
        self._decoders: dict[str, BatchDecoder] = {}

    def add(self, event: SimEvent) -> None:
        batch = self._pending.setdefault(event.domain, [])
        batch.append(event.message.SerializeToString())
        if len(batch) >= self.batch_rows:
            self.flush(event.domain)

    def flush(self, domain: str | None = None) -> None:
        for d in [domain] if domain else list(self._pending):
            values = self._pending.pop(d, [])
            if not values:
                continue
            dataset = BY_KIND[d]
            first = self._next.get(d, offset_base(self.start_ms))
            offsets = np.arange(first, first + len(values), dtype=np.int64)
            self._next[d] = first + len(values)
            decoder = self._decoders.setdefault(d, BatchDecoder(dataset))
            result = process_batch(dataset, decoder, self.committer, sim_topic(dataset), 0, values, offsets,
                                   now_ms=self.ingested_at_ms, fence=False)
            self.stats.rows[dataset.name] = self.stats.rows.get(dataset.name, 0) + result.rows
            self.stats.files += len(result.landed)
            self.stats.dead += len(result.dead)


def events_to_lake(events: Iterable[SimEvent], lake: LakeSettings, start_ms: int,
                   on_event: Callable[[SimEvent], None] | None = None, batch_rows: int = 200_000,
                   ingested_at_ms: int | None = None) -> LakeWriteStats:
    writer = LakeWriter(lake, start_ms, batch_rows, ingested_at_ms)
    for event in events:
        writer.add(event)
        if on_event is not None:
            on_event(event)
    writer.flush()
    return writer.stats


def frame_to_lake(frame: pl.DataFrame, dataset: Dataset, lake: LakeSettings, start_ms: int,
                  ingested_at_ms: int) -> LakeWriteStats:
    """Land a whole frame of message columns (e.g. ``air_history``) as one batch per hour; a message
    column the frame lacks (an optional field such as ``device_seq``) lands as nulls."""
    stats = LakeWriteStats()
    committer = Committer(lake.root, get_format(lake.format, lake.compression))
    schema = dataset.message_schema
    missing = [pl.lit(None).alias(name) for name in schema.names if name not in frame.columns]
    table = frame.with_columns(missing).select(schema.names).to_arrow().cast(schema)
    base = offset_base(start_ms)
    offsets = np.arange(base, base + table.num_rows, dtype=np.int64)
    rows = lake_rows(dataset, table, sim_topic(dataset), 0, offsets, ingested_at_ms)
    parts = split_by_hour(dataset, rows)
    if parts:
        landed = committer.land(sim_topic(dataset), 0, int(offsets[0]), int(offsets[-1]), parts, fence=False)
        stats.files += len(landed)
    stats.rows[dataset.name] = rows.num_rows
    return stats
