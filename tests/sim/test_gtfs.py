"""Import of a small hand-written GTFS feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from smartcity.simulator import City, import_gtfs, load_city, simulate, write_city
from smartcity.simulator.gtfs import trips_in_progress, trips_on
from smartcity.simulator.model import format_gtfs_time
from tests.sim.gtfs_checks import check_day

STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
N1,North End,47.4000,8.5400,0,
N2,Oak Lane,47.3950,8.5410,0,
HUB,Central Platform A,47.3900,8.5420,0,CENTRAL
S1,Mill Road,47.3850,8.5430,0,
S2,South End,47.3800,8.5440,0,
W1,West Gate,47.3900,8.5300,0,
E1,East Gate,47.3900,8.5550,0,
CENTRAL,Central,47.3900,8.5420,1,
"""


def _trips(route: str, stops: list[str], service: str, first: int, last: int, headway: int,
           peak: tuple[int, int, int] | None) -> tuple[list[str], list[str]]:
    trips, times = [], []
    for direction, pattern in enumerate((stops, stops[::-1])):
        t = first
        while t <= last:
            trip_id = f"{route}-{service}-{direction}-{t}"
            trips.append(f"{route},{service},{trip_id},{direction}")
            for seq, stop in enumerate(pattern, start=1):
                arr = t + (seq - 1) * 150
                dep = arr + (20 if 1 < seq < len(pattern) else 0)
                times.append(f"{trip_id},{format_gtfs_time(arr)},{format_gtfs_time(dep)},{stop},{seq}")
            t += peak[2] if peak and peak[0] <= t < peak[1] else headway
    return trips, times


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("feed")
    (folder / "agency.txt").write_text("agency_id,agency_name,agency_url,agency_timezone\n"
                                       "T,Test Transit,https://example.org,Europe/Zurich\n")
    (folder / "stops.txt").write_text(STOPS)
    (folder / "routes.txt").write_text("route_id,route_short_name,route_long_name,route_type\n"
                                       "NS,10,North - South,3\nEW,20,West - East,3\n")
    (folder / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WK,1,1,1,1,1,0,0,20250101,20251231\nWE,0,0,0,0,0,1,1,20250101,20251231\n")
    trips, times = [], []
    for args in (
        ("NS", ["N1", "N2", "HUB", "S1", "S2"], "WK", 6 * 3600, 25 * 3600, 1200, (7 * 3600, 9 * 3600, 600)),
        ("NS", ["N1", "N2", "HUB", "S1", "S2"], "WE", 8 * 3600, 24 * 3600, 1800, None),
        ("EW", ["W1", "HUB", "E1"], "WK", 6 * 3600, 22 * 3600, 1800, None),
    ):
        t, s = _trips(*args)
        trips += t
        times += s
    (folder / "trips.txt").write_text("route_id,service_id,trip_id,direction_id\n" + "\n".join(trips) + "\n")
    (folder / "stop_times.txt").write_text("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                                           + "\n".join(times) + "\n")
    return folder


@pytest.fixture(scope="module")
def imported(feed: Path) -> City:
    return import_gtfs(feed, seed=1)


def test_stops_routes_and_patterns(imported: City) -> None:
    assert imported.timezone == "Europe/Zurich"
    assert {s.stop_id for s in imported.stops} == {"N1", "N2", "HUB", "S1", "S2", "W1", "E1"}
    ns = imported.route("NS")
    assert ns.patterns == (("N1", "N2", "HUB", "S1", "S2"), ("S2", "S1", "HUB", "N2", "N1"))
    assert imported.route("EW").patterns[0] == ("W1", "HUB", "E1")
    assert imported.stop("HUB").is_station  # has a parent station and two routes
    assert not imported.stop("N2").is_station
    assert imported.stop("HUB").demand_weight > imported.stop("N2").demand_weight


def test_headways_from_first_departures(imported: City) -> None:
    rows = {(h.service_id, h.start_s): h for h in imported.headways if h.route_id == "NS"}
    assert rows[("weekday", 7 * 3600)].headway_s == 600
    assert rows[("weekday", 6 * 3600)].headway_s == 1200
    assert max(h.end_s for h in imported.headways if h.service_id == "weekday") > 24 * 3600
    assert {h.headway_s for h in imported.headways if h.service_id == "saturday"} == {1800}
    assert not [h for h in imported.headways if h.route_id == "EW" and h.service_id != "weekday"]


def test_fleet_and_sensors_are_derived(imported: City) -> None:
    # every arrival meets a departure at its terminal, so the fleet is the most trips running at once
    assert imported.feed is not None
    peak = max(trips_in_progress(trips_on(imported.feed, date(2025, 3, d)))[0] for d in (11, 15, 16))
    assert len(imported.fleet) == peak >= 3
    assert imported.route("NS").speed_kmh > 0
    assert len(imported.sensors) >= 4 and imported.industrial_source is not None


def test_imported_city_round_trips_and_simulates(imported: City, tmp_path: Path) -> None:
    write_city(imported, tmp_path)
    assert load_city(tmp_path) == imported
    start = datetime(2025, 3, 11, 6, 0, tzinfo=UTC)
    events = list(simulate(imported, start, timedelta(minutes=30), seed=2))
    domains = {e.domain for e in events}
    assert domains == {"bus", "air", "station"}
    assert {e.message.route_id for e in events if e.domain == "bus"} == {"NS", "EW"}
    late = list(simulate(imported, datetime(2025, 3, 11, 23, 50, tzinfo=UTC), timedelta(minutes=20), seed=2,
                         domains=("bus",)))
    assert late  # trips after midnight (GTFS times past 24:00) run


def test_a_simulated_day_on_schedule_is_the_feed_to_the_second(feed: Path, imported: City) -> None:
    figures = check_day(imported, feed, date(2025, 3, 11))  # a Tuesday, trips past 24:00 included
    # NS every 20 min 06:00-25:00 but every 10 min 07:00-09:00 (64 a direction), EW every 30 min 06:00-22:00
    ns, ew = 3 + 12 + 16 * 3 + 1, 16 * 2 + 1
    assert figures.trips == 2 * ns + 2 * ew and figures.stop_times == 2 * ns * 5 + 2 * ew * 3
    assert figures.fleet == figures.peak_in_progress == figures.peak_vehicles
    saturday = check_day(imported, feed, date(2025, 3, 15))
    assert saturday.trips == 2 * 33 and saturday.routes == 1
