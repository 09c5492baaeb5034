"""Reading a GTFS feed exactly: service calendars, frequencies, interpolated times, blocks, and errors that
name the file and row. Small hand-made feeds aimed at one rule each; real feeds are in test_gtfs_real.py."""

from __future__ import annotations

import logging
import zipfile
from datetime import date
from pathlib import Path

import pytest

from smartcity.core.errors import FeedError
from smartcity.simulator.gtfs import read_feed, trips_in_progress, trips_on, vehicle_blocks
from smartcity.simulator.gtfs.blocks import vehicles_at
from smartcity.simulator.model import haversine_m

AGENCY = "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,https://example.org,America/Chicago\n"
STOPS = """stop_id,stop_name,stop_lat,stop_lon
T1,Terminal north arrival,41.9000,-87.6300
T1D,Terminal north departure,41.9002,-87.6301
M,Middle,41.8900,-87.6300
M2,Middle two,41.8850,-87.6300
T2,Terminal south,41.8800,-87.6300
FAR,Far away,41.7000,-87.9000
"""
ROUTES = "route_id,route_short_name,route_long_name,route_type\nR,1,One,3\nL,L,Rail,1\n"
WEEK = "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"


def write_feed(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {"agency.txt": AGENCY, "stops.txt": STOPS, "routes.txt": ROUTES}
    for name, text in {**base, **files}.items():
        if text is not None:
            (folder / name).write_text(text)
    return folder


def stop_times(*trips: tuple[str, list[tuple[str, str, str]]]) -> str:
    lines = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for trip_id, calls in trips:
        lines += [f"{trip_id},{a},{d},{s},{i}" for i, (s, a, d) in enumerate(calls, start=1)]
    return "\n".join(lines) + "\n"


SOUTH = [("T1D", "08:00:00", "08:00:00"), ("M", "08:05:00", "08:06:00"), ("T2", "08:15:00", "08:15:00")]


def test_a_friday_only_service_runs_on_fridays_and_exceptions_apply(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path, {
        "calendar.txt": WEEK + "FRI,0,0,0,0,1,0,0,20250101,20251231\nWK,1,1,1,1,1,0,0,20250101,20251231\n",
        "calendar_dates.txt": "service_id,date,exception_type\nWK,20250704,2\nFRI,20250710,1\n",
        "trips.txt": "route_id,service_id,trip_id\nR,FRI,night\nR,WK,day\n",
        "stop_times.txt": stop_times(("night", SOUTH), ("day", SOUTH)),
    }))
    def ids(d: date) -> list[str]:
        return [t.trip_id for t in trips_on(feed, d)]
    assert ids(date(2025, 7, 7)) == ["day"]  # Monday
    assert ids(date(2025, 7, 4)) == ["night"]  # Friday, the weekday service removed (a holiday)
    assert ids(date(2025, 7, 10)) == ["day", "night"]  # a Thursday with the night service added
    assert ids(date(2025, 7, 12)) == []  # Saturday
    assert ids(date(2026, 1, 2)) == []  # after end_date


def test_a_calendar_dates_only_feed_runs_each_service_on_its_dates(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path, {
        "calendar_dates.txt": "service_id,date,exception_type\nS1,20250705,1\nS2,20250706,1\nS2,20250707,1\n",
        "trips.txt": "route_id,service_id,trip_id\nR,S1,a\nR,S2,b\n",
        "stop_times.txt": stop_times(("a", SOUTH), ("b", SOUTH)),
    }))
    assert [t.trip_id for t in trips_on(feed, date(2025, 7, 5))] == ["a"]
    assert [t.trip_id for t in trips_on(feed, date(2025, 7, 6))] == ["b"]
    assert trips_on(feed, date(2025, 7, 8)) == []
    assert feed.calendar.span() == (date(2025, 7, 5), date(2025, 7, 7))


def test_frequencies_expand_into_their_trips_with_the_template_spacing(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path, {
        "calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,f\nR,WK,g\n",
        "stop_times.txt": stop_times(("f", SOUTH), ("g", SOUTH)),
        "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
                           "f,07:00:00,08:00:00,600,1\nf,08:00:00,09:00:00,1200,1\ng,23:50:00,24:30:00,900,0\n",
    }))
    day = trips_on(feed, date(2025, 7, 7))
    f_starts = [t.start_s for t in day if t.trip_id.startswith("f@")]
    assert f_starts == [7 * 3600 + 600 * i for i in range(6)] + [8 * 3600 + 1200 * i for i in range(3)]
    g = [t for t in day if t.trip_id.startswith("g@")]
    assert [t.trip_id for t in g] == ["g@23:50:00", "g@24:05:00", "g@24:20:00"]
    assert all(t.arrivals[-1] - t.departures[0] == 15 * 60 for t in day)
    assert g[-1].arrivals == (24 * 3600 + 1200, 24 * 3600 + 1500, 24 * 3600 + 2100)


def test_empty_times_are_interpolated_by_distance_and_by_shape_distance(tmp_path: Path) -> None:
    calls = [("T1D", "08:00:00", "08:00:00"), ("M", "", ""), ("M2", "", ""), ("T2", "08:20:00", "08:20:00")]
    shaped = "trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n" + "\n".join(
        f"s,{a},{d},{stop},{i},{dist}"
        for i, ((stop, a, d), dist) in enumerate(zip(calls, (0, 1, 3, 4), strict=True), 1)) + "\n"
    feed = read_feed(write_feed(tmp_path, {
        "calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,d\n",
        "stop_times.txt": stop_times(("d", calls)),
    }))
    trip = feed.trips["d"]
    assert trip.timepoints == (True, False, False, True)
    legs = [haversine_m(feed.stops[a].lat, feed.stops[a].lon, feed.stops[b].lat, feed.stops[b].lon)
            for a, b in zip(trip.stop_ids, trip.stop_ids[1:], strict=False)]
    share = [sum(legs[:i]) / sum(legs) for i in (1, 2)]
    assert trip.arrivals[1:3] == tuple(8 * 3600 + round(1200 * x) for x in share)
    (tmp_path / "stop_times.txt").write_text(shaped.replace("s,", "d,"))
    assert read_feed(tmp_path).trips["d"].arrivals == (28800, 28800 + 300, 28800 + 900, 28800 + 1200)


def test_repeated_stops_and_times_past_midnight_are_kept(tmp_path: Path) -> None:
    calls = [("T1D", "25:10:00", "25:10:00"), ("M", "25:15:00", "25:15:00"), ("M", "25:15:00", "25:16:00"),
             ("T2", "25:30:00", "25:30:00")]
    feed = read_feed(write_feed(tmp_path, {
        "calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,late\n",
        "stop_times.txt": stop_times(("late", calls)),
    }))
    trip = feed.trips["late"]
    assert trip.stop_ids == ("T1D", "M", "M", "T2")
    assert trip.departures == (90600, 90900, 90960, 91800)


@pytest.mark.parametrize(("files", "message"), [
    ({"stops.txt": None}, "has no stops.txt"),
    ({"stop_times.txt": stop_times(("d", [("T1D", "08:00:00", "08:00:00"), ("M", "8:0x:00", ""),
                                          ("T2", "08:20:00", "08:20:00")]))},
     "stop_times.txt line 3: arrival_time is not a GTFS time"),
    ({"stop_times.txt": stop_times(("d", [("T1D", "08:00:00", "08:00:00"), ("NOPE", "08:05:00", "08:05:00")]))},
     "stop_times.txt line 3: trip d calls at stop NOPE"),
    ({"stop_times.txt": stop_times(("d", [("T1D", "08:00:00", "08:00:00"), ("T2", "07:05:00", "07:05:00")]))},
     "stop_times.txt line 3: trip d goes back in time"),
    ({"stop_times.txt": stop_times(("d", [("T1D", "", ""), ("T2", "07:05:00", "07:05:00")]))},
     "stop_times.txt line 2: trip d has no time at its first stop"),
    ({"trips.txt": "route_id,service_id,trip_id\nX,WK,d\n"}, "trips.txt line 2: trip d names route X"),
    ({"calendar.txt": WEEK + "WK,1,1,1,1,yes,1,1,20250101,20251231\n"}, "calendar.txt line 2: friday must be 0 or 1"),
    ({"calendar.txt": None}, "neither calendar.txt nor calendar_dates.txt"),
])
def test_an_unusable_feed_is_one_line_naming_file_and_row(tmp_path: Path, files: dict[str, str | None],
                                                          message: str) -> None:
    base = {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
            "trips.txt": "route_id,service_id,trip_id\nR,WK,d\n", "stop_times.txt": stop_times(("d", SOUTH))}
    folder = write_feed(tmp_path / "feed", {k: v for k, v in {**base, **files}.items() if v is not None})
    for name, text in files.items():
        if text is None and (folder / name).exists():
            (folder / name).unlink()
    with pytest.raises(FeedError) as caught:
        read_feed(folder)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_time_zone_is_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_feed(tmp_path, {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
                                   "trips.txt": "route_id,service_id,trip_id\nR,WK,d\n",
                                   "stop_times.txt": stop_times(("d", SOUTH))})
    (folder / "agency.txt").unlink()
    with caplog.at_level(logging.WARNING):
        feed = read_feed(folder)
    assert feed.timezone == "UTC" and not feed.timezone_given
    assert "no agency_timezone" in caplog.text


def test_a_zipped_feed_in_a_subfolder_reads_like_a_folder(tmp_path: Path) -> None:
    folder = write_feed(tmp_path / "feed", {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
                                            "trips.txt": "route_id,service_id,trip_id\nR,WK,d\n",
                                            "stop_times.txt": stop_times(("d", SOUTH))})
    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in folder.iterdir():
            z.write(p, f"inner/{p.name}")
    assert read_feed(archive).trips == read_feed(folder).trips


def test_chaining_crosses_a_terminal_with_separate_arrival_and_departure_stops(tmp_path: Path) -> None:
    # northbound trips end at T1 (arrival stop), southbound ones leave from T1D 22 m away
    trips, times = ["route_id,service_id,trip_id,direction_id"], []
    for i in range(12):
        t = 6 * 3600 + 1800 * i
        trips += [f"R,WK,s{i},0", f"R,WK,n{i},1"]
        times += [(f"s{i}", [("T1D", hms(t), hms(t)), ("T2", hms(t + 900), hms(t + 900))]),
                  (f"n{i}", [("T2", hms(t + 900), hms(t + 900)), ("T1", hms(t + 1800), hms(t + 1800))])]
    feed = read_feed(write_feed(tmp_path, {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
                                           "trips.txt": "\n".join(trips) + "\n",
                                           "stop_times.txt": stop_times(*times)}))
    day = trips_on(feed, date(2025, 7, 7))
    blocks = vehicle_blocks(day, feed.stops)
    peak, _ = trips_in_progress(day)
    assert peak == 1 and len(blocks) == 1 and len(blocks[0]) == 24
    # a terminal too far away for a deadhead keeps vehicles apart
    assert len(vehicle_blocks(day, feed.stops, radius_m=10)) == 12


def test_feed_blocks_are_kept_and_vehicles_on_the_road_match_trips_in_progress(tmp_path: Path) -> None:
    trips = "route_id,service_id,trip_id,block_id\nR,WK,a,B1\nR,WK,b,B1\nR,WK,c,\nL,WK,d,\n"
    times = stop_times(
        ("a", SOUTH),
        ("b", [("T2", "08:20:00", "08:20:00"), ("FAR", "09:00:00", "09:00:00")]),
        ("c", [("T2", "08:15:00", "08:15:00"), ("T1", "08:30:00", "08:30:00")]),
        ("d", [("FAR", "08:10:00", "08:10:00"), ("T1", "08:50:00", "08:50:00")]))
    feed = read_feed(write_feed(tmp_path, {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
                                           "trips.txt": trips, "stop_times.txt": times}))
    day = trips_on(feed, date(2025, 7, 7))
    blocks = vehicle_blocks(day, feed.stops)
    assert sorted([t.trip_id for t in b] for b in blocks) == [["a", "b"], ["c"], ["d"]]
    for minute in range(8 * 60, 9 * 60 + 1):
        at = minute * 60
        assert vehicles_at(blocks, at) == sum(t.start_s <= at < t.end_s for t in day)
    assert trips_in_progress(day)[0] == 3


def hms(seconds: int) -> str:
    h, rem = divmod(seconds, 3600)
    return f"{h:02d}:{rem // 60:02d}:{rem % 60:02d}"


def test_the_cli_names_what_is_wrong_with_a_feed_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = write_feed(tmp_path / "feed", {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
                                            "trips.txt": "route_id,service_id,trip_id\nR,WK,d\n",
                                            "stop_times.txt": stop_times(("d", SOUTH))})
    (folder / "stops.txt").unlink()
    result = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "simulate", "--city", str(folder), "--to",
                             "files", "--output", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"smartcity: error: the GTFS feed {folder} has no stops.txt"]


def test_a_stop_served_twice_in_a_row_is_a_zero_length_segment_buses_get_through(tmp_path: Path) -> None:
    """A zero-length segment used to raise ZeroDivisionError when a bus was sampled on it: hold every
    segment up (incident rate 1) so buses spend time on it."""
    from datetime import UTC, datetime, timedelta

    from smartcity.simulator import SimConfig, import_gtfs, simulate

    calls = [("T1D", "08:00:00", "08:00:00"), ("M", "08:05:00", "08:05:00"), ("M", "08:05:00", "08:06:00"),
             ("T2", "08:15:00", "08:15:00")]
    city = import_gtfs(write_feed(tmp_path, {"calendar.txt": WEEK + "WK,1,1,1,1,1,1,1,20250101,20251231\n",
                                             "trips.txt": "route_id,service_id,trip_id\nR,WK,twice\n",
                                             "stop_times.txt": stop_times(("twice", calls))}))
    start = datetime(2025, 7, 7, 12, 55, tzinfo=UTC)  # 07:55 in Chicago
    bus = [e.message for e in simulate(city, start, timedelta(minutes=40), 1, domains=("bus",),
                                       config=SimConfig(incident_rate=1.0))]
    on_it = [m for m in bus if m.stop_sequence == 3 and m.current_status != 1]  # moving from M to M
    assert on_it and all(m.latitude == pytest.approx(41.89) for m in on_it)
