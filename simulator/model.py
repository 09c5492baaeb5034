"""The city model: stops, routes, timetable, fleet and air-quality sensor sites.

Every class is a frozen dataclass; a :class:`City` is a value that the loaders build and the
simulator reads. Coordinates are WGS-84 degrees, distances metres, times seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smartcity.simulator.gtfs.feed import Feed

SERVICE_IDS: tuple[str, ...] = ("weekday", "saturday", "sunday")
SITE_TYPES: tuple[str, ...] = ("road", "industrial", "background", "park")
POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "no2", "o3", "so2", "co")

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Stop:
    """A stop; every stop records vehicle visits, and ``is_station`` marks those that also count their
    waiting passengers (PASSENGER_COUNT events) and appear in the station reports."""

    stop_id: str
    name: str
    lat: float
    lon: float
    is_station: bool = False
    demand_weight: float = 1.0  # relative attraction for boarding and alighting (dimensionless)


@dataclass(frozen=True, slots=True)
class Route:
    """A route with its ordered stop patterns: one per direction (``patterns[direction_id]``) in a
    generated city; in an imported one, every distinct stop sequence its trips run, most used first.

    The route geometry is the polyline through the stops of a pattern.
    """

    route_id: str
    short_name: str
    long_name: str
    vehicle_type: str
    speed_kmh: float  # running speed between stops in free-flowing traffic, km/h
    peak_demand_pph: float  # passengers per hour per direction wanting this route at the weekday peak
    patterns: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Headway:
    """Departures every ``headway_s`` from ``start_s`` (inclusive) to ``end_s`` (exclusive).

    Times are seconds after the service day's "noon minus 12 h" (GTFS convention), so they
    may exceed 86 400 for trips after midnight. ``service_id`` is weekday, saturday or sunday.
    """

    route_id: str
    service_id: str
    start_s: int
    end_s: int
    headway_s: int


@dataclass(frozen=True, slots=True)
class VehicleType:
    """A bus model: seats, total design capacity (seated + standing) and door channels.

    ``boarding_share`` and ``alighting_share`` are the fractions of boarding and alighting
    passengers who use the busiest door (TCQSM P_b and P_a per passenger).
    """

    name: str
    seated_capacity: int
    capacity: int
    boarding_share: float
    alighting_share: float


@dataclass(frozen=True, slots=True)
class Bus:
    """One vehicle of the fleet; it runs blocks of trips on its ``route_id``."""

    bus_id: str
    route_id: str
    vehicle_type: str
    seated_capacity: int
    capacity: int


@dataclass(frozen=True, slots=True)
class Sensor:
    """An air-quality sensor site.

    ``site_type`` is road, industrial, background or park. ``emission_factor`` scales the local
    traffic contribution (dimensionless, about 2 beside a busy road, 0.2 in a park).
    ``pollutants`` lists the channels the sensor measures (names from :data:`POLLUTANTS`).
    """

    sensor_id: str
    name: str
    lat: float
    lon: float
    site_type: str
    pollutants: tuple[str, ...]
    emission_factor: float


@dataclass(frozen=True, slots=True)
class City:
    """A whole city: transit network, timetable, fleet and sensors."""

    name: str
    timezone: str  # IANA zone of the timetable and of the daily cycles
    stops: tuple[Stop, ...]
    routes: tuple[Route, ...]
    headways: tuple[Headway, ...]
    vehicle_types: tuple[VehicleType, ...]
    fleet: tuple[Bus, ...]
    sensors: tuple[Sensor, ...]
    industrial_source: tuple[float, float] | None = None  # (lat, lon) of the main industrial emitter
    description: str = ""
    feed: Feed | None = field(default=None, repr=False, compare=False)
    """An imported city's GTFS feed: its trips, stop times, calendar and blocks are the timetable
    (``headways`` then only summarise it)."""
    _stop_index: dict[str, Stop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stop_index", {s.stop_id: s for s in self.stops})

    def stop(self, stop_id: str) -> Stop:
        return self._stop_index[stop_id]

    def route(self, route_id: str) -> Route:
        for route in self.routes:
            if route.route_id == route_id:
                return route
        raise KeyError(route_id)

    def vehicle_type(self, name: str) -> VehicleType:
        for vt in self.vehicle_types:
            if vt.name == name:
                return vt
        raise KeyError(name)

    @property
    def stations(self) -> tuple[Stop, ...]:
        return tuple(s for s in self.stops if s.is_station)

    def summary(self) -> dict[str, int]:
        """Counts of routes, stops, stations, buses and sensors."""
        return {
            "routes": len(self.routes),
            "stops": len(self.stops),
            "stations": len(self.stations),
            "buses": len(self.fleet),
            "sensors": len(self.sensors),
        }


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from true north in [0, 360)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360.0


def format_gtfs_time(seconds: int) -> str:
    """``HH:MM:SS`` with hours allowed past 24 (GTFS)."""
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def parse_gtfs_time(text: str) -> int:
    """Seconds from a GTFS ``H:MM:SS`` time; hours may exceed 24."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        raise ValueError(f"not a GTFS time: {text!r}")
    h, m, s = (int(p) for p in parts)
    return h * 3600 + m * 60 + s
