"""The trips a feed runs on one service date: the trips of the services running that date, with each
``frequencies.txt`` trip expanded into the trips its headways give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from smartcity.simulator.gtfs.feed import Feed, FeedTrip
from smartcity.simulator.model import format_gtfs_time


@dataclass(frozen=True, slots=True)
class DayTrip:
    """A trip of one service date; times are GTFS seconds of that date (they may pass 24:00:00)."""

    trip_id: str
    route_id: str
    direction_id: int
    block_id: str
    stop_ids: tuple[str, ...]
    arrivals: tuple[int, ...]
    departures: tuple[int, ...]

    @property
    def start_s(self) -> int:
        return self.departures[0]

    @property
    def end_s(self) -> int:
        return self.arrivals[-1]


def _shifted(trip: FeedTrip, start: int) -> DayTrip:
    shift = start - trip.departures[0]
    return DayTrip(f"{trip.trip_id}@{format_gtfs_time(start)}", trip.route_id, trip.direction_id, trip.block_id,
                   trip.stop_ids, tuple(t + shift for t in trip.arrivals), tuple(t + shift for t in trip.departures))


def trips_on(feed: Feed, day: date) -> list[DayTrip]:
    """Every trip ``feed`` runs on ``day``, by departure time.

    A trip listed in ``frequencies.txt`` runs at ``start_time``, then every ``headway_secs`` while the
    departure is before ``end_time`` (for ``exact_times`` 1 these are the published times; for 0 the
    feed promises only the headway, and these are the times the simulation runs). Its stop times keep
    the template trip's spacing. Expanded trips are named ``<trip_id>@<HH:MM:SS>``.
    """
    services = feed.calendar.services_on(day)
    out: list[DayTrip] = []
    for trip in feed.trips.values():
        if trip.service_id not in services:
            continue
        frequencies = feed.frequencies.get(trip.trip_id)
        if not frequencies:
            out.append(DayTrip(trip.trip_id, trip.route_id, trip.direction_id, trip.block_id, trip.stop_ids,
                               trip.arrivals, trip.departures))
            continue
        for f in frequencies:
            t = f.start_s
            while t < f.end_s:
                out.append(_shifted(trip, t))
                t += f.headway_s
    out.sort(key=lambda t: (t.start_s, t.trip_id))
    return out


def trips_in_progress(trips: list[DayTrip]) -> tuple[int, int]:
    """The most trips running at once (first departure inclusive, last arrival exclusive), and when."""
    edges = sorted([(t.start_s, 1) for t in trips] + [(t.end_s, -1) for t in trips])  # ends before starts
    running = best = 0
    when = 0
    for at, step in edges:
        running += step
        if running > best:
            best, when = running, at
    return best, when
