"""Closing windows: those a stream's watermark passed (or all of an idle bus stream's), and the bus window records."""

from __future__ import annotations

import logging

from smartcity.ingest.alerts.engine_types import EngineStats, Output, PartitionState, StreamState
from smartcity.ingest.alerts.state import Agg
from smartcity.ingest.alerts.windows import ClosedWindow
from smartcity.proto import BusWindowStats

log = logging.getLogger("smartcity.alerts")


def close_windows(stream: StreamState, now: float,
                  stats: EngineStats) -> list[tuple[PartitionState, ClosedWindow[Agg]]]:
    """The windows of ``stream`` that close at ``now``, with their partitions (whose devices are marked dirty)."""
    closed: list[tuple[PartitionState, ClosedWindow[Agg]]] = []
    parts = list(stream.parts.values())
    if stream.kind == "bus" and stream.clock.idle(now) and any(p.windows and p.windows.by_start for p in parts):
        for part in parts:
            assert part.windows is not None
            closed += [(part, w) for w in part.windows.close_all()]
        through = max(part.windows.closed_through for part in parts)  # type: ignore[union-attr]
        for part in parts:
            part.windows.closed_through = through  # type: ignore[union-attr]
            part.meta_dirty = True
        stats.idle_closes += 1
        log.info("bus stream idle for %.0f s: closed %d open windows", stream.clock.idle_for(now), len(closed))
    else:
        watermark = stream.clock.watermark(now)
        if watermark is None:
            return []
        for part in parts:
            assert part.windows is not None
            done = part.windows.close_until(watermark)
            if done:
                closed += [(part, w) for w in done]
                part.meta_dirty = True
    for part, w in closed:
        part.dirty.add(w.key)
    return closed


def bus_window_outputs(closed: list[tuple[PartitionState, ClosedWindow[Agg]]], stats: EngineStats) -> list[Output]:
    """A ``BusWindowStats`` per closed bus window. Its ``fleet_*`` fields stay unset: a member sees the
    buses of its partitions only, so fleet figures are merged by window downstream
    (:mod:`~smartcity.ingest.alerts.fleet`)."""
    out = []
    for _, w in sorted(closed, key=lambda pw: (pw[1].start, pw[1].key)):
        agg = w.agg
        message = BusWindowStats(
            bus_id=w.key, route_id=agg.route, window_start_ms=w.start, window_end_ms=w.end,
            event_time_ms=w.end, readings=agg.count, passengers_min=agg.low, passengers_max=agg.high,
            passengers_mean=agg.total / agg.count, capacity=agg.capacity, closed_on_idle=w.on_idle)
        out.append(Output("bus_windows", w.key, message))
    stats.windows += len(out)
    return out
