"""The patterns downstream analyses must find in bus and station data."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from smartcity.proto import OccupancyStatus, StationEventKind
from smartcity.simulator import City, SimEvent, simulate

from .conftest import SEED


def _mean_passengers(city: City, start: datetime) -> float:
    events = simulate(city, start, timedelta(hours=1), seed=SEED, domains=("bus",))
    return statistics.fmean(e.message.passengers for e in events)


def test_rush_hour_buses_carry_more_than_at_night(city: City) -> None:
    rush = _mean_passengers(city, datetime(2025, 3, 11, 6, 30, tzinfo=UTC))  # 07:30 local, Tuesday
    late = _mean_passengers(city, datetime(2025, 3, 11, 21, 0, tzinfo=UTC))  # 22:00 local
    saturday = _mean_passengers(city, datetime(2025, 3, 15, 6, 30, tzinfo=UTC))
    assert rush > 2.0 * late
    assert rush > 1.5 * saturday


def test_peak_buses_get_crowded(peak_bus: list[SimEvent]) -> None:
    statuses = {e.message.occupancy_status for e in peak_bus}
    assert {OccupancyStatus.EMPTY, OccupancyStatus.MANY_SEATS_AVAILABLE, OccupancyStatus.FEW_SEATS_AVAILABLE,
            OccupancyStatus.STANDING_ROOM_ONLY, OccupancyStatus.CRUSHED_STANDING_ROOM_ONLY,
            OccupancyStatus.FULL} <= statuses
    over_seats = sum(e.message.passengers > e.message.seated_capacity for e in peak_bus)
    assert 0.02 * len(peak_bus) < over_seats < 0.5 * len(peak_bus)


def _headway_ratios(station: list[SimEvent], routes: set[str]) -> list[float]:
    departures: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for e in station:
        m = e.message
        if m.kind == StationEventKind.DEPARTURE and m.route_id in routes:
            # the direction is the trip's stop pattern; the stop sequence separates the two at a shared stop
            departures[(m.route_id, m.station_id, str(m.stop_sequence))].append(
                (m.actual_time_ms, m.scheduled_time_ms))
    ratios = []
    for deps in departures.values():
        deps.sort(key=lambda d: d[1])
        for (a_act, a_sched), (b_act, b_sched) in itertools.pairwise(deps):
            if b_sched > a_sched:
                ratios.append((b_act - a_act) / (b_sched - a_sched))
    return ratios


def test_frequent_routes_bunch(city: City, peak_station: list[SimEvent]) -> None:
    frequent = {r.route_id for r in city.routes if r.vehicle_type == "articulated"}
    ratios = _headway_ratios(peak_station, frequent)
    assert len(ratios) > 300
    bunched = sum(r < 0.5 for r in ratios) / len(ratios)
    assert 0.02 < bunched < 0.4
    assert min(ratios) < 0.2 and max(ratios) > 1.5


def test_delays_grow_along_the_route(peak_bus: list[SimEvent]) -> None:
    early, late = [], []
    for e in peak_bus:
        m = e.message
        (early if m.stop_sequence <= 4 else late if m.stop_sequence >= 10 else []).append(abs(m.delay_s))
    assert statistics.fmean(late) > 1.3 * statistics.fmean(early)
