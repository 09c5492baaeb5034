"""One batch of one topic-partition: decode, validate, split by event-time hour, land."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa

from smartcity.ingest.decode.rows import Decoded
from smartcity.ingest.decode.validate import validate
from smartcity.proto.codec import Encoding, Headers
from smartcity.storage.commit import Committer, LandedFile, Part
from smartcity.storage.datasets import TIMESTAMP, Dataset
from smartcity.storage.layout import HOUR_MS, bucket_of_hour_index


@dataclass(frozen=True)
class DeadLetter:
    index: int          # position of the message in the batch
    stage: str          # "decode" or "validate"
    reason: str


@dataclass
class BatchResult:
    landed: list[LandedFile] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    rows: int = 0
    seconds: float = 0.0


class RowsDecoder(Protocol):
    """Turns message values into rows (:class:`BatchDecoder`, the GTFS-Realtime decoder)."""

    def decode(self, values: Sequence[bytes | None], encodings: Sequence[Encoding] | None = None,
               headers_of: Callable[[int], Headers] | None = None) -> Decoded: ...


def lake_rows(dataset: Dataset, decoded_table: pa.Table, topic: str, partition: int,
              offsets: np.ndarray, ingested_at_ms: int) -> pa.Table:
    """Message columns plus ``event_time`` and the lineage columns."""
    n = decoded_table.num_rows
    event_time = decoded_table.column("event_time_ms").cast(pa.int64()).cast(TIMESTAMP)
    extra = [
        event_time,
        pa.repeat(pa.scalar(topic, pa.string()), n),
        pa.repeat(pa.scalar(partition, pa.int32()), n),
        pa.array(offsets.astype(np.int64)),
        pa.repeat(pa.scalar(ingested_at_ms, TIMESTAMP), n),
    ]
    return pa.Table.from_arrays([*decoded_table.columns, *extra], schema=dataset.schema)


def split_by_hour(dataset: Dataset, rows: pa.Table) -> list[Part]:
    """One part per event-time hour; rows keep their offset order."""
    if rows.num_rows == 0:
        return []
    hours = rows.column("event_time_ms").to_numpy() // HOUR_MS
    offsets = rows.column("_offset").to_numpy()
    unique = np.unique(hours)
    parts = []
    for h in unique:
        if len(unique) == 1:
            sub, sub_offsets = rows, offsets
        else:
            mask = hours == h
            sub, sub_offsets = rows.filter(pa.array(mask)), offsets[mask]
        date, hour = bucket_of_hour_index(int(h))
        parts.append(Part(dataset.name, date, hour, sub, int(sub_offsets.min()), int(sub_offsets.max())))
    return parts


def _one_per_message(dead: list[DeadLetter]) -> list[DeadLetter]:
    """A message whose several rows failed (a GTFS-Realtime feed) is dead-lettered once, with every reason."""
    by_index: dict[int, DeadLetter] = {}
    for d in dead:
        prior = by_index.get(d.index)
        by_index[d.index] = d if prior is None else DeadLetter(d.index, prior.stage, f"{prior.reason}; {d.reason}")
    return [by_index[i] for i in sorted(by_index)]


def process_batch(dataset: Dataset, decoder: RowsDecoder, committer: Committer, topic: str,
                  partition: int, values: Sequence[bytes | None], offsets: np.ndarray,
                  encodings: Sequence[Encoding] | None = None, now_ms: int | None = None,
                  headers_of: Callable[[int], Headers] | None = None,
                  before_landing: Callable[[list[DeadLetter]], None] | None = None,
                  fence: bool = True) -> BatchResult:
    """Decode and validate ``values`` (offsets ``offsets``) and land the good rows; returns the dead letters.

    The batch's offset range is ``offsets[0]..offsets[-1]``; it is recorded as landed even when every
    message in it was dead-lettered, so the consumer moves past it. ``before_landing`` gets the dead
    letters before the lake's offset moves: the sink delivers them there, so none is lost if it stops
    in between.
    """
    began = time.perf_counter()
    now = int(time.time() * 1000) if now_ms is None else now_ms
    decoded = decoder.decode(values, encodings, headers_of)
    dead = [DeadLetter(i, "decode", reason) for i, reason in sorted(decoded.errors.items())]
    table, index = decoded.table, decoded.index
    check = validate(dataset.name, table, now)
    if check.reasons:
        dead += [DeadLetter(int(index[r]), "validate", reason) for r, reason in check.reasons.items()]
        keep = check.valid
        table, index = table.filter(pa.array(keep)), index[keep]
    dead = _one_per_message(dead)
    rows = lake_rows(dataset, table, topic, partition, offsets[index], now)
    parts = split_by_hour(dataset, rows)
    if before_landing is not None and dead:
        before_landing(dead)
    landed = committer.land(topic, partition, int(offsets[0]), int(offsets[-1]), parts, fence=fence)
    return BatchResult(landed, dead, rows.num_rows, time.perf_counter() - began)
