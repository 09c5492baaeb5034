"""Import a static GTFS feed folder as a city model.

Reads ``stops.txt``, ``routes.txt``, ``trips.txt`` and ``stop_times.txt`` (``calendar.txt`` and
``agency.txt`` when present). Per route and direction the most frequent stop sequence becomes
the pattern. Headways come from the trips' first departures: per hour of the service day, the
median gap between consecutive departures (GTFS times past 24:00:00 are kept as seconds).
Services map to weekday / saturday / sunday through ``calendar.txt`` (without it every service
runs every day). The fleet is sized from the resulting timetable, and air sensors are placed
by the generator around the network.
"""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from smartcity.simulator.fleet import PEAK_LOAD_FACTOR, VEHICLE_TYPES, size_fleet
from smartcity.simulator.model import SERVICE_IDS, City, Headway, Route, Stop, haversine_m, parse_gtfs_time
from smartcity.simulator.profiles import TRAFFIC, at_hour, congestion
from smartcity.simulator.sensor_sites import place_sensors

_DAY_FLAGS = {"weekday": ("monday", "tuesday", "wednesday", "thursday", "friday"),
              "saturday": ("saturday",), "sunday": ("sunday",)}
ARTICULATED_HEADWAY_S = 450  # routes this frequent at their peak get articulated buses
_MEAN_CONGESTION = statistics.fmean(congestion(at_hour(TRAFFIC["weekday"], h + 0.5)) for h in range(6, 22))


def _read(folder: Path, name: str, required: bool = True) -> list[dict[str, str]]:
    path = folder / name
    if not path.exists():
        if required:
            raise FileNotFoundError(f"GTFS feed {folder} has no {name}")
        return []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
                for row in csv.DictReader(fh)]


def _service_types(folder: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in _read(folder, "calendar.txt", required=False):
        out[row["service_id"]] = {s for s, days in _DAY_FLAGS.items() if any(row.get(d) == "1" for d in days)}
    return out


def _headways(route_id: str, service_id: str, first_departures: list[int]) -> list[Headway]:
    """Hourly headway rows reproducing a list of departure times (GTFS seconds)."""
    deps = sorted(set(first_departures))
    if not deps:
        return []
    gaps = [b - a for a, b in itertools.pairwise(deps)]
    by_hour: dict[int, list[int]] = defaultdict(list)
    first_in_hour: dict[int, int] = {}
    for d, g in zip(deps, [*gaps, None], strict=True):
        h = d // 3600
        first_in_hour.setdefault(h, d)
        if g is not None and g <= 2 * 3600:
            by_hour[h].append(g)
    rows: list[Headway] = []
    last = deps[-1]
    for h in sorted(first_in_hour):
        # a bin with no gap holds the day's last departure: keep the headway before it
        previous = rows[-1].headway_s if rows else 3600
        headway = round(statistics.median(by_hour[h])) if by_hour[h] else previous
        start = first_in_hour[h] if not rows or rows[-1].end_s < h * 3600 else h * 3600
        end = min((h + 1) * 3600, last + 1)
        if rows and rows[-1].end_s == start and rows[-1].headway_s == headway:
            rows[-1] = Headway(route_id, service_id, rows[-1].start_s, end, headway)
        else:
            rows.append(Headway(route_id, service_id, start, end, headway))
    return rows


def import_gtfs(folder: str | Path, seed: int = 0, name: str | None = None) -> City:
    """A :class:`City` from a GTFS feed folder (see the module docstring for the derivations)."""
    feed = Path(folder)
    stops_raw = {r["stop_id"]: r for r in _read(feed, "stops.txt")}
    routes_raw = _read(feed, "routes.txt")
    trips_raw = {r["trip_id"]: r for r in _read(feed, "trips.txt")}
    service_types = _service_types(feed)
    agency = _read(feed, "agency.txt", required=False)
    timezone = (agency[0].get("agency_timezone") or "UTC") if agency else "UTC"

    calls: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)
    for r in _read(feed, "stop_times.txt"):
        if r["trip_id"] not in trips_raw:
            continue
        arr = r.get("arrival_time") or r.get("departure_time") or ""
        dep = r.get("departure_time") or arr
        calls[r["trip_id"]].append((int(r["stop_sequence"]), r["stop_id"],
                                    parse_gtfs_time(arr) if arr else -1, parse_gtfs_time(dep) if dep else -1))

    patterns: dict[tuple[str, int], Counter[tuple[str, ...]]] = defaultdict(Counter)
    first_dep: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    run_speeds: dict[str, list[float]] = defaultdict(list)
    trips_at_stop: Counter[str] = Counter()
    routes_at_stop: dict[str, set[str]] = defaultdict(set)
    for trip_id, seq in calls.items():
        seq.sort()
        trip = trips_raw[trip_id]
        route_id = trip["route_id"]
        direction = int(trip.get("direction_id") or 0)
        stop_ids = tuple(s for _, s, _, _ in seq if s in stops_raw)
        if len(stop_ids) < 2:
            continue
        patterns[(route_id, direction)][stop_ids] += 1
        for sid in stop_ids:
            trips_at_stop[sid] += 1
            routes_at_stop[sid].add(route_id)
        start = seq[0][3] if seq[0][3] >= 0 else seq[0][2]
        end = seq[-1][2] if seq[-1][2] >= 0 else seq[-1][3]
        for service in service_types.get(trip["service_id"], set(SERVICE_IDS)):
            first_dep[(route_id, direction, service)].append(start)
        dist = sum(haversine_m(float(stops_raw[a]["stop_lat"]), float(stops_raw[a]["stop_lon"]),
                               float(stops_raw[b]["stop_lat"]), float(stops_raw[b]["stop_lon"]))
                   for a, b in itertools.pairwise(stop_ids))
        moving = end - start - 15 * max(0, len(stop_ids) - 2)
        if moving > 0 and dist > 0:
            run_speeds[route_id].append(dist / moving * 3.6 * _MEAN_CONGESTION)

    used = sorted(trips_at_stop)
    busiest = max(trips_at_stop.values(), default=1)
    stops = tuple(
        Stop(
            stop_id=sid,
            name=stops_raw[sid].get("stop_name") or sid,
            lat=float(stops_raw[sid]["stop_lat"]),
            lon=float(stops_raw[sid]["stop_lon"]),
            is_station=bool(stops_raw[sid].get("parent_station")) or len(routes_at_stop[sid]) >= 2,
            demand_weight=round(0.5 + 2.5 * math.sqrt(trips_at_stop[sid] / busiest)
                                + 1.0 * (len(routes_at_stop[sid]) - 1), 2),
        )
        for sid in used
    )

    routes: list[Route] = []
    headways: list[Headway] = []
    for r in routes_raw:
        route_id = r["route_id"]
        directions = sorted(d for (rid, d) in patterns if rid == route_id)
        if not directions:
            continue
        pats = tuple(patterns[(route_id, d)].most_common(1)[0][0] for d in directions)
        main = max(directions, key=lambda d: sum(patterns[(route_id, d)].values()))
        rows = [row for service in SERVICE_IDS
                for row in _headways(route_id, service, first_dep.get((route_id, main, service), []))]
        peak = min((h.headway_s for h in rows), default=3600)
        vehicle = VEHICLE_TYPES[1] if peak <= ARTICULATED_HEADWAY_S else VEHICLE_TYPES[0]
        speed = statistics.median(run_speeds[route_id]) if run_speeds[route_id] else 20.0
        routes.append(Route(
            route_id=route_id,
            short_name=r.get("route_short_name") or route_id,
            long_name=r.get("route_long_name") or "",
            vehicle_type=vehicle.name,
            speed_kmh=round(min(60.0, max(8.0, speed)), 1),
            peak_demand_pph=round(PEAK_LOAD_FACTOR * vehicle.capacity * 3600 / peak, 1),
            patterns=pats,
        ))
        headways += rows

    draft = City(name=name or feed.name, timezone=timezone, stops=stops, routes=tuple(routes),
                 headways=tuple(headways), vehicle_types=VEHICLE_TYPES, fleet=(), sensors=())
    n_sensors = max(4, round(40 * (len(stops) / 150) ** 0.75))
    sensors, source = place_sensors(draft, n_sensors, seed)
    return City(
        name=draft.name,
        timezone=timezone,
        description=f"Imported from the GTFS feed {feed.name}; sensors placed by the generator "
                    f"(seed {seed}).",
        stops=stops,
        routes=tuple(routes),
        headways=tuple(headways),
        vehicle_types=VEHICLE_TYPES,
        fleet=size_fleet(draft),
        sensors=sensors,
        industrial_source=source,
    )
