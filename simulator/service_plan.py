"""What each service day sets up for the transit engine: road congestion, stop demand and the buses' blocks."""

from __future__ import annotations

from collections.abc import Sequence

from smartcity.simulator.buses import BusState
from smartcity.simulator.geometry import PatternGeometry
from smartcity.simulator.model import City, Headway, Route
from smartcity.simulator.profiles import DEMAND, TRAFFIC, congestion, quarter_hours
from smartcity.simulator.timetable import SERVICE_DAY_START_S, ServiceDay, Trip, build_blocks, route_trips
from smartcity.simulator.transit_network import PatternState

QUARTERS = 100  # quarter hours of congestion and demand per service day (25 h)
_FIRST_HOUR = SERVICE_DAY_START_S / 3600.0


class Congestion:
    """Congestion factor by quarter hour of the current service day and the one before it."""

    def __init__(self) -> None:
        self._days: list[tuple[int, list[float]]] = []

    def add_day(self, day: ServiceDay) -> None:
        traffic = quarter_hours(TRAFFIC[day.service_id], _FIRST_HOUR, QUARTERS)
        self._days = [*self._days[-1:], (day.start_ms, [congestion(x) for x in traffic])]

    def at(self, t: int) -> float:
        start, table = self._days[-1]
        if t < start and len(self._days) > 1:
            start, table = self._days[0]
        q = (t - start) // 900_000
        return table[min(max(q, 0), QUARTERS - 1)]


def day_demand(service_id: str) -> list[float]:
    """The demand profile of a service day by quarter hour."""
    return quarter_hours(DEMAND[service_id], _FIRST_HOUR, QUARTERS)


def reset_route_pools(patterns: dict[tuple[str, int], PatternState], route: Route, rows: Sequence[Headway],
                      demand: list[float], seed_text: str, day_start_ms: int) -> None:
    """Empty the route's queues for a new day; passengers arrive only while (about) the route runs."""
    profile = [
        d if any(h.start_s - 900 <= SERVICE_DAY_START_S + q * 900 + 450 < h.end_s + 600 for h in rows)
        else 0.0
        for q, d in enumerate(demand)
    ]
    for direction in range(len(route.patterns)):
        pat = patterns.get((route.route_id, direction))
        if pat is None:
            continue
        for k, pool in enumerate(pat.pools):
            if pool is not None:
                pool.reset(f"{seed_text}:{route.route_id}:{direction}:{k}", day_start_ms, profile)


def route_blocks(city: City, route: Route, geoms: dict[tuple[str, int], PatternGeometry], rows: Sequence[Headway],
                 day: ServiceDay, schedules: dict[tuple[object, ...], tuple[tuple[int, ...], tuple[int, ...]]],
                 buses: list[BusState]) -> list[tuple[BusState, list[Trip]]]:
    """The day's trips of ``route`` chained into blocks: each bus of ``buses`` with a block, in order."""
    trips = route_trips(city, route, geoms, rows, day, schedules)
    blocks, _ = build_blocks(trips, [b.bus_id for b in buses])
    return [(bus, blocks[bus.bus_id]) for bus in buses if blocks[bus.bus_id]]
