"""Vehicle blocks for a service date: which trips one vehicle runs, one after another.

Trips with a ``block_id`` form the feed's own blocks (one vehicle runs them in time order; a trip
that overlaps the previous one, which a valid feed does not have, gets a vehicle of its own). The
other trips are chained: a vehicle that ended a trip at a stop may start a trip whose first stop is
the same or a terminal within ``radius_m`` (a terminal with separate arrival and departure stops),
once it has had ``layover_s`` and the deadhead at ``DEADHEAD_SPEED_MPS`` (none within ``SAME_PLACE_M``:
the two platforms of one terminus). Among the vehicles that
can, the one that has waited least takes the trip. A new vehicle is added only when none can.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from smartcity.simulator.gtfs.day import DayTrip, trips_on
from smartcity.simulator.gtfs.feed import Feed, FeedStop
from smartcity.simulator.model import haversine_m

RADIUS_M = 400.0
"""Terminal stops this close are one place for chaining trips (a short walk for a driver, a short deadhead)."""
DEADHEAD_SPEED_MPS = 20 / 3.6
SAME_PLACE_M = 150.0


class _Nearby:
    """Stops within ``radius_m`` of a stop (a grid of about ``radius_m`` cells)."""

    def __init__(self, stops: Mapping[str, FeedStop], ids: set[str], radius_m: float) -> None:
        self.stops, self.radius = stops, radius_m
        self.cell = radius_m / 111_000.0
        self.grid: dict[tuple[int, int], list[str]] = defaultdict(list)
        for sid in ids:
            self.grid[self._key(sid)].append(sid)
        self._memo: dict[str, list[tuple[str, int]]] = {}

    def _key(self, sid: str) -> tuple[int, int]:
        s = self.stops[sid]
        return math.floor(s.lat / self.cell), math.floor(s.lon / self.cell / max(0.1, math.cos(math.radians(s.lat))))

    def of(self, sid: str) -> list[tuple[str, int]]:
        """Nearby stops with the deadhead time to them (ms of s: whole seconds)."""
        if sid not in self._memo:
            a = self.stops[sid]
            ky, kx = self._key(sid)
            found = []
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    for other in self.grid.get((ky + dy, kx + dx), ()):
                        b = self.stops[other]
                        d = 0.0 if other == sid else haversine_m(a.lat, a.lon, b.lat, b.lon)
                        if d <= self.radius:
                            found.append((other, 0 if d <= SAME_PLACE_M else math.ceil(d / DEADHEAD_SPEED_MPS)))
            self._memo[sid] = found
        return self._memo[sid]


def vehicle_blocks(trips: Sequence[DayTrip], stops: Mapping[str, FeedStop], *, layover_s: int = 0,
                   radius_m: float = RADIUS_M) -> list[list[DayTrip]]:
    """The date's trips as vehicle blocks (see the module docstring), in order of first departure."""
    blocks: list[list[DayTrip]] = []
    by_block: dict[str, list[DayTrip]] = defaultdict(list)
    free: list[DayTrip] = []
    for trip in trips:
        (by_block[trip.block_id] if trip.block_id else free).append(trip)
    for group in by_block.values():
        group.sort(key=lambda t: (t.start_s, t.trip_id))
        open_blocks: list[list[DayTrip]] = []
        for trip in group:
            for block in open_blocks:
                if block[-1].end_s <= trip.start_s:
                    block.append(trip)
                    break
            else:
                open_blocks.append([trip])
        blocks += open_blocks
    terminals = {t.stop_ids[0] for t in free} | {t.stop_ids[-1] for t in free}
    nearby = _Nearby(stops, terminals, radius_m)
    idle: dict[str, list[tuple[int, int]]] = defaultdict(list)  # last stop -> sorted (ready_s, block index)
    for trip in sorted(free, key=lambda t: (t.start_s, t.trip_id)):
        best: tuple[int, str, int] | None = None
        for stop, deadhead in nearby.of(trip.stop_ids[0]):
            waiting = idle.get(stop)
            if not waiting:
                continue
            i = bisect.bisect_right(waiting, (trip.start_s - layover_s - deadhead, math.inf))
            if i > 0 and (best is None or waiting[i - 1][0] > best[0]):
                best = (waiting[i - 1][0], stop, i - 1)
        if best is None:
            blocks.append([trip])
            index = len(blocks) - 1
        else:
            _, index = idle[best[1]].pop(best[2])
            blocks[index].append(trip)
        bisect.insort(idle[trip.stop_ids[-1]], (trip.end_s, index))
    blocks.sort(key=lambda b: (b[0].start_s, b[0].trip_id))
    return blocks


def vehicles_at(blocks: Sequence[Sequence[DayTrip]], at_s: int) -> int:
    """Vehicles running a trip at ``at_s`` (first departure inclusive, last arrival exclusive)."""
    return sum(1 for block in blocks for t in block if t.start_s <= at_s < t.end_s)


def day_plan(feed: Feed, day: date) -> tuple[list[DayTrip], list[list[DayTrip]]]:
    """The date's trips and vehicle blocks. Dates running the same services share them: they are worked
    out once per set of services and kept on the feed (the import sizes the fleet from them, the
    simulation runs them)."""
    key = frozenset(feed.calendar.services_on(day))
    if key not in feed.days:
        trips = trips_on(feed, day)
        feed.days[key] = trips, vehicle_blocks(trips, feed.stops)
    return feed.days[key]
