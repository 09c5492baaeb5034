"""Where a city's air sensors stand: beside busy roads, in the industrial area, in parks and in the background."""

from __future__ import annotations

import itertools
import math

import numpy as np

from smartcity.simulator.model import City, Sensor
from smartcity.simulator.projection import LocalProjection, polar


def place_sensors(city: City, n: int, seed: int) -> tuple[tuple[Sensor, ...], tuple[float, float]]:
    """Air sensors for a city's network and the location of its industrial emitter.

    45 % beside busy roads (next to route segments, weighted by peak demand), 20 % in an
    industrial area west-south-west of the centre (upwind under the prevailing wind), 10 % in
    parks away from the bus network and the industry, the rest in the urban background (at
    least 1.5 km from the industry).
    """
    rng = np.random.default_rng([seed, 7919])
    lats = np.array([s.lat for s in city.stops])
    lons = np.array([s.lon for s in city.stops])
    proj = LocalProjection(float(np.mean(lats)), float(np.mean(lons)))
    xy = np.array([proj.to_xy(la, lo) for la, lo in zip(lats, lons, strict=True)])
    radius = float(np.quantile(np.hypot(xy[:, 0], xy[:, 1]), 0.9)) if len(xy) else 3000.0
    n_ind = max(1, round(0.2 * n))
    n_park = max(1, round(0.1 * n))
    n_road = max(1, round(0.45 * n))
    n_bg = max(0, n - n_ind - n_park - n_road)
    by_id = {s.stop_id: s for s in city.stops}

    segments: list[tuple[str, str, float]] = []
    for route in city.routes:
        pat = route.patterns[0]
        segments += [(a, b, route.peak_demand_pph) for a, b in itertools.pairwise(pat)]
    weights = np.array([w for _, _, w in segments], dtype=np.float64)
    weights /= weights.sum()

    sensors: list[Sensor] = []

    def add(site: str, x: float, y: float, label: str, factor: float, pollutants: str) -> None:
        lat, lon = proj.to_latlon(x, y)
        sensors.append(Sensor("", label, lat, lon, site, tuple(pollutants.split()), round(factor, 3)))

    for k in range(n_road):
        a, b, w = segments[int(rng.choice(len(segments), p=weights))]
        ax, ay = proj.to_xy(by_id[a].lat, by_id[a].lon)
        bx, by = proj.to_xy(by_id[b].lat, by_id[b].lon)
        f = rng.uniform(0.2, 0.8)
        length = max(1.0, math.hypot(bx - ax, by - ay))
        off = rng.choice([-1, 1]) * rng.uniform(12, 30)
        x = ax + f * (bx - ax) - (by - ay) / length * off
        y = ay + f * (by - ay) + (bx - ax) / length * off
        busy = w / float(np.max([s[2] for s in segments]))
        full = k % 3 == 0
        add("road", x, y, f"{by_id[a].name} roadside", (1.4 + 1.2 * busy) * float(rng.lognormal(0, 0.15)),
            "pm25 pm10 no2 o3 so2 co" if full else "pm25 pm10 no2 co")
    ind_theta = math.radians(90 - 250)  # bearing 250 degrees from the centre
    sx, sy = polar(radius * 0.8, ind_theta)
    for k in range(n_ind):
        r = 900 * math.sqrt(rng.uniform(0.02, 1))
        x, y = sx + r * math.cos(rng.uniform(0, 2 * math.pi)), sy + r * math.sin(rng.uniform(0, 2 * math.pi))
        add("industrial", x, y, f"Industrie {k + 1}", 1.1 * float(rng.lognormal(0, 0.15)),
            "pm25 pm10 no2 o3 so2 co" if k % 2 == 0 else "pm25 pm10 no2 so2")
    candidates = [(polar(radius * math.sqrt(rng.uniform(0.05, 0.8)), rng.uniform(0, 2 * math.pi)))
                  for _ in range(400)]
    clearance = [float(np.min(np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)))
                 if math.hypot(cx - sx, cy - sy) > 1500 else 0.0 for cx, cy in candidates]
    parks: list[tuple[float, float]] = []
    for i in np.argsort(clearance)[::-1]:
        cx, cy = candidates[int(i)]
        if len(parks) < n_park and all(math.hypot(cx - px, cy - py) > 800 for px, py in parks):
            parks.append((cx, cy))
    for k, (cx, cy) in enumerate(parks):
        add("park", cx, cy, f"Stadtpark {k + 1}", 0.15 * float(rng.lognormal(0, 0.2)), "pm25 pm10 no2 o3")
    for k in range(n_bg):
        x, y = sx, sy
        while math.hypot(x - sx, y - sy) < 1500:  # background sites stay clear of the industry
            x, y = polar(radius * 0.9 * math.sqrt(rng.uniform(0.0, 1.0)), rng.uniform(0, 2 * math.pi))
        near = int(np.argmin(np.hypot(xy[:, 0] - x, xy[:, 1] - y)))
        add("background", x, y, f"{city.stops[near].name} background",
            0.55 * float(rng.lognormal(0, 0.2)),
            "pm25 pm10 no2 o3 so2 co" if k % 3 == 0 else "pm25 pm10 no2 o3")
    width = max(3, len(str(len(sensors))))
    out = tuple(
        Sensor(f"AQ{i + 1:0{width}d}", s.name, s.lat, s.lon, s.site_type, s.pollutants, s.emission_factor)
        for i, s in enumerate(sensors)
    )
    return out, proj.to_latlon(sx, sy)
