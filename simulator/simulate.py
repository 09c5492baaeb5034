"""The streaming entry point: every domain's stream merged by event time."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from smartcity.simulator.air import air_stream
from smartcity.simulator.config import SimConfig, to_ms
from smartcity.simulator.events import DOMAINS, SimEvent
from smartcity.simulator.model import City
from smartcity.simulator.transit import TransitEngine


def merge_by_time(streams: Sequence[Iterator[SimEvent]]) -> Iterator[SimEvent]:
    """k-way merge of time-ordered streams; ties go to the earlier stream.

    While one stream stays ahead of the others its events pass straight through, so the cost per
    event is one comparison rather than a heap operation.
    """
    heap: list[tuple[int, int, SimEvent, Iterator[SimEvent]]] = []
    for i, it in enumerate(streams):
        first = next(it, None)
        if first is not None:
            heap.append((first.event_time_ms, i, first, it))
    heapq.heapify(heap)
    while heap:
        if len(heap) == 1:
            _, _, ev, it = heap[0]
            yield ev
            yield from it
            return
        _, i, ev, it = heap[0]
        yield ev
        # the next stream in line: a heap's second-smallest entry is one of its root's children
        other_t, other_i = min(heap[1][:2], heap[2][:2]) if len(heap) > 2 else heap[1][:2]
        for ev in it:
            t = ev.event_time_ms
            if t < other_t or (t == other_t and i < other_i):
                yield ev
                continue
            heapq.heapreplace(heap, (t, i, ev, it))
            break
        else:
            heapq.heappop(heap)


def simulate(city: City, start: datetime, duration: timedelta, seed: int,
             domains: Iterable[str] = DOMAINS, config: SimConfig | None = None) -> Iterator[SimEvent]:
    """Simulated bus telemetry, air readings and station events in event-time order.

    ``start`` is timezone-aware (naive means UTC); events satisfy
    ``start <= event_time < start + duration``. The run streams: memory does not grow with the
    duration. The same arguments give the same messages, byte for byte.
    """
    cfg = config or SimConfig()
    wanted = tuple(domains)
    unknown = sorted(set(wanted) - set(DOMAINS))
    if unknown:
        raise ValueError(f"unknown domains {unknown}; choose from {list(DOMAINS)}")
    start_ms = to_ms(start)
    end_ms = start_ms + round(duration.total_seconds() * 1000)
    streams: list[Iterator[SimEvent]] = []
    if "bus" in wanted or "station" in wanted:
        engine = TransitEngine(city, seed, cfg, emit_bus="bus" in wanted, emit_station="station" in wanted)
        streams.append(engine.run(start_ms, end_ms))
    if "air" in wanted:
        streams.append(air_stream(city, start_ms, end_ms, seed, cfg))
    return merge_by_time(streams)
