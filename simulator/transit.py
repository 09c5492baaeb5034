"""The bus and station model: a discrete-event simulation sampled into telemetry.

Buses run the blocks of the day's timetable. At each stop a bus arrives, passengers alight
(each with a probability given by the stop's weight among the stops still ahead), waiting
passengers board up to the total capacity (the rest stay in the queue), and the bus dwells for
the TCQSM time ``t_d = P_a*t_a + P_b*t_b + t_oc``. Run times between stops follow road traffic
(the shared traffic profile), a per-trip factor, lognormal noise and occasional hold-ups.
Buses hold at the first stop until the scheduled departure but never at intermediate stops.

That is enough for bunching to emerge on its own: a late bus meets a longer queue, dwells
longer and falls further behind, while its follower finds fewer passengers and catches up.

Telemetry is sampled every ``bus_interval_s`` of event time per bus (each bus has its own phase
inside the period); station events are emitted at the arrival and departure instants, and every
``station_count_interval_s`` as a PASSENGER_COUNT.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

from smartcity.proto import BusTelemetry, StationEvent, StationEventKind, VehicleStopStatus
from smartcity.simulator.config import SimConfig, to_ms
from smartcity.simulator.demand import NEVER_MS, Pool
from smartcity.simulator.events import SimEvent
from smartcity.simulator.geometry import PatternGeometry, city_geometries
from smartcity.simulator.model import City
from smartcity.simulator.occupancy import occupancy_tables
from smartcity.simulator.profiles import DEMAND, TRAFFIC, congestion, quarter_hours
from smartcity.simulator.timetable import (
    SERVICE_DAY_START_S,
    ServiceDay,
    Trip,
    build_blocks,
    route_headways,
    route_trips,
    service_day,
    service_day_containing,
)

_DAY, _PULLOUT, _ARRIVE, _DEPART, _COUNT = range(5)
_QUARTERS = 100  # quarter hours of congestion and demand per service day (25 h)
_BOARD_LEAD_MS = 60_000  # boarding at the first stop starts this long before departure
_GOLDEN = 0.6180339887498949
ACCEL_MPS2 = 1.0  # acceleration and braking of a bus (m/s²)
MAX_SPEED_MPS = 15.0  # urban speed limit (54 km/h): no run between stops is faster than this allows

_STOPPED = VehicleStopStatus.STOPPED_AT
_INCOMING = VehicleStopStatus.INCOMING_AT
_IN_TRANSIT = VehicleStopStatus.IN_TRANSIT_TO
_ARRIVAL = StationEventKind.ARRIVAL
_DEPARTURE = StationEventKind.DEPARTURE
_COUNT_KIND = StationEventKind.PASSENGER_COUNT


class _Pattern:
    """Runtime view of one route direction: geometry as lists, queues and alighting odds."""

    __slots__ = (
        "bearings", "cum", "direction_id", "is_station", "last", "lats", "lons", "p_alight",
        "pools", "route_id", "segs", "speed_mps", "stop_ids"
    )

    def __init__(self, geom: PatternGeometry, weights: list[float], stations: set[str], speed_kmh: float,
                 share_per_s: float, max_waiting: int) -> None:
        self.route_id = geom.route_id
        self.direction_id = geom.direction_id
        self.stop_ids = geom.stop_ids
        self.lats = geom.lats
        self.lons = geom.lons
        self.cum = geom.cum_m
        self.bearings = geom.bearings
        self.last = len(geom.stop_ids) - 1
        self.is_station = [sid in stations for sid in geom.stop_ids]
        self.speed_mps = speed_kmh / 3.6
        self.segs = [
            (geom.lats[i], geom.lats[i + 1] - geom.lats[i], geom.lons[i], geom.lons[i + 1] - geom.lons[i],
             geom.seg_len_m[i], geom.bearings[i])
            for i in range(self.last)
        ]
        board_w = sum(weights[:-1]) or 1.0
        self.pools: list[Pool | None] = [Pool(share_per_s * w / board_w, max_waiting) for w in weights[:-1]]
        self.pools.append(None)
        self.p_alight = [0.0] * (self.last + 1)
        for k in range(1, self.last + 1):
            ahead = sum(weights[k:])
            self.p_alight[k] = 1.0 if k == self.last or ahead <= 0 else weights[k] / ahead


class _Bus:
    """Mutable state of one vehicle (the hot telemetry loop reads these slots)."""

    __slots__ = (
        "a_share", "accel", "active", "alighted", "arr_delay", "arr_ms", "b_share", "bearing",
        "block", "board_ms", "boarded", "bus_id", "capacity", "cum0", "dep_ms", "dlat", "dlon",
        "dt_s", "idx", "k", "lat", "lat0", "layover", "lon", "lon0", "moving", "occ_pct",
        "occ_status", "odo", "p_before", "passengers", "pat", "phase", "route_id", "sched0",
        "sched1", "sched_dep", "seats", "seg_len", "seq", "stop_id", "t0", "t_acc", "t_dec", "trip",
        "trip_factor", "trip_id", "v_cruise"
    )

    def __init__(self, bus_id: str, route_id: str, seats: int, capacity: int, b_share: float, a_share: float,
                 phase: int) -> None:
        self.bus_id = bus_id
        self.route_id = route_id
        self.seats = seats
        self.capacity = capacity
        self.b_share = b_share
        self.a_share = a_share
        self.phase = phase
        self.occ_status, self.occ_pct = occupancy_tables(seats, capacity)
        self.active = False
        self.block: list[Trip] = []
        self.idx = 0
        self.trip: Trip | None = None
        self.trip_id = ""
        self.pat: _Pattern | None = None
        self.moving = False
        self.layover = False
        self.k = 0
        self.seq = 1
        self.stop_id = ""
        self.passengers = 0
        self.p_before = 0
        self.alighted = 0
        self.boarded = 0
        self.arr_ms = 0
        self.dep_ms = NEVER_MS
        self.board_ms = 0
        self.arr_delay = 0
        self.sched_dep = 0
        self.lat = self.lon = self.bearing = self.odo = 0.0
        self.t0 = 0
        self.lat0 = self.dlat = self.lon0 = self.dlon = self.seg_len = self.cum0 = 0.0
        self.sched0 = self.sched1 = 0
        self.trip_factor = 1.0
        self.accel = self.dt_s = self.t_acc = self.t_dec = self.v_cruise = 0.0


def _speed_profile(bus: _Bus, length: float, duration_s: float) -> None:
    """Trapezoidal speed profile: accelerate at ``ACCEL_MPS2``, cruise, brake at the same rate.

    When the segment is too short for that, the profile is a triangle with the acceleration it
    needs. Sets the cruise speed (m/s), acceleration (m/s²) and the end of the acceleration and
    the start of the braking phase (s after departure).
    """
    a = ACCEL_MPS2
    disc = duration_s * duration_s - 4.0 * length / a
    if disc > 0.0:
        v = 0.5 * a * (duration_s - math.sqrt(disc))
    else:
        v = 2.0 * length / duration_s
        a = v / (0.5 * duration_s)
    bus.v_cruise = v
    bus.accel = a
    bus.t_acc = v / a
    bus.t_dec = duration_s - v / a
    bus.dt_s = duration_s


class TransitEngine:
    """Simulates buses and stations of ``city``; :meth:`run` yields bus and station events in time order."""

    def __init__(self, city: City, seed: int, config: SimConfig, *, emit_bus: bool = True,
                 emit_station: bool = True) -> None:
        self.city = city
        self.seed = seed
        self.cfg = config
        self.emit_bus = emit_bus
        self.emit_station = emit_station
        self.tz = ZoneInfo(city.timezone)
        self.rng = random.Random()
        self.heap: list[tuple[int, int, int, object]] = []
        self._seq = 0
        geoms = city_geometries(city)
        stations = {s.stop_id for s in city.stations}
        self.patterns: dict[tuple[str, int], _Pattern] = {}
        self.routes = {r.route_id: r for r in city.routes}
        for (route_id, direction), geom in geoms.items():
            route = self.routes[route_id]
            weights = [max(0.0, city.stop(sid).demand_weight) for sid in geom.stop_ids]
            share = route.peak_demand_pph * config.demand_scale / 3600.0
            self.patterns[(route_id, direction)] = _Pattern(geom, weights, stations, route.speed_kmh, share,
                                                            config.max_waiting)
        self.geoms = geoms
        self.headways = route_headways(city)
        self.station_pools: dict[str, list[Pool]] = defaultdict(list)
        for pat in self.patterns.values():
            for sid, pool in zip(pat.stop_ids, pat.pools, strict=True):
                if pool is not None and sid in stations:
                    self.station_pools[sid].append(pool)
        interval_ms = round(config.bus_interval_s * 1000)
        self.buses: list[_Bus] = []
        self.route_buses: dict[str, list[_Bus]] = defaultdict(list)
        for i, b in enumerate(city.fleet):
            vt = city.vehicle_type(b.vehicle_type)
            bus = _Bus(b.bus_id, b.route_id, b.seated_capacity, b.capacity, vt.boarding_share,
                       vt.alighting_share, int((i * _GOLDEN) % 1.0 * interval_ms))
            self.buses.append(bus)
            self.route_buses[b.route_id].append(bus)
        self._crowding: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        for ep in config.crowding():
            self._crowding[ep.bus_id].append((to_ms(ep.start), to_ms(ep.end), ep.load))
        self._delays: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        for ep in config.delays():
            self._delays[ep.route_id].append((to_ms(ep.start), to_ms(ep.end), ep.factor))
        self._cong_days: list[tuple[int, list[float]]] = []
        self._schedules: dict[tuple[object, ...], tuple[tuple[int, ...], tuple[int, ...]]] = {}

    # -- event queue -------------------------------------------------------------------------

    def _push(self, t: int, kind: int, obj: object) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (t, self._seq, kind, obj))

    # -- service days --------------------------------------------------------------------------

    def _setup_day(self, day: ServiceDay) -> None:
        date_text = day.date.isoformat()
        self.rng.seed(f"{self.seed}:transit:{date_text}")
        first_hour = SERVICE_DAY_START_S / 3600.0
        traffic = quarter_hours(TRAFFIC[day.service_id], first_hour, _QUARTERS)
        self._cong_days = [*self._cong_days[-1:], (day.start_ms, [congestion(x) for x in traffic])]
        demand = quarter_hours(DEMAND[day.service_id], first_hour, _QUARTERS)
        for route in self.city.routes:
            rows = self.headways.get((route.route_id, day.service_id), [])
            profile = [
                d if any(h.start_s - 900 <= SERVICE_DAY_START_S + q * 900 + 450 < h.end_s + 600 for h in rows)
                else 0.0
                for q, d in enumerate(demand)
            ]
            for direction in range(len(route.patterns)):
                pat = self.patterns.get((route.route_id, direction))
                if pat is None:
                    continue
                for k, pool in enumerate(pat.pools):
                    if pool is not None:
                        pool.reset(f"{self.seed}:{date_text}:{route.route_id}:{direction}:{k}", day.start_ms,
                                   profile)
            buses = self.route_buses.get(route.route_id, [])
            if not rows or not buses:
                continue
            trips = route_trips(self.city, route, self.geoms, rows, day, self._schedules)
            blocks, _ = build_blocks(trips, [b.bus_id for b in buses])
            for bus in buses:
                block = blocks[bus.bus_id]
                if block:
                    lead = round(self.cfg.pullout_lead_s * 1000)
                    self._push(block[0].start_ms - lead, _PULLOUT, (bus, block))
        nxt = service_day(day.date + timedelta(days=1), self.tz)
        self._push(nxt.start_ms, _DAY, nxt)

    def _congestion(self, t: int) -> float:
        start, table = self._cong_days[-1]
        if t < start and len(self._cong_days) > 1:
            start, table = self._cong_days[0]
        q = (t - start) // 900_000
        return table[min(max(q, 0), _QUARTERS - 1)]

    # -- bus life cycle ----------------------------------------------------------------------

    def _pullout(self, bus: _Bus, block: list[Trip], t: int) -> None:
        if bus.idx < len(bus.block):
            # trips of an earlier day are still running or waiting: this day's block follows them
            bus.block = bus.block[bus.idx:] + block
            bus.idx = 0
            return
        bus.block = block
        bus.idx = 0
        self._begin_trip(bus, t, t)

    def _begin_trip(self, bus: _Bus, t: int, ready: int) -> None:
        """Put ``bus`` at the first stop of its next trip at ``t``; boarding starts at ``ready`` or later."""
        trip = bus.block[bus.idx]
        pat = self.patterns[(trip.route_id, trip.direction_id)]
        bus.trip = trip
        bus.trip_id = trip.trip_id
        bus.pat = pat
        bus.active = True
        bus.moving = False
        bus.layover = True
        bus.k = 0
        bus.seq = 1
        bus.stop_id = pat.stop_ids[0]
        bus.passengers = 0
        bus.lat, bus.lon = pat.lats[0], pat.lons[0]
        bus.bearing = pat.bearings[0]
        bus.odo = 0.0
        bus.arr_ms = t
        bus.dep_ms = NEVER_MS
        bus.sched_dep = trip.start_ms
        sigma = self.cfg.trip_noise
        bus.trip_factor = self.rng.lognormvariate(-0.5 * sigma * sigma, sigma) if sigma > 0 else 1.0
        self._push(max(ready, trip.start_ms - _BOARD_LEAD_MS), _ARRIVE, bus)

    def _station_waiting(self, stop_id: str, t: int) -> int:
        return sum(p.accrue(t) for p in self.station_pools.get(stop_id, ()))

    def _arrive(self, bus: _Bus, t: int, emit: bool) -> SimEvent | None:
        pat = bus.pat
        trip = bus.trip
        assert pat is not None and trip is not None
        k = bus.k
        last = k == pat.last
        p0 = bus.passengers
        load = -1.0
        for a, b, target in self._crowding.get(bus.bus_id, ()):
            if a <= t < b:
                load = target
        if k == 0 or p0 == 0:
            alight = 0
        elif last:
            alight = p0
        elif load >= 0:
            alight = 0
        else:
            p = pat.p_alight[k]
            rnd = self.rng.random
            alight = sum(1 for _ in range(p0) if rnd() < p)
        p1 = p0 - alight
        board = 0
        pool = pat.pools[k]
        if pool is not None:
            waiting = pool.accrue(t)
            if load >= 0:
                extra = int(load * bus.capacity) - p1 - waiting
                if extra > 0:
                    pool.waiting = waiting = waiting + extra
            board = min(waiting, bus.capacity - p1)
            pool.waiting = waiting - board
        p2 = p1 + board
        dw = self.cfg.dwell
        if alight + board == 0 and 0 < k < pat.last:
            dwell_ms = 0
            alight_ms = 0
        else:
            t_b = dw.board_s + (dw.crowding_s if p2 > bus.seats else 0.0)
            alight_ms = round((0.5 * dw.door_s + alight * bus.a_share * dw.alight_s) * 1000)
            dwell_ms = alight_ms + round((board * bus.b_share * t_b + 0.5 * dw.door_s) * 1000)
        dep = t + dwell_ms
        sched_arr = trip.start_ms + trip.arr_off_ms[k]
        sched_dep = trip.start_ms + trip.dep_off_ms[k]
        if k == 0:
            dep = max(dep, trip.start_ms)
        bus.moving = False
        bus.layover = False
        bus.arr_ms = t
        bus.dep_ms = dep
        bus.p_before = p0
        bus.alighted = alight
        bus.boarded = board
        bus.board_ms = t + alight_ms
        bus.passengers = p2
        bus.arr_delay = t - sched_arr if k > 0 else 0
        bus.sched_dep = sched_dep
        bus.stop_id = pat.stop_ids[k]
        bus.seq = k + 1
        bus.lat, bus.lon = pat.lats[k], pat.lons[k]
        bus.bearing = pat.bearings[k - 1] if k > 0 else pat.bearings[0]
        bus.odo = pat.cum[k]
        self._push(dep, _DEPART, bus)
        if not (emit and self.emit_station and pat.is_station[k]):
            return None
        stop_id = pat.stop_ids[k]
        return SimEvent("station", stop_id, t, StationEvent(
            station_id=stop_id, event_time_ms=t, kind=_ARRIVAL, bus_id=bus.bus_id, route_id=trip.route_id,
            trip_id=trip.trip_id, scheduled_time_ms=sched_arr, actual_time_ms=t,
            waiting_passengers=self._station_waiting(stop_id, t), alighted=alight, stop_sequence=k + 1))

    def _depart(self, bus: _Bus, t: int, emit: bool) -> SimEvent | None:
        pat = bus.pat
        trip = bus.trip
        assert pat is not None and trip is not None
        k = bus.k
        event = None
        if emit and self.emit_station and pat.is_station[k]:
            stop_id = pat.stop_ids[k]
            event = SimEvent("station", stop_id, t, StationEvent(
                station_id=stop_id, event_time_ms=t, kind=_DEPARTURE, bus_id=bus.bus_id,
                route_id=trip.route_id,
                trip_id=trip.trip_id, scheduled_time_ms=trip.start_ms + trip.dep_off_ms[k], actual_time_ms=t,
                waiting_passengers=self._station_waiting(stop_id, t), boarded=bus.boarded,
                dwell_s=(t - bus.arr_ms) / 1000.0, stop_sequence=k + 1))
        if k == pat.last:
            self._finish_trip(bus, t)
            return event
        lat0, dlat, lon0, dlon, length, bearing = pat.segs[k]
        run = length / pat.speed_mps * self._congestion(t) * bus.trip_factor
        sigma = self.cfg.run_time_noise
        if sigma > 0:
            run *= self.rng.lognormvariate(-0.5 * sigma * sigma, sigma)
        if self.rng.random() < self.cfg.incident_rate:
            run += self.rng.uniform(20.0, 120.0)
        for a, b, factor in self._delays.get(trip.route_id, ()):
            if a <= t < b:
                run *= factor
        dt = max(round((length / MAX_SPEED_MPS + MAX_SPEED_MPS / ACCEL_MPS2) * 1000), round(run * 1000))
        bus.moving = True
        bus.k = k + 1
        bus.seq = k + 2
        bus.stop_id = pat.stop_ids[k + 1]
        bus.t0 = t
        bus.lat0, bus.dlat, bus.lon0, bus.dlon = lat0, dlat, lon0, dlon
        bus.seg_len = length
        bus.bearing = bearing
        bus.cum0 = pat.cum[k]
        _speed_profile(bus, length, dt / 1000.0)
        bus.sched0 = trip.start_ms + trip.dep_off_ms[k]
        bus.sched1 = trip.start_ms + trip.arr_off_ms[k + 1]
        self._push(t + dt, _ARRIVE, bus)
        return event

    def _finish_trip(self, bus: _Bus, t: int) -> None:
        trip = bus.trip
        assert trip is not None
        bus.idx += 1
        bus.passengers = 0
        if bus.idx >= len(bus.block):
            bus.active = False
            bus.trip = None
            return
        nxt = bus.block[bus.idx]
        ready = t + round(self.cfg.min_layover_s * 1000)
        if nxt.first_stop_id != trip.last_stop_id or nxt.start_ms - t > self.cfg.layup_gap_s * 1000:
            bus.active = False
            pullout = nxt.start_ms - round(self.cfg.pullout_lead_s * 1000)
            self._push(max(ready, pullout), _PULLOUT, (bus, None))
            return
        self._begin_trip(bus, t, ready)

    def _count(self, stop_id: str, t: int) -> SimEvent:
        self._push(t + round(self.cfg.station_count_interval_s * 1000), _COUNT, stop_id)
        return SimEvent("station", stop_id, t, StationEvent(
            station_id=stop_id, event_time_ms=t, kind=_COUNT_KIND,
            waiting_passengers=self._station_waiting(stop_id, t)))

    def _process(self, emit: bool) -> SimEvent | None:
        t, _, kind, obj = heapq.heappop(self.heap)
        if kind == _ARRIVE:
            return self._arrive(obj, t, emit)  # type: ignore[arg-type]
        if kind == _DEPART:
            return self._depart(obj, t, emit)  # type: ignore[arg-type]
        if kind == _COUNT:
            return self._count(obj, t) if emit else None  # type: ignore[arg-type]
        if kind == _PULLOUT:
            bus, block = obj  # type: ignore[misc]
            if block is None:
                self._begin_trip(bus, t, t)
            else:
                self._pullout(bus, block, t)
            return None
        self._setup_day(obj)  # type: ignore[arg-type]
        return None

    # -- the run -------------------------------------------------------------------------------

    def run(self, start_ms: int, end_ms: int) -> Iterator[SimEvent]:
        """Events with ``start_ms <= event_time_ms < end_ms``, in event-time order.

        The model starts at the beginning of the service day that contains ``start_ms`` (quietly,
        without emitting), so the state at ``start_ms`` does not depend on the run's length.
        """
        self._setup_day(service_day_containing(start_ms, self.tz))
        if self.emit_station:
            interval = round(self.cfg.station_count_interval_s * 1000)
            for i, stop_id in enumerate(sorted(self.station_pools)):
                phase = int((i * _GOLDEN) % 1.0 * interval)
                first = start_ms - start_ms % interval + phase
                self._push(first if first >= start_ms else first + interval, _COUNT, stop_id)
        heap = self.heap
        process = self._process
        while heap[0][0] < start_ms:
            process(False)
        if self.emit_bus:
            yield from self._run_sampled(start_ms, end_ms)
        while heap[0][0] < end_ms:
            ev = process(True)
            if ev is not None:
                yield ev

    def _run_sampled(self, start_ms: int, end_ms: int) -> Iterator[SimEvent]:
        heap = self.heap
        process = self._process
        interval = round(self.cfg.bus_interval_s * 1000)
        incoming_m = self.cfg.incoming_m
        buses = sorted(self.buses, key=lambda b: b.phase)
        window = start_ms - start_ms % interval
        telemetry = BusTelemetry
        event = SimEvent
        stopped, incoming, in_transit = _STOPPED, _INCOMING, _IN_TRANSIT
        while window < end_ms:
            for b in buses:
                s = window + b.phase
                limit = s if s < end_ms else end_ms - 1
                while heap[0][0] <= limit:
                    ev = process(True)
                    if ev is not None:
                        yield ev
                if not b.active or s < start_ms or s >= end_ms:
                    continue
                if b.moving:
                    el = (s - b.t0) / 1000.0
                    length = b.seg_len
                    if el < b.t_acc:
                        v = b.accel * el
                        d = 0.5 * v * el
                    elif el < b.t_dec:
                        v = b.v_cruise
                        d = v * (el - 0.5 * b.t_acc)
                    else:
                        rem = b.dt_s - el
                        if rem < 0.0:
                            rem = 0.0
                        v = b.accel * rem
                        d = length - 0.5 * v * rem
                    f = d / length
                    sched = b.sched0 + f * (b.sched1 - b.sched0)
                    p = b.passengers
                    yield event("bus", b.bus_id, s, telemetry(
                        bus_id=b.bus_id, route_id=b.route_id, trip_id=b.trip_id, event_time_ms=s,
                        latitude=b.lat0 + f * b.dlat, longitude=b.lon0 + f * b.dlon,
                        speed_mps=v, bearing_deg=b.bearing, passengers=p,
                        capacity=b.capacity, seated_capacity=b.seats, next_stop_id=b.stop_id,
                        stop_sequence=b.seq,
                        current_status=incoming if length - d < incoming_m else in_transit,
                        occupancy_status=b.occ_status[p], occupancy_percentage=b.occ_pct[p],
                        delay_s=round((s - sched) / 1000.0), odometer_m=b.cum0 + d))
                else:
                    if b.layover:
                        p = 0
                        delay = s - b.sched_dep if s > b.sched_dep else 0
                    else:
                        p = b.passengers
                        if s < b.board_ms:
                            p = b.p_before - b.alighted
                        elif s < b.dep_ms and b.boarded:
                            p -= math.floor(b.boarded * (b.dep_ms - s) / (b.dep_ms - b.board_ms))
                        late = s - b.sched_dep
                        delay = b.arr_delay if b.arr_delay > late else late
                    yield event("bus", b.bus_id, s, telemetry(
                        bus_id=b.bus_id, route_id=b.route_id, trip_id=b.trip_id, event_time_ms=s,
                        latitude=b.lat, longitude=b.lon, speed_mps=0.0, bearing_deg=b.bearing, passengers=p,
                        capacity=b.capacity, seated_capacity=b.seats, next_stop_id=b.stop_id,
                        stop_sequence=b.seq, current_status=stopped, occupancy_status=b.occ_status[p],
                        occupancy_percentage=b.occ_pct[p], delay_s=round(delay / 1000.0), odometer_m=b.odo))
            window += interval
