"""The mutable state of every simulated bus, and the fleet with its sampling phases."""

from __future__ import annotations

from collections import defaultdict

from smartcity.simulator.demand import NEVER_MS
from smartcity.simulator.model import City
from smartcity.simulator.occupancy import occupancy_tables
from smartcity.simulator.timetable import Trip
from smartcity.simulator.transit_network import PatternState

_GOLDEN = 0.6180339887498949


def golden_phase(i: int, interval_ms: int) -> int:
    """Offset of the ``i``-th sampled thing inside ``interval_ms``: golden-ratio steps spread any count evenly."""
    return int((i * _GOLDEN) % 1.0 * interval_ms)


class BusState:
    """Mutable state of one vehicle (the hot telemetry loop reads these slots)."""

    __slots__ = (
        "a_share", "accel", "active", "alighted", "arr_delay", "arr_ms", "b_share", "bearing",
        "block", "board_ms", "boarded", "bus_id", "capacity", "cum0", "dep_ms", "dlat", "dlon",
        "dt_s", "idx", "k", "lat", "lat0", "layover", "lon", "lon0", "moving", "occ_pct",
        "occ_status", "odo", "p_before", "passengers", "pat", "phase", "route_id", "sched0",
        "sched1", "sched_dep", "seats", "seg_len", "seq", "stop_id", "t0", "t_acc", "t_dec", "trip",
        "trip_factor", "trip_id", "v_cruise", "vehicle_type"
    )

    def __init__(self, bus_id: str, route_id: str, seats: int, capacity: int, b_share: float, a_share: float,
                 phase: int, vehicle_type: str = "standard") -> None:
        self.bus_id = bus_id
        self.route_id = route_id
        self.vehicle_type = vehicle_type
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
        self.pat: PatternState | None = None
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


def city_fleet(city: City, interval_ms: int) -> tuple[list[BusState], dict[str, list[BusState]]]:
    """A :class:`BusState` per bus of ``city.fleet`` (in fleet order) and the buses of each route."""
    buses: list[BusState] = []
    route_buses: dict[str, list[BusState]] = defaultdict(list)
    for i, b in enumerate(city.fleet):
        vt = city.vehicle_type(b.vehicle_type)
        bus = BusState(b.bus_id, b.route_id, b.seated_capacity, b.capacity, vt.boarding_share,
                       vt.alighting_share, golden_phase(i, interval_ms), vt.name)
        buses.append(bus)
        route_buses[b.route_id].append(bus)
    return buses, route_buses
