"""Route geometry: the polyline through a pattern's stops, precomputed for fast interpolation.

Along a segment, positions are linear in latitude and longitude, so every interpolated point
lies on the polyline; segment lengths are great-circle distances in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from smartcity.simulator.model import City, Route, bearing_deg, haversine_m
from smartcity.simulator.projection import LocalProjection


@dataclass(frozen=True, slots=True)
class PatternGeometry:
    """One direction of one route: stops, cumulative distance (m) and bearings (degrees)."""

    route_id: str
    direction_id: int
    stop_ids: tuple[str, ...]
    lats: tuple[float, ...]
    lons: tuple[float, ...]
    seg_len_m: tuple[float, ...]  # length of segment i (stop i to stop i + 1)
    cum_m: tuple[float, ...]  # distance from the first stop to stop i
    bearings: tuple[float, ...]  # bearing of segment i

    @property
    def length_m(self) -> float:
        return self.cum_m[-1]

    def point_at(self, distance_m: float) -> tuple[float, float]:
        """(lat, lon) at ``distance_m`` along the polyline (clamped to its ends)."""
        d = min(max(distance_m, 0.0), self.length_m)
        for i, seg in enumerate(self.seg_len_m):
            if d <= self.cum_m[i + 1] or i == len(self.seg_len_m) - 1:
                f = 0.0 if seg <= 0 else (d - self.cum_m[i]) / seg
                return (self.lats[i] + f * (self.lats[i + 1] - self.lats[i]),
                        self.lons[i] + f * (self.lons[i + 1] - self.lons[i]))
        return self.lats[0], self.lons[0]

    def distance_from(self, lat: float, lon: float) -> float:
        """Shortest distance in metres from a point to the polyline (local flat projection)."""
        proj = LocalProjection(lat, lon)
        best = math.inf
        for i in range(len(self.seg_len_m)):
            ax, ay = proj.to_xy(self.lats[i], self.lons[i])
            bx, by = proj.to_xy(self.lats[i + 1], self.lons[i + 1])
            dx, dy = bx - ax, by - ay
            den = dx * dx + dy * dy
            t = 0.0 if den == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / den))
            px, py = ax + t * dx, ay + t * dy
            best = min(best, math.hypot(px, py))
        return best


def pattern_geometry(city: City, route: Route, direction_id: int) -> PatternGeometry:
    """Precompute the geometry of ``route.patterns[direction_id]``."""
    stops = [city.stop(sid) for sid in route.patterns[direction_id]]
    lats = tuple(s.lat for s in stops)
    lons = tuple(s.lon for s in stops)
    seg = tuple(haversine_m(lats[i], lons[i], lats[i + 1], lons[i + 1]) for i in range(len(stops) - 1))
    cum = [0.0]
    for s in seg:
        cum.append(cum[-1] + s)
    bearings = tuple(bearing_deg(lats[i], lons[i], lats[i + 1], lons[i + 1]) for i in range(len(stops) - 1))
    return PatternGeometry(route.route_id, direction_id, tuple(s.stop_id for s in stops), lats, lons, seg,
                           tuple(cum), bearings)


def city_geometries(city: City) -> dict[tuple[str, int], PatternGeometry]:
    """Geometry of every (route_id, direction_id) pattern with at least two stops."""
    return {
        (r.route_id, d): pattern_geometry(city, r, d)
        for r in city.routes
        for d, p in enumerate(r.patterns)
        if len(p) >= 2
    }
