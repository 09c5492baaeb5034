"""Replays of numbered devices: which rows of a batch a device already sent (a pure function).

A device that reaches Kafka through the edge gateway numbers its messages (``device_seq``, counting up
from 1 per device); the gateway forwards them at least once, so the same message can reach a partition
twice, in one batch or in batches far apart. The device is the message key, so all of its messages are
in one partition, in order of offsets; but not necessarily in order of number: a message lost with a
gateway that died and sent again later arrives after newer ones.

:func:`find_replays` decides, for one batch of one partition:

1. A row is *numbered* when it has both a device id and a ``device_seq``. Unnumbered rows are never
   dropped.
2. Each device's marks (:mod:`smartcity.ingest.device_seq`: its highest number and the holes below it)
   start as ``marks``, the partition's marks at the lake's landed offset, and take the batch's rows in
   offset order.
3. A numbered row is a *replay* when its number is neither above the device's highest nor inside one of
   its holes: a second copy. A late number that fills a hole is new. Every other row is kept.
4. The new marks are those of every device with a numbered row in the batch, after the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from smartcity.ingest.device_seq import SeqMarks

ArrowColumn: TypeAlias = pa.Array | pa.ChunkedArray


@dataclass(frozen=True)
class Replays:
    """What :func:`find_replays` found in a batch."""

    keep: np.ndarray            # bool, one per row: False for a replay
    marks: dict[str, Any]       # device -> its marks after the batch (JSON), for every device numbered in it
    dropped: int                # rows that are replays (``keep`` is False)


def find_replays(devices: ArrowColumn, seqs: ArrowColumn, marks: Mapping[str, Any]) -> Replays:
    """Keep-mask, new marks and number of replays of a batch (see the module docstring for the rules).

    ``devices`` (strings) and ``seqs`` (integers, null when a message is not numbered) hold one value per
    row, rows in offset order; ``marks`` maps a device to its marks (JSON, :meth:`SeqMarks.to_json`).
    """
    n = len(seqs)
    if len(devices) != n:
        raise ValueError(f"{len(devices)} device ids for {n} device_seq values")
    keep = np.ones(n, dtype=bool)
    if n == 0 or seqs.null_count == n:
        return Replays(keep, {}, 0)
    names, numbers = devices.to_pylist(), seqs.to_pylist()
    touched = {d for d, s in zip(names, numbers, strict=True) if d is not None and s is not None}
    state = SeqMarks.from_json({d: marks[d] for d in touched if d in marks})
    dropped = 0
    for i, (device, seq) in enumerate(zip(names, numbers, strict=True)):
        if device is not None and seq is not None and not state.take(device, seq):
            keep[i] = False
            dropped += 1
    return Replays(keep, state.to_json(touched), dropped)
