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
inside the period). Every stop a vehicle serves records its visit: an ARRIVAL and a DEPARTURE event
(``station_id`` is the stop's id) at those instants, with the scheduled times. Stations also report
their queues every ``station_count_interval_s`` as a PASSENGER_COUNT.

This module keeps the event queue and each bus's life cycle; the parts it runs are in
:mod:`~smartcity.simulator.transit_network` (route directions and their queues),
:mod:`~smartcity.simulator.buses` and :mod:`~smartcity.simulator.bus_motion` (bus state, run times,
speed profiles), :mod:`~smartcity.simulator.boarding` (alighting, boarding, dwell),
:mod:`~smartcity.simulator.service_plan` (congestion, demand and blocks per service day) and
:mod:`~smartcity.simulator.bus_telemetry` (the sampled telemetry).
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import cast
from zoneinfo import ZoneInfo

from smartcity.proto import StationEvent, StationEventKind
from smartcity.simulator.boarding import alighting, boarding, dwell_ms
from smartcity.simulator.bus_motion import run_time_ms, scheduled_run_time_ms, speed_profile
from smartcity.simulator.bus_telemetry import EventHeap, sampled_run
from smartcity.simulator.buses import BusState, city_fleet, golden_phase
from smartcity.simulator.config import SimConfig, to_ms
from smartcity.simulator.demand import NEVER_MS
from smartcity.simulator.events import SimEvent
from smartcity.simulator.feed_plan import FeedPlan
from smartcity.simulator.geometry import city_geometries
from smartcity.simulator.model import City
from smartcity.simulator.service_plan import Congestion, day_demand, reset_route_pools, route_blocks
from smartcity.simulator.timetable import ServiceDay, Trip, route_headways, service_day, service_day_containing
from smartcity.simulator.transit_network import PatternState, route_patterns, station_pools

_DAY, _PULLOUT, _ARRIVE, _DEPART, _COUNT = range(5)
_BOARD_LEAD_MS = 60_000  # boarding at the first stop starts this long before departure

_ARRIVAL = StationEventKind.ARRIVAL
_DEPARTURE = StationEventKind.DEPARTURE
_COUNT_KIND = StationEventKind.PASSENGER_COUNT

# What an event of each kind carries: _DAY the ServiceDay, _ARRIVE and _DEPART the BusState, _COUNT the
# station's stop_id, _PULLOUT a _Pullout (the bus and the day's block; None: the next trip of its block).
_Pullout = tuple[BusState, list[Trip] | None]


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
        self.heap: EventHeap = []
        self._seq = 0
        geoms = city_geometries(city)
        stations = {s.stop_id for s in city.stations}
        self.patterns: dict[tuple[str, int], PatternState] = route_patterns(city, geoms, stations, config)
        self.geoms = geoms
        self.headways = route_headways(city)
        self.stop_pools = station_pools(self.patterns, {s.stop_id for s in city.stops})
        self.counted = sorted(sid for sid in self.stop_pools if sid in stations)  # stations count their queues
        self.buses, self.route_buses = city_fleet(city, round(config.bus_interval_s * 1000))
        self._crowding: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        for ep in config.crowding():
            self._crowding[ep.bus_id].append((to_ms(ep.start), to_ms(ep.end), ep.load))
        self._delays: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        for delay in config.delays():
            self._delays[delay.route_id].append((to_ms(delay.start), to_ms(delay.end), delay.factor))
        self.congestion = Congestion()
        self.plan = FeedPlan(city) if city.feed is not None else None
        self._schedules: dict[tuple[object, ...], tuple[tuple[int, ...], tuple[int, ...]]] = {}

    # -- event queue -------------------------------------------------------------------------

    def _push(self, t: int, kind: int, obj: object) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (t, self._seq, kind, obj))

    # -- service days --------------------------------------------------------------------------

    def _setup_day(self, day: ServiceDay) -> None:
        date_text = day.date.isoformat()
        self.rng.seed(f"{self.seed}:transit:{date_text}")
        self.congestion.add_day(day)
        demand = day_demand(day.service_id)
        lead = round(self.cfg.pullout_lead_s * 1000)
        if self.plan is not None:  # an imported feed: the date's own trips and blocks
            rows_by_route, plan = self.plan.day(day, self.buses)
            for route in self.city.routes:
                reset_route_pools(self.patterns, route, rows_by_route.get(route.route_id, []), demand,
                                  f"{self.seed}:{date_text}", day.start_ms)
            for bus, block in plan:
                self._push(block[0].start_ms - lead, _PULLOUT, (bus, block))
        else:
            for route in self.city.routes:
                rows = self.headways.get((route.route_id, day.service_id), [])
                reset_route_pools(self.patterns, route, rows, demand, f"{self.seed}:{date_text}", day.start_ms)
                buses = self.route_buses.get(route.route_id, [])
                if not rows or not buses:
                    continue
                for bus, block in route_blocks(self.city, route, self.geoms, rows, day, self._schedules, buses):
                    self._push(block[0].start_ms - lead, _PULLOUT, (bus, block))
        nxt = service_day(day.date + timedelta(days=1), self.tz)
        begin = nxt.start_ms
        if self.plan is not None:  # a feed's date may have trips before 03:00
            first = self.plan.first_departure_s(nxt.date)
            if first is not None:
                begin = min(begin, max(day.start_ms, nxt.at(first) - 2 * lead))
        self._push(begin, _DAY, nxt)

    # -- bus life cycle ----------------------------------------------------------------------

    def _pullout(self, bus: BusState, block: list[Trip], t: int) -> None:
        if bus.idx < len(bus.block):
            # trips of an earlier day are still running or waiting: this day's block follows them
            bus.block = bus.block[bus.idx:] + block
            bus.idx = 0
            return
        bus.block = block
        bus.idx = 0
        self._begin_trip(bus, t, t)

    def _begin_trip(self, bus: BusState, t: int, ready: int) -> None:
        """Put ``bus`` at the first stop of its next trip at ``t``; boarding starts at ``ready`` or later."""
        trip = bus.block[bus.idx]
        pat = self.patterns[(trip.route_id, trip.pattern)]
        bus.trip = trip
        bus.trip_id = trip.trip_id
        bus.route_id = trip.route_id
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
        lead = trip.start_ms + trip.arr_off_ms[0] if self.cfg.on_schedule else trip.start_ms - _BOARD_LEAD_MS
        self._push(max(ready, lead), _ARRIVE, bus)

    def _station_waiting(self, stop_id: str, t: int) -> int:
        return sum(p.accrue(t) for p in self.stop_pools.get(stop_id, ()))

    def _arrive(self, bus: BusState, t: int, emit: bool) -> SimEvent | None:
        pat = bus.pat
        trip = bus.trip
        assert pat is not None and trip is not None
        k = bus.k
        p0 = bus.passengers
        load = -1.0
        for a, b, target in self._crowding.get(bus.bus_id, ()):
            if a <= t < b:
                load = target
        alight = alighting(self.rng, pat, k, p0, load)
        p1 = p0 - alight
        board = boarding(pat.pools[k], t, p1, bus.capacity, load)
        p2 = p1 + board
        alight_ms, dwell = dwell_ms(self.cfg.dwell, bus, alight, board, p2, 0 < k < pat.last)
        dep = t + dwell
        sched_arr = trip.start_ms + trip.arr_off_ms[k]
        sched_dep = trip.start_ms + trip.dep_off_ms[k]
        if self.cfg.on_schedule:
            dep = max(t, sched_dep)
        elif k == 0 or self.plan is not None:  # a feed's trips never leave a stop early
            dep = max(dep, sched_dep)
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
        if not (emit and self.emit_station):
            return None
        stop_id = pat.stop_ids[k]
        return SimEvent("station", stop_id, t, StationEvent(
            station_id=stop_id, event_time_ms=t, kind=_ARRIVAL, bus_id=bus.bus_id, route_id=trip.route_id,
            trip_id=trip.trip_id, scheduled_time_ms=sched_arr, actual_time_ms=t,
            waiting_passengers=self._station_waiting(stop_id, t), alighted=alight, stop_sequence=k + 1))

    def _depart(self, bus: BusState, t: int, emit: bool) -> SimEvent | None:
        pat = bus.pat
        trip = bus.trip
        assert pat is not None and trip is not None
        k = bus.k
        event = None
        if emit and self.emit_station:
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
        if self.cfg.on_schedule:
            dt = max(0, trip.start_ms + trip.arr_off_ms[k + 1] - t)
        elif self.plan is not None:
            dt = scheduled_run_time_ms(self.rng, self.cfg, trip.arr_off_ms[k + 1] - trip.dep_off_ms[k],
                                       bus.trip_factor, self._delays.get(trip.route_id, ()), t)
        else:
            dt = run_time_ms(self.rng, self.cfg, length, pat.speed_mps, self.congestion.at(t), bus.trip_factor,
                             self._delays.get(trip.route_id, ()), t)
        bus.moving = True
        bus.k = k + 1
        bus.seq = k + 2
        bus.stop_id = pat.stop_ids[k + 1]
        bus.t0 = t
        bus.lat0, bus.dlat, bus.lon0, bus.dlon = lat0, dlat, lon0, dlon
        bus.seg_len = length
        bus.bearing = bearing
        bus.cum0 = pat.cum[k]
        speed_profile(bus, length, dt / 1000.0)
        bus.sched0 = trip.start_ms + trip.dep_off_ms[k]
        bus.sched1 = trip.start_ms + trip.arr_off_ms[k + 1]
        self._push(t + dt, _ARRIVE, bus)
        return event

    def _finish_trip(self, bus: BusState, t: int) -> None:
        trip = bus.trip
        assert trip is not None
        bus.idx += 1
        bus.passengers = 0
        if bus.idx >= len(bus.block):
            bus.active = False
            bus.trip = None
            return
        nxt = bus.block[bus.idx]
        layover = round(self.cfg.min_layover_s * 1000)
        if self.plan is not None or self.cfg.on_schedule:  # the timetable's own turnaround, if shorter
            layover = min(layover, max(0, nxt.start_ms - t))
        ready = t + layover
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
            return self._arrive(cast(BusState, obj), t, emit)
        if kind == _DEPART:
            return self._depart(cast(BusState, obj), t, emit)
        if kind == _COUNT:
            return self._count(cast(str, obj), t) if emit else None
        if kind == _PULLOUT:
            bus, block = cast(_Pullout, obj)
            if block is None:
                self._begin_trip(bus, t, t)
            else:
                self._pullout(bus, block, t)
            return None
        self._setup_day(cast(ServiceDay, obj))
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
            for i, stop_id in enumerate(self.counted):
                first = start_ms - start_ms % interval + golden_phase(i, interval)
                self._push(first if first >= start_ms else first + interval, _COUNT, stop_id)
        heap = self.heap
        process = self._process
        while heap[0][0] < start_ms:
            process(False)
        if self.emit_bus:
            interval = round(self.cfg.bus_interval_s * 1000)
            yield from sampled_run(heap, process, self.buses, interval, self.cfg.incoming_m, start_ms, end_ms)
        while heap[0][0] < end_ms:
            ev = process(True)
            if ev is not None:
                yield ev
