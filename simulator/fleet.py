"""Vehicle types, the peak demand they are sized for, and the fleet a city's timetable needs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from smartcity.simulator.geometry import city_geometries
from smartcity.simulator.model import Bus, City, VehicleType
from smartcity.simulator.timetable import fleet_requirement, route_headways

VEHICLE_TYPES = (
    VehicleType("standard", seated_capacity=40, capacity=70, boarding_share=1.0, alighting_share=0.6),
    VehicleType("articulated", seated_capacity=55, capacity=110, boarding_share=0.45, alighting_share=0.45),
)
MODE_VEHICLE_TYPES = (
    VehicleType("tram", seated_capacity=60, capacity=180, boarding_share=0.3, alighting_share=0.3),
    VehicleType("metro", seated_capacity=200, capacity=900, boarding_share=0.12, alighting_share=0.12),
    VehicleType("rail", seated_capacity=400, capacity=700, boarding_share=0.15, alighting_share=0.15),
    VehicleType("ferry", seated_capacity=250, capacity=300, boarding_share=0.5, alighting_share=0.5),
    VehicleType("cable", seated_capacity=8, capacity=30, boarding_share=1.0, alighting_share=1.0),
)
"""Vehicles of the other GTFS modes (a train counts as one vehicle), for imported feeds."""
_MODES = {0: "tram", 5: "tram", 1: "metro", 12: "metro", 2: "rail", 4: "ferry", 6: "cable", 7: "cable"}
_EXTENDED = ((100, 200, "rail"), (400, 500, "metro"), (900, 1000, "tram"), (1000, 1100, "ferry"),
             (1200, 1300, "ferry"), (1300, 1500, "cable"))


def mode_vehicle(route_type: int) -> str | None:
    """The vehicle type of a GTFS ``route_type`` (basic or extended); None for buses (standard or
    articulated by frequency) and trolleybuses."""
    if route_type in _MODES:
        return _MODES[route_type]
    for low, high, name in _EXTENDED:
        if low <= route_type < high:
            return name
    return None


PEAK_LOAD_FACTOR = 1.6  # peak demand = this x capacity x peak departures per hour


def size_fleet(city: City) -> tuple[Bus, ...]:
    """One vehicle per bus needed by each route's busiest day, of the route's vehicle type."""
    geoms = city_geometries(city)
    rows = route_headways(city)
    tz = ZoneInfo(city.timezone)
    need = {r.route_id: fleet_requirement(city, r, geoms, {s: rows.get((r.route_id, s), [])
                                                     for s in ("weekday", "saturday", "sunday")}, tz)
            for r in city.routes}
    total = sum(need.values())
    width = max(3, len(str(total)))
    fleet: list[Bus] = []
    for route in city.routes:
        vt = city.vehicle_type(route.vehicle_type)
        for _ in range(need[route.route_id]):
            fleet.append(Bus(f"B{len(fleet) + 1:0{width}d}", route.route_id, vt.name, vt.seated_capacity,
                             vt.capacity))
    return tuple(fleet)
