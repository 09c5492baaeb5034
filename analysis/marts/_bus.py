"""Bus telemetry rows as the bus marts read them, a slice of the day at a time.

A day of telemetry is the biggest input of any mart (tens of millions of rows). The telemetry
marts therefore run their streaming query once per ``CHUNK_HOURS`` slice of the day and combine the
small partial results: memory follows the rows of one slice, not of the day. A reading landed
twice has one event time, so it falls in one slice and deduplicating slice by slice is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import polars as pl

from smartcity.analysis.marts._common import day_start

#: GTFS-Realtime OccupancyStatus names, in their number order.
OCCUPANCY_STATUSES: tuple[str, ...] = (
    "EMPTY",
    "MANY_SEATS_AVAILABLE",
    "FEW_SEATS_AVAILABLE",
    "STANDING_ROOM_ONLY",
    "CRUSHED_STANDING_ROOM_ONLY",
    "FULL",
    "NOT_ACCEPTING_PASSENGERS",
    "NO_DATA_AVAILABLE",
    "NOT_BOARDABLE",
)
READING_KEYS = ("bus_id", "event_time_ms")
CHUNK_HOURS = 2


def in_service(telemetry: pl.LazyFrame, columns: list[str], *, dedupe: bool = True) -> pl.LazyFrame:
    """Readings of buses in service (with a route and a stop), only ``columns``.

    With ``dedupe`` a reading landed twice (same bus and event time) counts once; any copy is kept,
    since a producer retry repeats the message byte for byte.
    """
    wanted = list(dict.fromkeys([*READING_KEYS, *columns]))
    rows = telemetry.filter((pl.col("route_id") != "") & (pl.col("next_stop_id") != "")).select(wanted)
    return rows.filter(pl.struct(*READING_KEYS).is_first_distinct()) if dedupe else rows


def collect_by_slices(
    telemetry: pl.LazyFrame,
    day: date,
    query: Callable[[pl.LazyFrame], pl.LazyFrame],
    *,
    hours: int = CHUNK_HOURS,
) -> pl.DataFrame:
    """``query`` run on the streaming engine over each ``hours``-long slice of ``day``, concatenated.

    The slice filter is on ``event_time``, which the Parquet scan prunes by row-group statistics, so
    each run reads only its slice's files.
    """
    if not 1 <= hours <= 24:
        msg = f"`hours` must lie in 1..24, got {hours}"
        raise ValueError(msg)
    start = day_start(day)
    parts = []
    for offset in range(0, 24, hours):
        lo = start + timedelta(hours=offset)
        hi = min(lo + timedelta(hours=hours), start + timedelta(days=1))
        chunk = telemetry.filter((pl.col("event_time") >= lo) & (pl.col("event_time") < hi))
        parts.append(query(chunk).collect(engine="streaming"))
    return pl.concat(parts, how="vertical")
