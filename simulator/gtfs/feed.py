"""A GTFS feed read into typed values: stops, routes, trips with their full stop times, frequencies and
the service calendar.

Stop times follow the GTFS reference: times may pass 24:00:00 (seconds after "noon minus 12 h" of
the service date); a stop without times (not a timepoint) gets times interpolated between the
timepoints around it, in proportion to ``shape_dist_traveled`` where the trip gives it for every
stop, else to the straight-line distance between stops, else evenly. A trip must give times at its
first and last stop.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from smartcity.core.errors import FeedError
from smartcity.simulator.gtfs.calendar import ServiceCalendar
from smartcity.simulator.gtfs.tables import FeedFiles, Row
from smartcity.simulator.model import haversine_m, parse_gtfs_time

if TYPE_CHECKING:
    from smartcity.simulator.gtfs.day import DayTrip

log = logging.getLogger("smartcity.simulator")


@dataclass(frozen=True, slots=True)
class FeedStop:
    stop_id: str
    name: str
    lat: float
    lon: float
    parent_station: str


@dataclass(frozen=True, slots=True)
class FeedRoute:
    route_id: str
    short_name: str
    long_name: str
    route_type: int


@dataclass(frozen=True, slots=True)
class FeedTrip:
    """A trip with its stop times (GTFS seconds); ``timepoints`` marks the times the feed gave."""

    trip_id: str
    route_id: str
    service_id: str
    direction_id: int
    block_id: str
    stop_ids: tuple[str, ...]
    arrivals: tuple[int, ...]
    departures: tuple[int, ...]
    timepoints: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Frequency:
    """``frequencies.txt``: the trip runs every ``headway_s`` from ``start_s`` until before ``end_s``."""

    trip_id: str
    start_s: int
    end_s: int
    headway_s: int
    exact_times: bool


@dataclass(slots=True)
class Feed:
    name: str
    timezone: str
    timezone_given: bool
    stops: dict[str, FeedStop]
    routes: dict[str, FeedRoute]
    trips: dict[str, FeedTrip]
    frequencies: dict[str, list[Frequency]]
    calendar: ServiceCalendar
    skipped: list[str] = field(default_factory=list)  # trips left out, with why
    days: dict[frozenset[str], tuple[list[DayTrip], list[list[DayTrip]]]] = field(default_factory=dict, repr=False,
                                                                                   compare=False)
    """Trips and vehicle blocks by the set of services running (``smartcity.simulator.gtfs.blocks.day_plan``)."""


def _time(row: Row, column: str) -> int | None:
    text = row.get(column)
    if not text:
        return None
    try:
        return parse_gtfs_time(text)
    except ValueError:
        raise row.error(f"{column} is not a GTFS time (H:MM:SS): {text[:20]!r}") from None


def _stops(files: FeedFiles) -> dict[str, FeedStop]:
    out = {}
    for row in files.rows("stops.txt", columns=("stop_id",)):
        stop_id = row.need("stop_id")
        if row.get("location_type") in ("3", "4"):  # generic nodes and boarding areas have no use here
            continue
        lat, lon = row.number("stop_lat", default=float("nan")), row.number("stop_lon", default=float("nan"))
        if row.get("location_type", "0") in ("0", "") and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise row.error(f"stop {stop_id} has no valid stop_lat/stop_lon")
        out[stop_id] = FeedStop(stop_id, row.get("stop_name", stop_id), lat, lon, row.get("parent_station"))
    return out


def _routes(files: FeedFiles) -> dict[str, FeedRoute]:
    out = {}
    for row in files.rows("routes.txt", columns=("route_id",)):
        route_id = row.need("route_id")
        out[route_id] = FeedRoute(route_id, row.get("route_short_name"), row.get("route_long_name"),
                                  int(row.number("route_type", int, default=3)))
    return out


def _timezone(files: FeedFiles) -> tuple[str, bool]:
    for row in files.rows("agency.txt", required=False):
        if zone := row.get("agency_timezone"):
            return zone, True
    return "UTC", False


def _interpolate(times: list[int | None], distance: list[float]) -> list[int]:
    """Fill the ``None`` times between given ones in proportion to ``distance`` (cumulative)."""
    out = list(times)
    given = [i for i, t in enumerate(times) if t is not None]
    for a, b in itertools.pairwise(given):
        if b - a < 2:
            continue
        ta, tb = times[a], times[b]
        assert ta is not None and tb is not None
        span = distance[b] - distance[a]
        for i in range(a + 1, b):
            share = (distance[i] - distance[a]) / span if span > 0 else (i - a) / (b - a)
            out[i] = ta + round((tb - ta) * share)
    return [t if t is not None else 0 for t in out]


def _trip_times(trip_id: str, calls: list[tuple[int, Row]], stops: dict[str, FeedStop]
                ) -> tuple[tuple[str, ...], list[int], list[int], list[bool]]:
    calls.sort(key=lambda c: c[0])
    stop_ids, arrivals, departures, given, shape = [], [], [], [], []
    for _, row in calls:
        stop_id = row.need("stop_id")
        if stop_id not in stops:
            raise row.error(f"trip {trip_id} calls at stop {stop_id}, which stops.txt does not have")
        arr, dep = _time(row, "arrival_time"), _time(row, "departure_time")
        arr, dep = (arr if arr is not None else dep), (dep if dep is not None else arr)
        stop_ids.append(stop_id)
        arrivals.append(arr)
        departures.append(dep)
        given.append(arr is not None)
        shape.append(row.get("shape_dist_traveled"))
    first, last = calls[0][1], calls[-1][1]
    if not given[0]:
        raise first.error(f"trip {trip_id} has no time at its first stop")
    if not given[-1]:
        raise last.error(f"trip {trip_id} has no time at its last stop")
    if all(shape):
        try:
            distance = [float(s) for s in shape]
        except ValueError:
            distance = []
    else:
        distance = []
    if not distance:
        distance = [0.0]
        for a, b in itertools.pairwise(stop_ids):
            sa, sb = stops[a], stops[b]
            distance.append(distance[-1] + haversine_m(sa.lat, sa.lon, sb.lat, sb.lon))
    arr_full = _interpolate(arrivals, distance)
    dep_full = _interpolate(departures, distance)
    previous: int | None = None
    for (_, row), arrive, leave in zip(calls, arr_full, dep_full, strict=True):
        if leave < arrive or (previous is not None and arrive < previous):
            raise row.error(f"trip {trip_id} goes back in time at stop {row.need('stop_id')}")
        previous = leave
    return tuple(stop_ids), arr_full, dep_full, given


def _frequencies(files: FeedFiles, trips: dict[str, FeedTrip]) -> dict[str, list[Frequency]]:
    out: dict[str, list[Frequency]] = defaultdict(list)
    for row in files.rows("frequencies.txt", required=False):
        trip_id = row.need("trip_id")
        if trip_id not in trips:
            continue
        start, end = _time(row, "start_time"), _time(row, "end_time")
        headway = int(row.number("headway_secs", int))
        if start is None or end is None:
            raise row.error("start_time and end_time are required")
        if headway <= 0:
            raise row.error(f"headway_secs must be positive, not {headway}")
        out[trip_id].append(Frequency(trip_id, start, end, headway, row.get("exact_times", "0") == "1"))
    return dict(out)


def read_feed(source: str | Path) -> Feed:
    """Read a GTFS feed (folder or zip); ``FeedError`` names the file and row of anything unusable."""
    files = FeedFiles(source)
    try:
        stops, routes = _stops(files), _routes(files)
        timezone, given = _timezone(files)
        raw_trips = {}
        for row in files.rows("trips.txt", columns=("route_id", "service_id", "trip_id")):
            if row.need("route_id") not in routes:
                raise row.error(f"trip {row.need('trip_id')} names route {row.need('route_id')}, "
                                "which routes.txt does not have")
            raw_trips[row.need("trip_id")] = row
        calls: dict[str, list[tuple[int, Row]]] = defaultdict(list)
        for row in files.rows("stop_times.txt", columns=("trip_id", "stop_id", "stop_sequence")):
            trip_id = row.need("trip_id")
            if trip_id not in raw_trips:
                raise row.error(f"trip {trip_id} is not in trips.txt")
            calls[trip_id].append((int(row.number("stop_sequence", int)), row))
        trips, skipped = {}, []
        for trip_id, row in raw_trips.items():
            if len(calls.get(trip_id, ())) < 2:
                skipped.append(f"{trip_id}: fewer than two stop times")
                continue
            stop_ids, arrivals, departures, timepoints = _trip_times(trip_id, calls[trip_id], stops)
            trips[trip_id] = FeedTrip(trip_id, row.need("route_id"), row.need("service_id"),
                                      int(row.number("direction_id", int, default=0)), row.get("block_id"),
                                      stop_ids, tuple(arrivals), tuple(departures), tuple(timepoints))
        calendar = ServiceCalendar.from_rows(files.rows("calendar.txt", required=False),
                                             files.rows("calendar_dates.txt", required=False))
        if not calendar.service_ids:
            raise FeedError(f"the GTFS feed {source} has neither calendar.txt nor calendar_dates.txt services")
        feed = Feed(files.name, timezone, given, stops, routes, trips, _frequencies(files, trips), calendar,
                    skipped)
    finally:
        files.close()
    if not given:
        log.warning("%s has no agency_timezone (agency.txt): its times are taken as UTC", files.name)
    if skipped:
        log.warning("%s: %d trips left out (%s)", files.name, len(skipped), skipped[0])
    return feed
