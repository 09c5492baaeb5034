from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartcity.core.resources import city_dir
from smartcity.simulator import City, default_city, generate_city, load_city, write_city
from smartcity.simulator.geometry import city_geometries
from smartcity.simulator.model import POLLUTANTS, SITE_TYPES
from smartcity.simulator.timetable import build_blocks, route_headways, route_trips, service_day


def test_default_city_is_read_from_the_repository_data_folder() -> None:
    assert Path(__file__).resolve().parents[2] / "data" / "city" == city_dir()
    assert (city_dir() / "stops.csv").exists()


def test_default_city_has_the_documented_size(city: City) -> None:
    size = city.summary()
    assert 10 <= size["routes"] <= 15
    assert 120 <= size["stops"] <= 180
    assert 15 <= size["stations"] < size["stops"]
    assert 50 <= size["buses"] <= 80
    assert 35 <= size["sensors"] <= 45
    assert 47.3 < city.stop(city.stops[0].stop_id).lat < 47.45
    ZoneInfo(city.timezone)


def test_routes_have_ordered_stops_in_both_directions(city: City) -> None:
    stop_ids = {s.stop_id for s in city.stops}
    for route in city.routes:
        assert len(route.patterns) == 2
        assert route.patterns[1] == tuple(reversed(route.patterns[0]))
        assert len(route.patterns[0]) >= 3
        assert set(route.patterns[0]) <= stop_ids
        assert len(set(route.patterns[0])) == len(route.patterns[0])


def test_routes_are_distinct(city: City) -> None:
    assert len({r.patterns[0] for r in city.routes}) == len(city.routes)
    assert len({r.route_id for r in city.routes}) == len(city.routes)
    assert len({b.bus_id for b in city.fleet}) == len(city.fleet)


def test_fleet_capacities_and_vehicle_types(city: City) -> None:
    types = {vt.name: vt for vt in city.vehicle_types}
    assert (types["standard"].seated_capacity, types["standard"].capacity) == (40, 70)
    assert (types["articulated"].seated_capacity, types["articulated"].capacity) == (55, 110)
    for bus in city.fleet:
        vt = types[bus.vehicle_type]
        assert (bus.seated_capacity, bus.capacity) == (vt.seated_capacity, vt.capacity)
        assert bus.route_id in {r.route_id for r in city.routes}


def test_fleet_is_sized_to_run_every_scheduled_trip(city: City) -> None:
    geoms = city_geometries(city)
    rows = route_headways(city)
    day = service_day(date(2025, 3, 11), ZoneInfo(city.timezone))
    for route in city.routes:
        trips = route_trips(city, route, geoms, rows[(route.route_id, "weekday")], day)
        buses = [b.bus_id for b in city.fleet if b.route_id == route.route_id]
        blocks, unserved = build_blocks(trips, buses)
        assert unserved == 0, route.route_id
        assert all(blocks.values()), f"idle bus on {route.route_id}"


def test_timetable_has_peaks_offpeak_evening_and_weekends(city: City) -> None:
    rows = route_headways(city)
    for route in city.routes:
        weekday = rows[(route.route_id, "weekday")]
        peak = next(h.headway_s for h in weekday if h.start_s <= 8 * 3600 < h.end_s)
        midday = next(h.headway_s for h in weekday if h.start_s <= 12 * 3600 < h.end_s)
        evening = next(h.headway_s for h in weekday if h.start_s <= 21 * 3600 < h.end_s)
        assert peak <= midday <= evening
        assert rows[(route.route_id, "saturday")] and rows[(route.route_id, "sunday")]
        assert max(h.end_s for h in weekday) > 24 * 3600  # service after midnight, GTFS style


def test_sensor_sites(city: City) -> None:
    kinds = {s.site_type for s in city.sensors}
    assert kinds == set(SITE_TYPES)
    assert all(set(s.pollutants) <= set(POLLUTANTS) and "no2" in s.pollutants for s in city.sensors)
    by_type: dict[str, list[float]] = {}
    for s in city.sensors:
        by_type.setdefault(s.site_type, []).append(s.emission_factor)
    assert min(by_type["road"]) > max(by_type["park"])
    assert 1 <= len(by_type["park"]) <= 6
    assert city.industrial_source is not None


def test_write_and_load_round_trip(tmp_path: Path, city: City) -> None:
    write_city(city, tmp_path / "copy")
    assert load_city(tmp_path / "copy") == city
    assert default_city() == city


def test_generator_is_deterministic_and_seeded() -> None:
    a = generate_city(0.5, seed=3)
    assert generate_city(0.5, seed=3) == a
    assert generate_city(0.5, seed=4) != a


@pytest.mark.parametrize("scales", [(0.5, 1.0, 2.0)])
def test_generator_size_grows_with_scale(scales: tuple[float, ...]) -> None:
    sizes = [generate_city(s, seed=1).summary() for s in scales]
    for key in ("routes", "stops", "buses", "sensors"):
        values = [size[key] for size in sizes]
        assert values == sorted(values) and values[0] < values[-1], key


def test_scale_eight_is_about_five_hundred_buses() -> None:
    size = generate_city(8, seed=1).summary()
    assert 350 <= size["buses"] <= 650
    assert 150 <= size["sensors"] <= 230
