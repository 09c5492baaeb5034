"""Import a GTFS feed (folder or zip) as a city model whose timetable is the feed.

The feed itself rides along (:attr:`City.feed`): the simulation runs, on each date, exactly the trips
the feed runs that date, to their own stop times, on vehicle blocks from ``block_id`` or chained
across nearby terminals (:mod:`smartcity.simulator.gtfs.blocks`). What the import derives:

- every stop any trip calls at; a stop is a *station* when it has a parent station or serves two or
  more routes;
- per route, every distinct stop sequence its trips run (``Route.patterns``, most used first) and
  the vehicle type of its ``route_type`` (buses: articulated when a direction runs every 7.5 minutes
  or better at its peak, else standard);
- the fleet: per vehicle type, the most blocks any date of the feed needs;
- a summary of hourly headways per route and day type (weekday, Saturday, Sunday, from the busiest
  date of each type), which sets the demand the routes are sized for;
- air sensors, placed by the generator around the network.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

from smartcity.simulator.fleet import MODE_VEHICLE_TYPES, PEAK_LOAD_FACTOR, VEHICLE_TYPES, mode_vehicle
from smartcity.simulator.gtfs.blocks import day_plan
from smartcity.simulator.gtfs.day import DayTrip
from smartcity.simulator.gtfs.feed import Feed, read_feed
from smartcity.simulator.gtfs.headways import hourly_headways
from smartcity.simulator.model import Bus, City, Headway, Route, Stop, VehicleType, haversine_m
from smartcity.simulator.sensor_sites import place_sensors

ARTICULATED_HEADWAY_S = 450  # bus routes this frequent at their peak get articulated buses
_DAY_TYPES = {0: "weekday", 1: "weekday", 2: "weekday", 3: "weekday", 4: "weekday", 5: "saturday", 6: "sunday"}


def service_dates(feed: Feed) -> dict[frozenset[str], list[date]]:
    """The feed's dates grouped by the set of services running (dates of one group run the same trips)."""
    span = feed.calendar.span()
    groups: dict[frozenset[str], list[date]] = defaultdict(list)
    if span is None:
        return {}
    day = span[0]
    while day <= span[1]:
        services = frozenset(feed.calendar.services_on(day))
        if services:
            groups[services].append(day)
        day += timedelta(days=1)
    return dict(groups)


def _patterns(feed: Feed) -> dict[str, list[tuple[str, ...]]]:
    """Per route: the most used stop sequence of each direction (in direction order), then every other
    sequence its trips run, most used first."""
    counts: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    by_direction: dict[tuple[str, int], Counter[tuple[str, ...]]] = defaultdict(Counter)
    for trip in feed.trips.values():
        counts[trip.route_id][trip.stop_ids] += 1
        by_direction[(trip.route_id, trip.direction_id)][trip.stop_ids] += 1
    out: dict[str, list[tuple[str, ...]]] = {}
    for route, c in counts.items():
        main = [max(by_direction[(r, d)].items(), key=lambda kv: (kv[1], kv[0]))[0]
                for r, d in sorted(by_direction) if r == route]
        main = list(dict.fromkeys(main))
        rest = [p for p, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) if p not in main]
        out[route] = main + rest
    return out


def _route_speed(feed: Feed, route_id: str) -> float:
    speeds = []
    for trip in feed.trips.values():
        if trip.route_id != route_id:
            continue
        stops = [feed.stops[s] for s in trip.stop_ids]
        dist = sum(haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(stops))
        moving = trip.arrivals[-1] - trip.departures[0]
        if moving > 0 and dist > 0:
            speeds.append(dist / moving * 3.6)
    return round(min(120.0, max(5.0, statistics.median(speeds))), 1) if speeds else 20.0


def _vehicle(route_type: int, peak_headway_s: int) -> VehicleType:
    mode = mode_vehicle(route_type)
    if mode is not None:
        return next(v for v in MODE_VEHICLE_TYPES if v.name == mode)
    return VEHICLE_TYPES[1] if peak_headway_s <= ARTICULATED_HEADWAY_S else VEHICLE_TYPES[0]


def import_gtfs(folder: str | Path, seed: int = 0, name: str | None = None) -> City:
    """A :class:`City` from a GTFS feed (see the module docstring); ``FeedError`` when it is unusable."""
    feed = read_feed(folder)
    groups = service_dates(feed)
    plans = {services: day_plan(feed, dates[0]) for services, dates in groups.items()}
    day_trips = {services: trips for services, (trips, _) in plans.items()}

    # headways per route and day type, from the busiest date of each type
    busiest: dict[str, frozenset[str]] = {}
    for services, dates in groups.items():
        for kind in {_DAY_TYPES[d.weekday()] for d in dates}:
            if kind not in busiest or len(day_trips[services]) > len(day_trips[busiest[kind]]):
                busiest[kind] = services
    headways: list[Headway] = []
    for kind, services in sorted(busiest.items()):
        starts: dict[tuple[str, int], list[int]] = defaultdict(list)
        for t in day_trips[services]:
            starts[(t.route_id, t.direction_id)].append(t.start_s)
        for route_id in sorted({r for r, _ in starts}):
            main = max((d for r, d in starts if r == route_id), key=lambda d: len(starts[(route_id, d)]))
            headways += hourly_headways(route_id, kind, starts[(route_id, main)])

    patterns = _patterns(feed)
    served: Counter[str] = Counter()
    routes_at: dict[str, set[str]] = defaultdict(set)
    for trip in feed.trips.values():
        for sid in trip.stop_ids:
            served[sid] += 1
            routes_at[sid].add(trip.route_id)
    top = max(served.values(), default=1)
    stops = tuple(
        Stop(sid, feed.stops[sid].name or sid, feed.stops[sid].lat, feed.stops[sid].lon,
             is_station=bool(feed.stops[sid].parent_station) or len(routes_at[sid]) >= 2,
             demand_weight=round(0.5 + 2.5 * math.sqrt(served[sid] / top) + 1.0 * (len(routes_at[sid]) - 1), 2))
        for sid in sorted(served))

    routes: list[Route] = []
    vehicle_of: dict[str, str] = {}
    for route_id, info in feed.routes.items():
        if route_id not in patterns:
            continue
        peak = min((h.headway_s for h in headways if h.route_id == route_id), default=3600)
        vehicle = _vehicle(info.route_type, peak)
        vehicle_of[route_id] = vehicle.name
        routes.append(Route(route_id, info.short_name or route_id, info.long_name, vehicle.name,
                            _route_speed(feed, route_id),
                            round(PEAK_LOAD_FACTOR * vehicle.capacity * 3600 / peak, 1), tuple(patterns[route_id])))

    types = {v.name: v for v in (*VEHICLE_TYPES, *MODE_VEHICLE_TYPES)}
    fleet = _fleet([blocks for _, blocks in plans.values()], vehicle_of, types)
    used_types = tuple(types[n] for n in sorted({*vehicle_of.values()}, key=list(types).index))
    draft = City(name=name or feed.name, timezone=feed.timezone, stops=stops, routes=tuple(routes),
                 headways=tuple(headways), vehicle_types=used_types, fleet=fleet, sensors=())
    n_sensors = max(4, round(40 * (len(stops) / 150) ** 0.75))
    sensors, source = place_sensors(draft, n_sensors, seed)
    zone = feed.timezone if feed.timezone_given else "UTC (the feed gives no agency_timezone)"
    return City(
        name=draft.name, timezone=feed.timezone,
        description=f"Imported from the GTFS feed {feed.name} (time zone {zone}); sensors placed by the "
                    f"generator (seed {seed}).",
        stops=stops, routes=tuple(routes), headways=tuple(headways), vehicle_types=used_types, fleet=fleet,
        sensors=sensors, industrial_source=source, feed=feed)


def _fleet(days: list[list[list[DayTrip]]], vehicle_of: dict[str, str], types: dict[str, VehicleType]
           ) -> tuple[Bus, ...]:
    """Per vehicle type, as many vehicles as the most blocks of that type any date (``days``: each
    date's blocks) needs."""
    need: Counter[str] = Counter()
    first_route: dict[str, list[str]] = {}
    for blocks in days:
        by_type: dict[str, list[str]] = defaultdict(list)
        for block in blocks:
            by_type[vehicle_of[block[0].route_id]].append(block[0].route_id)
        for kind, routes in by_type.items():
            if len(routes) > need[kind]:
                need[kind], first_route[kind] = len(routes), routes
    total = sum(need.values())
    width = max(3, len(str(total)))
    fleet: list[Bus] = []
    for kind in sorted(need, key=list(types).index):
        vt = types[kind]
        for route_id in first_route[kind]:
            fleet.append(Bus(f"B{len(fleet) + 1:0{width}d}", route_id, vt.name, vt.seated_capacity, vt.capacity))
    return tuple(fleet)
