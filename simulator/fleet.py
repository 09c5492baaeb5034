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
