"""Real published GTFS feeds of four agencies and four modes, imported and simulated for a day on
schedule: the trips per route, every stop time and the vehicles on the road must be the feed's (compared
with an independent reading of the feed, :mod:`tests.sim.gtfs_reference`). The figures go to the log."""

from __future__ import annotations

import csv
import io
import itertools
import logging
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartcity.proto import StationEventKind
from smartcity.simulator import import_gtfs, simulate
from smartcity.simulator.gtfs import read_feed, trips_in_progress, trips_on
from smartcity.simulator.timetable import service_day
from tests.sim.gtfs_checks import check_day
from tests.sim.real_feeds import real_feed

log = logging.getLogger(__name__)

DAYS = {  # a weekday and a weekend day (or a day with another service set) of each feed
    "cairns": (date(2014, 6, 2), date(2014, 6, 8)),
    "nyc_subway": (date(2025, 1, 6), date(2025, 1, 11)),
    "seattle": (date(2017, 11, 20), date(2017, 11, 26)),
    "barrie": (date(2024, 1, 15), date(2024, 1, 20)),
}
MODES = {"cairns": {"standard"}, "nyc_subway": {"metro"}, "seattle": {"standard", "tram", "ferry"},
         "barrie": {"standard"}}


@pytest.mark.parametrize("name", sorted(DAYS))
def test_a_real_feed_runs_exactly_its_timetable(name: str) -> None:
    source = real_feed(name)
    city = import_gtfs(source, seed=1)
    assert city.feed is not None
    assert MODES[name] <= {b.vehicle_type for b in city.fleet}
    for day in DAYS[name]:
        figures = check_day(city, source, day)
        log.info("%s %s: %s", name, day, figures)
        assert figures.trips > 50
        assert figures.peak_vehicles == figures.peak_in_progress <= figures.vehicles_used <= figures.fleet
        if not any(t.block_id for t in city.feed.trips.values()):
            # chained blocks: the vehicles a day uses are about what its peak needs, not one per trip
            assert figures.vehicles_used <= 1.2 * figures.peak_in_progress + 2


def test_every_stop_any_trip_serves_is_kept() -> None:
    source = real_feed("seattle")
    city = import_gtfs(source)
    with zipfile.ZipFile(source) as z:
        served = {r["stop_id"] for r in csv.DictReader(io.TextIOWrapper(z.open("stop_times.txt"), "utf-8-sig"))}
    assert {s.stop_id for s in city.stops} == served
    assert sum(len(r.patterns) for r in city.routes) > 2 * len(city.routes)  # minor patterns kept too


def test_a_frequency_feed_built_from_a_real_one_gives_its_trip_counts(tmp_path: Path) -> None:
    """The real feeds here have no frequencies.txt rows: turn one real Cairns trip into a frequency trip."""
    source = real_feed("cairns")
    folder = tmp_path / "feed"
    with zipfile.ZipFile(source) as z:
        z.extractall(folder)
    feed = read_feed(folder)
    day = date(2014, 6, 2)
    template = trips_on(feed, day)[100]
    (folder / "frequencies.txt").write_text(
        "trip_id,start_time,end_time,headway_secs,exact_times\n"
        f"{template.trip_id},06:00:00,09:00:00,600,1\n{template.trip_id},09:00:00,16:00:00,1200,0\n")
    city = import_gtfs(folder)
    assert city.feed is not None
    figures = check_day(city, folder, day)
    base = len(trips_on(feed, day))
    assert figures.trips == base - 1 + 18 + 21
    assert trips_in_progress(trips_on(city.feed, day))[0] == figures.peak_in_progress


def test_a_real_feed_with_stops_served_twice_in_a_row_simulates_with_delays() -> None:
    """Cairns has trips that call at one stop twice in a row: a day with delays samples every bus on the
    map, and vehicles may arrive early but never leave a stop before its scheduled departure."""
    source = real_feed("cairns")
    city = import_gtfs(source)
    assert city.feed is not None
    day = date(2014, 6, 2)
    assert [t for t in trips_on(city.feed, day) if any(a == b for a, b in itertools.pairwise(t.stop_ids))]
    svc = service_day(day, ZoneInfo(city.timezone))
    start = datetime.fromtimestamp(svc.at(7 * 3600) / 1000, UTC)
    events = list(simulate(city, start, timedelta(hours=2), 5))
    bus = [e.message for e in events if e.domain == "bus"]
    assert len({m.bus_id for m in bus}) > 20
    assert all(-17.5 < m.latitude < -16.5 and 145 < m.longitude < 146.5 for m in bus)  # Cairns, never (0, 0)
    departures = [e.message for e in events if e.domain == "station" and e.message.kind == StationEventKind.DEPARTURE]
    late = [m for m in departures if m.actual_time_ms != m.scheduled_time_ms]
    assert late and all(m.actual_time_ms > m.scheduled_time_ms for m in late)
