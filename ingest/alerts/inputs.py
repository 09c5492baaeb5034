"""Which input rows the alert engine can use (the sink dead-letters the rest)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.decode.validate import MAX_FUTURE_MS

EPOCH_2000_MS = 946_684_800_000
KEYS = {"bus": "bus_id", "air": "sensor_id", "station": "station_id"}
COUNTS = {"bus": ("passengers", "capacity"), "air": (), "station": ("waiting_passengers",)}


def sane_rows(kind: str, table: pa.Table, now_ms: int) -> pa.Array:
    """Rows the engine can use: a device id, an event time between 2000 and a day from now (one wild
    clock must not drag a watermark), and no negative counts.

    This filter is the live engine's, not the lake's, and it differs from the sink's on purpose: the
    sink dead-letters only event times before ``[ingest] earliest_event_time`` (default 1970) or more
    than ``[ingest] max_event_time_ahead_s`` ahead, so a city can land its archive, and it nulls a bad
    pollutant value instead of refusing the reading. Here a reading from before 2000 is skipped without
    a dead letter (it could only be an archive replay, never an open window, so it can raise no alert),
    the future bound stays at the fixed 24 h the windows' watermark relies on, and a negative pollutant
    is left to the air rules, which ignore it (the bus and station counts above are still required)."""
    t = table.column("event_time_ms")
    mask = pc.and_(pc.greater_equal(t, EPOCH_2000_MS), pc.less_equal(t, now_ms + MAX_FUTURE_MS))
    mask = pc.and_(mask, pc.greater(pc.utf8_length(table.column(KEYS[kind])), 0))
    for name in COUNTS[kind]:
        mask = pc.and_(mask, pc.greater_equal(table.column(name), 0))
    return pc.fill_null(mask, False)


def usable_rows(decoder: BatchDecoder, kind: str, values: Sequence[bytes | None]) -> tuple[pa.Table, np.ndarray]:
    """The decoded, sane rows of ``values`` and the position of each in ``values``."""
    decoded = decoder.decode(values)
    table, index = decoded.table, decoded.index
    if table.num_rows:
        sane = sane_rows(kind, table, int(time.time() * 1000))
        if not pc.all(sane).as_py():
            table, index = table.filter(sane), index[sane.to_numpy(zero_copy_only=False)]
    return table, index
