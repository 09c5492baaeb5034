"""Service days, scheduled trips from headways, and vehicle blocks.

A service day runs from 03:00 local time to 03:00 the next day; timetable times are GTFS
seconds after "noon minus 12 h" of the service date. Trips are generated from the headway
table; blocks chain a vehicle's consecutive trips (a bus arriving at a terminal takes a later
departure from that terminal after a recovery time).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smartcity.simulator.config import DwellParams
from smartcity.simulator.geometry import PatternGeometry
from smartcity.simulator.model import City, Headway, Route
from smartcity.simulator.profiles import DEMAND, TRAFFIC, at_hour, congestion, service_id_for_weekday

SERVICE_DAY_START_S = 3 * 3600  # a service day begins at 03:00 local (GTFS seconds)
SERVICE_DAY_LENGTH_S = 24 * 3600
RECOVERY_S = 240  # scheduled minimum layover at a terminal between two trips of a block
DEADHEAD_S = 600  # time to move an idle bus to another terminal of its route
DWELL = DwellParams()  # the dwell model the schedule is planned with


@dataclass(frozen=True, slots=True)
class ServiceDay:
    """One service date in the city's time zone."""

    date: date
    service_id: str  # weekday | saturday | sunday
    origin_ms: int  # UTC ms of local noon minus 12 h on ``date``

    @property
    def start_ms(self) -> int:
        return self.origin_ms + SERVICE_DAY_START_S * 1000

    def at(self, seconds: float) -> int:
        """UTC ms of a GTFS time (seconds after noon minus 12 h) on this day."""
        return self.origin_ms + round(seconds * 1000)


def service_day(d: date, tz: ZoneInfo) -> ServiceDay:
    noon = datetime.combine(d, time(12), tzinfo=tz)
    origin_ms = round(noon.timestamp() * 1000) - 12 * 3600 * 1000
    return ServiceDay(d, service_id_for_weekday(d.weekday()), origin_ms)


def service_day_containing(t_ms: int, tz: ZoneInfo) -> ServiceDay:
    """The service day whose [03:00, 03:00 next day) window contains ``t_ms``."""
    local_date = datetime.fromtimestamp(t_ms / 1000, tz).date()
    for d in (local_date, local_date - timedelta(days=1)):
        day = service_day(d, tz)
        if t_ms >= day.start_ms:
            return day
    return service_day(local_date - timedelta(days=2), tz)


@dataclass(frozen=True, slots=True)
class Trip:
    """A scheduled trip: departure from the first stop and per-stop scheduled offsets (ms).
    ``pattern`` indexes ``Route.patterns`` (the direction in a generated city)."""

    trip_id: str
    route_id: str
    direction_id: int
    pattern: int
    start_ms: int
    arr_off_ms: tuple[int, ...]
    dep_off_ms: tuple[int, ...]
    first_stop_id: str
    last_stop_id: str

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.arr_off_ms[-1]


def departures(rows: Iterable[Headway]) -> list[int]:
    """Departure times (GTFS seconds) implied by consecutive headway rows."""
    out: list[int] = []
    t: int | None = None
    for row in sorted(rows, key=lambda h: h.start_s):
        if row.headway_s <= 0:
            continue
        t = row.start_s if t is None else max(t, row.start_s)
        while t < row.end_s:
            out.append(t)
            t += row.headway_s
    return out


def expected_dwells(city: City, route: Route, geom: PatternGeometry, demand_level: float, headway_s: int,
                    dwell: DwellParams = DWELL) -> list[float]:
    """Mean TCQSM dwell (s) per stop for a bus of ``route`` at a demand level and headway.

    Boardings at stop k are its share of the route's demand accumulated over one headway;
    alightings follow the stop weights among the stops still ahead (as in the bus model).
    """
    vt = city.vehicle_type(route.vehicle_type)
    weights = [max(0.0, city.stop(sid).demand_weight) for sid in geom.stop_ids]
    board_w = sum(weights[:-1]) or 1.0
    per_bus = route.peak_demand_pph * demand_level * headway_s / 3600.0
    load = 0.0
    out = []
    last = len(weights) - 1
    for k, w in enumerate(weights):
        ahead = sum(weights[k:])
        alight = load if k == last else (load * w / ahead if k > 0 and ahead > 0 else 0.0)
        board = 0.0 if k == last else min(per_bus * w / board_w, vt.capacity - (load - alight))
        load += board - alight
        t_b = dwell.board_s + (dwell.crowding_s if load > vt.seated_capacity else 0.0)
        busy = 1.0 - math.exp(-(board + alight))
        out.append(dwell.door_s * busy + alight * vt.alighting_share * dwell.alight_s
                   + board * vt.boarding_share * t_b)
    return out


def schedule_offsets(geom: PatternGeometry, speed_kmh: float, run_factor: float,
                     dwell_s: Sequence[float]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Scheduled arrival and departure offsets (ms) from the first departure.

    Run time per segment is length / speed * ``run_factor`` (congestion); intermediate stops get
    their ``dwell_s``; both are rounded to whole seconds.
    """
    v = speed_kmh / 3.6
    arr = [0]
    dep = [0]
    last = len(geom.stop_ids) - 1
    for i, seg in enumerate(geom.seg_len_m):
        a = dep[-1] + round(seg / v * run_factor) * 1000
        arr.append(a)
        dep.append(a if i + 1 == last else a + round(dwell_s[i + 1]) * 1000)
    return tuple(arr), tuple(dep)


def route_headways(city: City) -> dict[tuple[str, str], list[Headway]]:
    out: dict[tuple[str, str], list[Headway]] = defaultdict(list)
    for h in city.headways:
        out[(h.route_id, h.service_id)].append(h)
    return out


def _headway_at(rows: Sequence[Headway], t: int) -> int:
    for h in rows:
        if h.start_s <= t < h.end_s:
            return h.headway_s
    return max((h.headway_s for h in rows), default=3600)


def route_trips(city: City, route: Route, geoms: Mapping[tuple[str, int], PatternGeometry],
                rows: Sequence[Headway], day: ServiceDay,
                cache: dict[tuple[object, ...], tuple[tuple[int, ...], tuple[int, ...]]] | None = None,
                ) -> list[Trip]:
    """All trips of ``route`` on ``day`` in both directions, sorted by departure.

    Scheduled run times follow the traffic expected at the trip's quarter hour and scheduled
    dwells the demand expected then (:func:`expected_dwells`). ``cache`` keeps schedules across
    calls for the same city.
    """
    times = departures(rows)
    stamp = day.date.strftime("%Y%m%d")
    cache = {} if cache is None else cache
    trips: list[Trip] = []
    for direction in range(len(route.patterns)):
        geom = geoms.get((route.route_id, direction))
        if geom is None:
            continue
        for t in times:
            # schedule for the traffic expected ten minutes into the trip, per quarter hour
            q = int((t + 600) // 900)
            key = (route.route_id, direction, day.service_id, q, _headway_at(rows, t))
            if key not in cache:
                hour = (q + 0.5) / 4.0
                run = congestion(at_hour(TRAFFIC[day.service_id], hour))
                dwells = expected_dwells(city, route, geom, at_hour(DEMAND[day.service_id], hour),
                                         _headway_at(rows, t))
                cache[key] = schedule_offsets(geom, route.speed_kmh, run, dwells)
            arr, dep = cache[key]
            hh, rem = divmod(t, 3600)
            trips.append(Trip(
                trip_id=f"{route.route_id}-{stamp}-{direction}-{hh:02d}{rem // 60:02d}{rem % 60:02d}",
                route_id=route.route_id,
                direction_id=direction,
                pattern=direction,
                start_ms=day.at(t),
                arr_off_ms=arr,
                dep_off_ms=dep,
                first_stop_id=geom.stop_ids[0],
                last_stop_id=geom.stop_ids[-1],
            ))
    trips.sort(key=lambda tr: (tr.start_ms, tr.direction_id))
    return trips


def build_blocks(trips: Sequence[Trip], bus_ids: Sequence[str],
                 recovery_s: int = RECOVERY_S) -> tuple[dict[str, list[Trip]], int]:
    """Chain trips into vehicle blocks; returns the blocks and the number of trips left unserved.

    A departure takes the bus that arrived at its terminal most recently and is ready (arrival +
    recovery); otherwise an unused bus; otherwise a bus idle at another terminal that can
    deadhead in time. Buses are used in ``bus_ids`` order.
    """
    idle: dict[str, list[tuple[int, int]]] = defaultdict(list)  # stop -> sorted (ready_ms, bus index)
    blocks: dict[str, list[Trip]] = {b: [] for b in bus_ids}
    next_unused = 0
    unserved = 0
    rec = recovery_s * 1000
    for trip in sorted(trips, key=lambda tr: (tr.start_ms, tr.direction_id)):
        here = idle[trip.first_stop_id]
        i = bisect.bisect_right(here, (trip.start_ms - rec, len(bus_ids)))
        if i > 0:
            _, bus = here.pop(i - 1)
        elif next_unused < len(bus_ids):
            bus = next_unused
            next_unused += 1
        else:
            best: tuple[int, str, int] | None = None
            for stop, waiting in idle.items():
                j = bisect.bisect_right(waiting, (trip.start_ms - rec - DEADHEAD_S * 1000, len(bus_ids)))
                if j > 0 and (best is None or waiting[j - 1][0] > best[0]):
                    best = (waiting[j - 1][0], stop, j - 1)
            if best is None:
                unserved += 1
                continue
            _, bus = idle[best[1]].pop(best[2])
        blocks[bus_ids[bus]].append(trip)
        bisect.insort(idle[trip.last_stop_id], (trip.end_ms, bus))
    return blocks, unserved


def fleet_requirement(city: City, route: Route, geoms: Mapping[tuple[str, int], PatternGeometry],
                      rows_by_service: Mapping[str, Sequence[Headway]], tz: ZoneInfo) -> int:
    """Buses needed to run the route's busiest service day without leaving trips unserved."""
    need = 0
    reference = {"weekday": date(2025, 1, 15), "saturday": date(2025, 1, 18), "sunday": date(2025, 1, 19)}
    for service_id, rows in rows_by_service.items():
        if not rows or service_id not in reference:
            continue
        trips = route_trips(city, route, geoms, rows, service_day(reference[service_id], tz))
        blocks, _ = build_blocks(trips, [str(i) for i in range(len(trips))])
        need = max(need, sum(1 for b in blocks.values() if b))
    return need
