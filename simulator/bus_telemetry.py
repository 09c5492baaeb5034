"""Bus telemetry sampled from the buses' state every interval (each bus at its own phase), between the events."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from smartcity.proto import BusTelemetry, VehicleStopStatus
from smartcity.simulator.buses import BusState
from smartcity.simulator.events import SimEvent

_STOPPED = VehicleStopStatus.STOPPED_AT
_INCOMING = VehicleStopStatus.INCOMING_AT
_IN_TRANSIT = VehicleStopStatus.IN_TRANSIT_TO

EventHeap = list[tuple[int, int, int, object]]


def sampled_run(heap: EventHeap, process: Callable[[bool], SimEvent | None], buses: list[BusState],
                interval: int, incoming_m: float, start_ms: int, end_ms: int) -> Iterator[SimEvent]:
    """Events of ``heap`` (each popped by ``process``) merged in time order with a ``BusTelemetry`` per active
    bus and ``interval`` ms, for ``start_ms <= t < end_ms``; a moving bus follows its speed profile."""
    buses = sorted(buses, key=lambda b: b.phase)
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
                f = d / length if length > 0 else 1.0  # a stop served twice in a row: no way to go
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
