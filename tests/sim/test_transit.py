"""Physical invariants of bus telemetry and station events."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

from smartcity.proto import StationEventKind, VehicleStopStatus
from smartcity.simulator import City, SimConfig, SimEvent, simulate
from smartcity.simulator.geometry import city_geometries
from smartcity.simulator.model import haversine_m
from smartcity.simulator.occupancy import occupancy_percentage, occupancy_status

from .conftest import PEAK_START, SEED


def _serialised(events: list[SimEvent]) -> list[tuple[str, str, int, bytes]]:
    return [(e.domain, e.key, e.event_time_ms, e.message.SerializeToString()) for e in events]


def test_same_seed_same_bytes_and_different_seed_differs(city: City) -> None:
    run = lambda seed: _serialised(list(simulate(city, PEAK_START, timedelta(minutes=20), seed=seed)))  # noqa: E731
    first = run(11)
    assert first == run(11)
    other = run(12)
    assert other != first
    assert {d for d, *_ in first} == {"bus", "air", "station"}


def test_a_longer_run_starts_with_the_shorter_run(city: City) -> None:
    short = _serialised(list(simulate(city, PEAK_START, timedelta(minutes=10), seed=SEED)))
    long = _serialised(list(simulate(city, PEAK_START, timedelta(minutes=20), seed=SEED)))
    assert long[: len(short)] == short
    assert len(long) > len(short)


def test_domains_are_independent(city: City, peak_run: list[SimEvent]) -> None:
    end = PEAK_START + timedelta(minutes=15)
    cut = int(end.timestamp() * 1000)
    for domain in ("bus", "station", "air"):
        alone = _serialised(list(simulate(city, PEAK_START, timedelta(minutes=15), seed=SEED,
                                          domains=(domain,))))
        together = _serialised([e for e in peak_run if e.domain == domain and e.event_time_ms < cut])
        assert alone == together, domain


def test_events_are_in_time_order_and_inside_the_window(peak_run: list[SimEvent]) -> None:
    times = [e.event_time_ms for e in peak_run]
    assert times == sorted(times)
    start = int(PEAK_START.timestamp() * 1000)
    assert start <= times[0] and times[-1] < start + 2 * 3600 * 1000
    assert all(e.event_time_ms == e.message.event_time_ms for e in peak_run)


def test_event_time_is_strictly_increasing_per_device(peak_run: list[SimEvent]) -> None:
    last: dict[tuple[str, str], int] = {}
    for e in peak_run:
        if e.domain == "station":
            continue
        key = (e.domain, e.key)
        assert e.event_time_ms > last.get(key, -1)
        last[key] = e.event_time_ms


def test_bus_telemetry_every_five_seconds(peak_bus: list[SimEvent]) -> None:
    by_bus: dict[str, list[int]] = defaultdict(list)
    for e in peak_bus:
        by_bus[e.key].append(e.event_time_ms)
    gaps = [b - a for times in by_bus.values() for a, b in itertools.pairwise(times)]
    assert min(gaps) == 5000
    assert sum(g == 5000 for g in gaps) > 0.99 * len(gaps)


def test_occupancy_within_capacity_and_mapped(peak_bus: list[SimEvent]) -> None:
    for e in peak_bus:
        m = e.message
        assert 0 <= m.passengers <= m.capacity
        assert m.occupancy_percentage == occupancy_percentage(m.passengers, m.capacity)
        assert m.occupancy_status == occupancy_status(m.passengers, m.seated_capacity, m.capacity)
        assert m.HasField("current_status")


def test_positions_lie_on_the_route_geometry(city: City, peak_bus: list[SimEvent]) -> None:
    geoms = city_geometries(city)
    for e in peak_bus[::7]:
        m = e.message
        d = min(geoms[(m.route_id, k)].distance_from(m.latitude, m.longitude) for k in (0, 1))
        assert d < 0.5, (m.bus_id, d)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_m(a[0], a[1], b[0], b[1])


def test_status_speed_odometer_and_next_stop_agree(city: City, peak_bus: list[SimEvent]) -> None:
    geoms = city_geometries(city)
    config = SimConfig()
    for e in peak_bus[::3]:
        m = e.message
        # the direction whose stop at stop_sequence is next_stop_id and whose point at the odometer is here
        geom = next(g for g in (geoms[(m.route_id, 0)], geoms[(m.route_id, 1)])
                    if g.stop_ids[m.stop_sequence - 1] == m.next_stop_id
                    and _metres(g.point_at(m.odometer_m), (m.latitude, m.longitude)) < 0.5)
        stop = city.stop(m.next_stop_id)
        assert 0.0 <= m.odometer_m <= geom.length_m + 1e-6
        assert 0.0 <= m.bearing_deg < 360.0
        assert 0.0 <= m.speed_mps < 25.0
        to_stop = geom.cum_m[m.stop_sequence - 1] - m.odometer_m
        if m.current_status == VehicleStopStatus.STOPPED_AT:
            assert m.speed_mps == 0.0
            assert (m.latitude, m.longitude) == (stop.lat, stop.lon)
            assert abs(to_stop) < 1e-6
        else:
            assert to_stop > -1e-6
            assert (m.current_status == VehicleStopStatus.INCOMING_AT) == (to_stop < config.incoming_m)
        assert abs(m.delay_s) < 3600


def test_station_events_match_the_bus_telemetry(city: City, peak_bus: list[SimEvent],
                                                 peak_station: list[SimEvent]) -> None:
    samples: dict[tuple[str, str], list] = defaultdict(list)
    for e in peak_bus:
        samples[(e.message.bus_id, e.message.trip_id)].append(e.message)
    stations = {s.stop_id for s in city.stations}
    stops = {s.stop_id for s in city.stops}
    start = int(PEAK_START.timestamp() * 1000)
    arrivals = {}
    checked = 0
    visited = set()
    for e in peak_station:
        m = e.message
        assert m.station_id == e.key and m.station_id in stops
        assert m.waiting_passengers >= 0
        if m.kind == StationEventKind.PASSENGER_COUNT:  # only stations count their queues
            assert not m.bus_id and not m.trip_id and m.station_id in stations
            continue
        visited.add(m.station_id)
        assert m.actual_time_ms == m.event_time_ms and m.scheduled_time_ms > 0
        trip = samples[(m.bus_id, m.trip_id)]
        if not trip:  # the trip ended before the bus's first sample of the run
            assert m.event_time_ms - start < 5000, "a station event for a bus that sent no telemetry"
            continue
        assert all(s.route_id == m.route_id for s in trip)
        key = (m.bus_id, m.trip_id, m.stop_sequence)
        if m.kind == StationEventKind.ARRIVAL:
            arrivals[key] = m
            continue
        arrival = arrivals.pop(key, None)
        if arrival is None:
            continue
        assert abs(m.dwell_s - (m.event_time_ms - arrival.event_time_ms) / 1000) < 1e-3
        before = [s for s in trip if s.event_time_ms < arrival.event_time_ms and
                  s.current_status != VehicleStopStatus.STOPPED_AT and s.stop_sequence == m.stop_sequence]
        after = [s for s in trip if s.event_time_ms > m.event_time_ms]
        during = [s for s in trip if arrival.event_time_ms <= s.event_time_ms < m.event_time_ms]
        assert all(s.current_status == VehicleStopStatus.STOPPED_AT and s.next_stop_id == m.station_id
                   for s in during)
        if m.stop_sequence == 1:
            assert arrival.alighted == 0
            before_p = 0
        elif before:
            before_p = before[-1].passengers
        else:
            continue
        if after and after[0].stop_sequence == m.stop_sequence + 1:
            assert after[0].passengers - before_p == m.boarded - arrival.alighted
            checked += 1
    assert checked > 200
    served = {sid for r in city.routes for p in r.patterns for sid in p}
    assert visited == served  # every stop a bus serves records its visits, not only the stations


def test_passenger_counts_are_periodic_per_station(peak_station: list[SimEvent]) -> None:
    counts: dict[str, list[int]] = defaultdict(list)
    for e in peak_station:
        if e.message.kind == StationEventKind.PASSENGER_COUNT:
            counts[e.key].append(e.event_time_ms)
    assert counts
    for times in counts.values():
        assert {b - a for a, b in itertools.pairwise(times)} == {60_000}


def test_full_buses_leave_passengers_behind(peak_bus: list[SimEvent], peak_station: list[SimEvent]) -> None:
    full = sum(e.message.passengers == e.message.capacity for e in peak_bus)
    assert full > 0
    left_behind = 0
    capacity = {e.message.bus_id: e.message.capacity for e in peak_bus}
    last_load: dict[str, int] = {}
    for e in sorted(peak_bus + peak_station, key=lambda x: x.event_time_ms):
        m = e.message
        if e.domain == "bus":
            last_load[m.bus_id] = m.passengers
        elif m.kind == StationEventKind.DEPARTURE and m.waiting_passengers > 0:
            load = last_load.get(m.bus_id)
            left_behind += load == capacity[m.bus_id]
    assert left_behind > 0
