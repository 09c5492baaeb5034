"""What a simulated service date of an imported feed must show: the feed's trips per route, every stop
time of every trip (on schedule), and as many vehicles on the road as trips in progress. The expected
side comes from the feed's files read independently (:mod:`tests.sim.gtfs_reference`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from smartcity.proto import StationEventKind
from smartcity.simulator import City, SimConfig, simulate
from smartcity.simulator.timetable import service_day
from tests.sim.gtfs_reference import ReferenceTrip, reference_trips


@dataclass
class DayFigures:
    trips: int
    routes: int
    stop_times: int
    peak_in_progress: int
    peak_vehicles: int
    vehicles_used: int
    fleet: int


def check_day(city: City, source: Path, day: date, seed: int = 3) -> DayFigures:
    """Simulate ``day`` on schedule and compare it with the feed (asserts; returns the figures)."""
    expected = reference_trips(source, day)
    assert expected, f"the feed runs nothing on {day}"
    svc = service_day(day, ZoneInfo(city.timezone))
    first = min(t.departures[0] for t in expected)
    last = max(t.arrivals[-1] for t in expected)
    start = datetime.fromtimestamp(svc.at(first - 60) / 1000, UTC)
    duration = timedelta(milliseconds=svc.at(last + 1) - svc.at(first - 60))
    visits: dict[tuple[str, int, int], list[tuple[int, int, str]]] = defaultdict(list)
    for e in simulate(city, start, duration, seed, domains=("station",), config=SimConfig(on_schedule=True)):
        m = e.message
        if m.kind != StationEventKind.PASSENGER_COUNT:
            visits[(m.trip_id, m.stop_sequence, m.kind)].append((m.scheduled_time_ms, m.actual_time_ms, m.bus_id))

    per_route: Counter[str] = Counter()
    spans: list[tuple[int, int, str]] = []
    stop_times = 0
    for trip in expected:
        buses = set()
        for k, stop_id in enumerate(trip.stop_ids):
            for kind, at in ((StationEventKind.ARRIVAL, trip.arrivals[k]), (StationEventKind.DEPARTURE,
                                                                           trip.departures[k])):
                want = svc.at(at)
                found = [v for v in visits.get((trip.trip_id, k + 1, kind), []) if v[0] == want]
                assert found, f"{trip.trip_id} stop {k + 1} ({stop_id}): no {kind} scheduled at {at} s"
                assert found[0][1] == want, f"{trip.trip_id} stop {k + 1}: at {found[0][1]}, scheduled {want}"
                buses.add(found[0][2])
                stop_times += 1
        assert len(buses) == 1, f"{trip.trip_id} changed vehicles"
        per_route[trip.route_id] += 1
        spans.append((svc.at(trip.departures[0]), svc.at(trip.arrivals[-1]), buses.pop()))
    reference_routes = Counter(t.route_id for t in expected)
    assert per_route == reference_routes

    edges = sorted([(a, 1) for a, _, _ in spans] + [(b, -1) for _, b, _ in spans])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    # vehicles: at every trip start, distinct buses running a trip then
    peak_vehicles = max(len({bus for a, b, bus in spans if a <= at < b}) for at, _, _ in spans)
    assert peak_vehicles == peak, (peak_vehicles, peak)
    used = len({bus for _, _, bus in spans})
    assert used <= len(city.fleet)
    return DayFigures(len(expected), len(reference_routes), stop_times // 2, peak, peak_vehicles, used,
                      len(city.fleet))


def trips_by_route(trips: list[ReferenceTrip]) -> dict[str, int]:
    return dict(Counter(t.route_id for t in trips))
