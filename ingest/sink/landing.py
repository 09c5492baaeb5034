"""One batch of one topic-partition: decode, validate, drop replays, split by event-time hour, land.

:class:`LandingRules` carries what the sink's settings decide (``IngestSettings.landing_rules()``): the
accepted event-time range, and which end of its averaging interval an air reading's event time marks.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smartcity.ingest.decode.rows import Decoded
from smartcity.ingest.decode.validate import EARLIEST_EVENT_TIME_MS, MAX_FUTURE_MS, validate
from smartcity.ingest.sink.replays import find_replays
from smartcity.ingest.sink.settings import AirTimeMarks
from smartcity.proto.codec import Encoding, Headers
from smartcity.storage.commit import Committer, LandedFile, Part
from smartcity.storage.datasets import AVERAGING_HOUR, QUALITY_FLAGS, TIMESTAMP, Dataset
from smartcity.storage.device_marks import DEVICE_SEQ
from smartcity.storage.layout import HOUR_MS, bucket_of_hour_index


@dataclass(frozen=True)
class LandingRules:
    """How the sink lands: messages with an event time before ``earliest_event_time_ms`` or more than
    ``max_future_ms`` ahead of its clock are dead-lettered; ``air_time_marks`` says whether an air
    reading's event time marks the ``start`` or the ``end`` of its averaging interval (with ``end`` a
    reading stamped 10:00 counts towards hour 09). The defaults are those of ``[ingest]``."""

    earliest_event_time_ms: int = EARLIEST_EVENT_TIME_MS
    max_future_ms: int = MAX_FUTURE_MS
    air_time_marks: AirTimeMarks = "start"


DEFAULT_RULES = LandingRules()


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
    flagged: int = 0  # landed rows with values nulled by validation (see their ``quality_flags``)
    replays: int = 0  # valid messages dropped because their device_seq was already landed (not landed, not dead)


class RowsDecoder(Protocol):
    """Turns message values into rows (:class:`BatchDecoder`, the GTFS-Realtime decoder)."""

    def decode(self, values: Sequence[bytes | None], encodings: Sequence[Encoding] | None = None,
               headers_of: Callable[[int], Headers] | None = None) -> Decoded: ...


def averaging_hour(event_time_ms: np.ndarray, time_marks: AirTimeMarks) -> pa.Array:
    """Start of the UTC hour each reading's averaging interval belongs to: the hour of its event time when
    that marks the interval's start, of the event time - 1 ms when it marks the end (10:00 -> 09:00)."""
    t = event_time_ms.astype(np.int64) - (1 if time_marks == "end" else 0)
    return pa.array((t // HOUR_MS) * HOUR_MS, pa.int64()).cast(TIMESTAMP)


def lake_rows(dataset: Dataset, decoded_table: pa.Table, topic: str, partition: int,
              offsets: np.ndarray, ingested_at_ms: int, *, quality_flags: pa.Array | None = None,
              time_marks: AirTimeMarks = "start") -> pa.Table:
    """Message columns, the dataset's derived columns, ``event_time`` and the lineage columns.

    ``quality_flags`` (one per row; default all null) says which values validation nulled;
    ``time_marks`` which end of the averaging interval ``event_time`` marks (for ``averaging_hour``).
    """
    n = decoded_table.num_rows
    times = decoded_table.column("event_time_ms").cast(pa.int64())
    derived = []
    for f in dataset.derived:
        if f.name == QUALITY_FLAGS.name:
            derived.append(pa.nulls(n, f.type) if quality_flags is None else quality_flags)
        elif f.name == AVERAGING_HOUR.name:
            derived.append(averaging_hour(times.to_numpy(), time_marks))
        else:
            raise ValueError(f"{dataset.name}: no rule derives the column {f.name!r}")
    if quality_flags is not None and QUALITY_FLAGS.name not in {f.name for f in dataset.derived}:
        raise ValueError(f"{dataset.name} has no {QUALITY_FLAGS.name} column for the flags of nulled values")
    extra = [
        times.cast(TIMESTAMP),
        pa.repeat(pa.scalar(topic, pa.string()), n),
        pa.repeat(pa.scalar(partition, pa.int32()), n),
        pa.array(offsets.astype(np.int64)),
        pa.repeat(pa.scalar(ingested_at_ms, TIMESTAMP), n),
    ]
    return pa.Table.from_arrays([*decoded_table.columns, *derived, *extra], schema=dataset.schema)


def split_by_hour(dataset: Dataset, rows: pa.Table) -> list[Part]:
    """One part per hour of the dataset's partition column (``event_time``; ``averaging_hour`` for air
    readings); rows keep their offset order."""
    if rows.num_rows == 0:
        return []
    when = rows.column(dataset.partition_by)
    if when.null_count:
        when = pc.coalesce(when, rows.column("event_time"))
    hours = when.cast(pa.int64()).to_numpy() // HOUR_MS
    offsets = rows.column("_offset").to_numpy()
    if hours.min() != hours.max():  # one reordering (a stable sort: offset order within each hour), then slices
        order = np.argsort(hours, kind="stable")
        rows, hours, offsets = rows.take(pa.array(order)), hours[order], offsets[order]
    bounds = [0, *(np.flatnonzero(hours[1:] != hours[:-1]) + 1).tolist(), len(hours)]
    parts = []
    for a, b in itertools.pairwise(bounds):
        date, hour = bucket_of_hour_index(int(hours[a]))
        run = offsets[a:b]
        parts.append(Part(dataset.name, date, hour, rows.slice(a, b - a), int(run.min()), int(run.max())))
    return parts


@dataclass(frozen=True)
class _Numbered:
    """The rows of a batch that are not replays, and what landing them records (see :func:`_drop_replays`)."""

    rows: pa.Table
    marks: dict[str, Any] | None = None   # the batch's device marks (None: nothing numbered, nothing to record)
    marks_base: int | None = None         # the landed offset the partition's marks were read at
    dropped: int = 0


def _drop_replays(dataset: Dataset, rows: pa.Table, committer: Committer, topic: str, partition: int) -> _Numbered:
    """Drop the rows whose ``device_seq`` is at or below their device's mark (``smartcity.ingest.sink.replays``).

    The partition's marks are read here, before the lock; landing is fenced unless the lake's landed offset
    is still the one they were read at, so a batch that lands was filtered against the marks of its commit
    point. A batch without any ``device_seq`` costs one look at the column's null count."""
    if DEVICE_SEQ not in rows.column_names or rows.column(DEVICE_SEQ).null_count == rows.num_rows:
        return _Numbered(rows)
    landed = committer.landed_marks(topic, partition)
    found = find_replays(rows.column(dataset.key_field), rows.column(DEVICE_SEQ), landed.marks)
    kept = rows.filter(pa.array(found.keep)) if found.dropped else rows
    return _Numbered(kept, found.marks, landed.landed, found.dropped)


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
                  fence: bool = True, topic_id: str | None = None, rules: LandingRules = DEFAULT_RULES) -> BatchResult:
    """Decode and validate ``values`` (offsets ``offsets``) and land the good rows; returns the dead letters.

    A message that fails a message rule (no device id, an event time outside ``rules``' range, ...) is
    dead-lettered; a value that fails a value rule (a negative pollutant, ...) is nulled and its row lands
    with the reason in ``quality_flags``. The batch's offset range is ``offsets[0]..offsets[-1]``; it is
    recorded as landed even when every message in it was dead-lettered, so the consumer moves past it.
    With ``fence`` (a Kafka consumer), a valid message whose ``device_seq`` is not above the highest landed
    for its device (the key field) is a replay: it is dropped (counted in ``replays``, not dead-lettered),
    and the batch's highest ``device_seq`` per device is recorded with its offset range.
    ``before_landing`` gets the dead letters before the lake's offset moves: the sink delivers them
    there, so none is lost if it stops in between.
    """
    began = time.perf_counter()
    now = int(time.time() * 1000) if now_ms is None else now_ms
    decoded = decoder.decode(values, encodings, headers_of)
    dead = [DeadLetter(i, "decode", reason) for i, reason in sorted(decoded.errors.items())]
    table, index = decoded.table, decoded.index
    check = validate(dataset.name, table, now, earliest_ms=rules.earliest_event_time_ms,
                     max_future_ms=rules.max_future_ms)
    table = check.repaired(table)
    if check.reasons:
        dead += [DeadLetter(int(index[r]), "validate", reason) for r, reason in check.reasons.items()]
        keep = check.valid
        table, index = table.filter(pa.array(keep)), index[keep]
    flags = check.flag_column(np.flatnonzero(check.valid)) if check.flags else None
    dead = _one_per_message(dead)
    rows = lake_rows(dataset, table, topic, partition, offsets[index], now, quality_flags=flags,
                     time_marks=rules.air_time_marks)
    numbered = _drop_replays(dataset, rows, committer, topic, partition) if fence else _Numbered(rows)
    rows, flagged = numbered.rows, len(check.flags)
    if numbered.dropped and flags is not None:
        flagged = rows.num_rows - rows.column(QUALITY_FLAGS.name).null_count
    parts = split_by_hour(dataset, rows)
    if before_landing is not None and dead:
        before_landing(dead)
    landed = committer.land(topic, partition, int(offsets[0]), int(offsets[-1]), parts, fence=fence, topic_id=topic_id,
                            device_marks=numbered.marks, marks_base=numbered.marks_base)
    return BatchResult(landed, dead, rows.num_rows, time.perf_counter() - began, flagged, numbered.dropped)
