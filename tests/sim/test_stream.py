"""The streaming API: configuration, laziness, merging."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.proto import BusTelemetry, OccupancyStatus
from smartcity.simulator import City, SimConfig, SimEvent, merge_by_time, simulate
from smartcity.simulator.occupancy import occupancy_status
from smartcity.simulator.transit import TransitEngine

from .conftest import PEAK_START


def test_intervals_are_configurable(city: City) -> None:
    config = SimConfig(bus_interval_s=10, air_interval_s=300, station_count_interval_s=120)
    gaps: dict[str, set[int]] = defaultdict(set)
    last: dict[tuple[str, str], int] = {}
    for e in simulate(city, PEAK_START, timedelta(minutes=30), seed=1, config=config):
        if e.domain == "station" and e.message.bus_id:
            continue
        key = (e.domain, e.key)
        if key in last:
            gaps[e.domain].add(e.event_time_ms - last[key])
        last[key] = e.event_time_ms
    assert min(gaps["bus"]) == 10_000
    assert gaps["station"] == {120_000}
    assert min(gaps["air"]) == 300_000


def test_a_year_long_run_starts_streaming_at_once(city: City) -> None:
    tic = time.perf_counter()
    stream = simulate(city, PEAK_START, timedelta(days=365), seed=1)
    first = [next(stream) for _ in range(1000)]
    assert time.perf_counter() - tic < 5.0
    assert first[0].event_time_ms >= int(PEAK_START.timestamp() * 1000)


def test_unknown_domain_and_bad_config_are_rejected(city: City) -> None:
    with pytest.raises(ValueError, match="unknown domains"):
        simulate(city, PEAK_START, timedelta(minutes=1), seed=1, domains=("bus", "trains"))
    with pytest.raises(ValueError, match="bus_interval_s"):
        SimConfig(bus_interval_s=0)


def test_merge_keeps_time_order_and_breaks_ties_by_stream() -> None:
    def stream(name: str, times: list[int]) -> list[SimEvent]:
        return [SimEvent(name, name, t, BusTelemetry(event_time_ms=t)) for t in times]

    a = stream("a", [1, 2, 2, 5, 9])
    b = stream("b", [2, 3, 3, 4, 10, 11])
    c = stream("c", [0, 2, 12])
    merged = list(merge_by_time([iter(a), iter(b), iter(c)]))
    assert [e.event_time_ms for e in merged] == sorted(e.event_time_ms for e in a + b + c)
    at_two = [e.domain for e in merged if e.event_time_ms == 2]
    assert at_two == ["a", "a", "b", "c"]
    assert all(x.event_time_ms <= y.event_time_ms for x, y in pairwise(merged))
    assert list(merge_by_time([])) == []


@pytest.mark.parametrize(("passengers", "status"), [
    (0, OccupancyStatus.EMPTY), (2, OccupancyStatus.EMPTY), (3, OccupancyStatus.MANY_SEATS_AVAILABLE),
    (19, OccupancyStatus.MANY_SEATS_AVAILABLE), (20, OccupancyStatus.FEW_SEATS_AVAILABLE),
    (39, OccupancyStatus.FEW_SEATS_AVAILABLE), (40, OccupancyStatus.STANDING_ROOM_ONLY),
    (57, OccupancyStatus.STANDING_ROOM_ONLY), (58, OccupancyStatus.CRUSHED_STANDING_ROOM_ONLY),
    (66, OccupancyStatus.CRUSHED_STANDING_ROOM_ONLY), (67, OccupancyStatus.FULL), (70, OccupancyStatus.FULL),
])
def test_occupancy_mapping_for_a_standard_bus(passengers: int, status: int) -> None:
    assert occupancy_status(passengers, seats=40, capacity=70) == status


def test_state_stays_bounded_over_days(city: City) -> None:
    engine = TransitEngine(city, seed=1, config=SimConfig(), emit_bus=False)
    start = int(PEAK_START.timestamp() * 1000)
    events = engine.run(start, start + 3 * 86_400_000)
    sizes = [len(engine.heap) for i, _ in enumerate(events) if i % 5000 == 0]
    assert len(sizes) > 20
    assert max(sizes) < 2 * (len(city.fleet) + len(city.stations)) + 10


@given(seats=st.integers(1, 80), standing=st.integers(0, 120))
def test_occupancy_status_never_falls_as_the_bus_fills(seats: int, standing: int) -> None:
    capacity = seats + standing
    statuses = [occupancy_status(p, seats, capacity) for p in range(capacity + 1)]
    assert statuses == sorted(statuses)
    assert statuses[0] == OccupancyStatus.EMPTY
