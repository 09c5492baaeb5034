"""The network the page draws, from the city model: stops, route paths and sensor sites (pure).

The machines that run the view have no internet, so there are no map tiles: the page projects these
coordinates itself. A route's path is the polyline through the stops of each of its patterns.
"""

from __future__ import annotations

from typing import Any

from smartcity.simulator.model import City


def network(city: City) -> dict[str, Any]:
    stops = [{"id": s.stop_id, "name": s.name, "lat": s.lat, "lon": s.lon, "station": s.is_station}
             for s in city.stops]
    routes = []
    for route in city.routes:
        paths = []
        for pattern in route.patterns:
            points = [[city.stop(stop_id).lat, city.stop(stop_id).lon] for stop_id in pattern]
            if len(points) >= 2 and points[::-1] not in paths:
                paths.append(points)
        routes.append({"id": route.route_id, "short_name": route.short_name, "long_name": route.long_name,
                       "paths": paths})
    sensors = [{"id": s.sensor_id, "name": s.name, "lat": s.lat, "lon": s.lon} for s in city.sensors]
    lats = [s.lat for s in city.stops] + [s.lat for s in city.sensors]
    lons = [s.lon for s in city.stops] + [s.lon for s in city.sensors]
    bounds = [min(lats), min(lons), max(lats), max(lons)] if lats else [0.0, 0.0, 0.0, 0.0]
    return {"name": city.name, "timezone": city.timezone, "bounds": bounds, "stops": stops, "routes": routes,
            "sensors": sensors}
