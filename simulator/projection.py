"""A local flat projection around a centre (x east, y north, in metres) and polar offsets in it."""

from __future__ import annotations

import math


class LocalProjection:
    """Local flat projection around a centre: x east, y north, metres."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.kx = 111_320.0 * math.cos(math.radians(lat0))
        self.ky = 110_540.0

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        return round(self.lat0 + y / self.ky, 6), round(self.lon0 + x / self.kx, 6)

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky


def polar(r: float, theta: float) -> tuple[float, float]:
    """The point at distance ``r`` and angle ``theta`` (radians, counter-clockwise from east)."""
    return r * math.cos(theta), r * math.sin(theta)
