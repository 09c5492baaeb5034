"""What a service day sets up for the transit engine in a city imported from a GTFS feed: the feed's
trips of that date as engine trips, their vehicle blocks, and each vehicle's block."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from smartcity.simulator.buses import BusState
from smartcity.simulator.gtfs.blocks import day_plan
from smartcity.simulator.gtfs.day import DayTrip
from smartcity.simulator.model import City, Headway
from smartcity.simulator.timetable import ServiceDay, Trip


class FeedPlan:
    """The feed's timetable of a city, day by day."""

    def __init__(self, city: City) -> None:
        assert city.feed is not None
        self.city, self.feed = city, city.feed
        self.pattern = {(r.route_id, p): i for r in city.routes for i, p in enumerate(r.patterns)}
        self.vehicle = {r.route_id: r.vehicle_type for r in city.routes}

    def first_departure_s(self, day: date) -> int | None:
        """The date's earliest departure (GTFS seconds), None when nothing runs."""
        trips, _ = day_plan(self.feed, day)
        return trips[0].start_s if trips else None

    def trip(self, t: DayTrip, day: ServiceDay) -> Trip:
        start = t.departures[0]
        return Trip(t.trip_id, t.route_id, t.direction_id, self.pattern[(t.route_id, t.stop_ids)], day.at(start),
                    tuple((a - start) * 1000 for a in t.arrivals), tuple((d - start) * 1000 for d in t.departures),
                    t.stop_ids[0], t.stop_ids[-1])

    def day(self, day: ServiceDay, buses: Sequence[BusState]) -> tuple[dict[str, list[Headway]],
                                                                       list[tuple[BusState, list[Trip]]]]:
        """The routes' service spans (as one headway row each, for passenger demand) and each bus's block.

        Blocks go to the buses of their vehicle type in fleet order; a date needing more vehicles than the
        fleet has (it cannot, the fleet is sized over every date) would leave blocks unserved.
        """
        trips, blocks = day_plan(self.feed, day.date)
        spans: dict[str, list[int]] = defaultdict(list)
        for t in trips:
            spans[t.route_id].append(t.start_s)
        rows = {r: [Headway(r, day.service_id, min(s), max(s) + 1, 3600)] for r, s in spans.items()}
        free: dict[str, list[BusState]] = defaultdict(list)
        for bus in sorted(buses, key=lambda b: b.idx < len(b.block)):  # buses still on yesterday's trips last
            free[bus.vehicle_type].append(bus)
        plan = []
        for block in blocks:
            pool = free[self.vehicle[block[0].route_id]]
            if not pool:
                continue
            plan.append((pool.pop(0), [self.trip(t, day) for t in block]))
        return rows, plan
