"""Seeded generator of plausible fictional cities of any size.

``scale`` maps monotonically to size: 14·s^0.8 routes over a radius of 3 km·s^0.2 (so about
150·s stops and 65·s buses) and 40·s^0.75 air sensors; scale 1 is the size of the default
city, scale 8 gives about 74 routes, 500 buses and 190 sensors.

The network has a central hub, a ring of secondary hubs, radial through-routes (the busiest
three run every 7.5 min at the peaks, with articulated buses), tangential routes and feeders;
stops near each other are shared, which makes hubs and stations. Peak demand per route is
``PEAK_LOAD_FACTOR`` x capacity x peak departures per hour, so frequent routes are the busy ones.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from smartcity.simulator.fleet import PEAK_LOAD_FACTOR, VEHICLE_TYPES, size_fleet
from smartcity.simulator.model import City, Headway, Route, Stop
from smartcity.simulator.projection import LocalProjection, polar
from smartcity.simulator.sensor_sites import place_sensors
from smartcity.simulator.stop_layout import StopRegistry, place_stops, route_path

CENTER = (47.3769, 8.5417)
TIMEZONE = "Europe/Zurich"
BASE_RADIUS_M = 3000.0

HUB_NAMES = (
    "Hauptbahnhof", "Universität", "Kantonsspital", "Messeplatz", "Stadion", "Seeufer", "Altstadt",
    "Kongresshaus", "Zoo", "Technopark", "Rathaus", "Schlachthof", "Hallenbad", "Werkhof",
)

# peak, midday, early, evening, late headways (s) per route kind; weekend rows derived below
_HEADWAYS = {
    "frequent": (450, 600, 900, 600, 900),
    "radial": (900, 900, 1200, 900, 1800),
    "tangential": (900, 1200, 1800, 1200, 1800),
    "feeder": (1200, 1200, 1800, 1800, 1800),
}
_SPEED_KMH = {"frequent": 26.0, "radial": 27.0, "tangential": 28.0, "feeder": 30.0}


def _headway_rows(route_id: str, kind: str) -> list[Headway]:
    peak, midday, early, evening, late = _HEADWAYS[kind]
    h = 3600
    weekday = [(5 * h, int(6.5 * h), early), (int(6.5 * h), 9 * h, peak), (9 * h, 16 * h, midday),
               (16 * h, 19 * h, peak), (19 * h, 22 * h, evening), (22 * h, int(24.5 * h), late)]
    saturday = [(6 * h, 9 * h, early), (9 * h, 19 * h, midday), (19 * h, 22 * h, evening),
                (22 * h, int(25.5 * h), late)]
    sunday = [(7 * h, 10 * h, early), (10 * h, 19 * h, evening), (19 * h, int(24.5 * h), late)]
    rows = []
    for service, spans in (("weekday", weekday), ("saturday", saturday), ("sunday", sunday)):
        rows += [Headway(route_id, service, a, b, hw) for a, b, hw in spans]
    return rows


def generate_city(scale: float = 1.0, seed: int = 0, name: str = "Lindenfeld") -> City:
    """A fictional city around 47.38 N 8.54 E; same (scale, seed) gives the same city."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    rng = np.random.default_rng(seed)
    proj = LocalProjection(*CENTER)
    radius = BASE_RADIUS_M * scale ** 0.2
    n_routes = max(2, round(14 * scale ** 0.8))
    n_central = max(1, round(scale ** 0.4))
    n_ring = max(3, round(6 * scale ** 0.4))

    reg = StopRegistry(rng)
    hub_names = list(HUB_NAMES)
    central = [reg.add(0.0, 0.0, hub_names.pop(0), hub=2)]
    for k in range(1, n_central):
        x, y = polar(radius * 0.12, 2 * math.pi * k / max(1, n_central - 1))
        central.append(reg.add(x, y, hub_names.pop(0) if hub_names else f"Zentrum {k + 1}", hub=2))
    ring_angles = sorted((2 * math.pi * k / n_ring + rng.uniform(-0.2, 0.2)) % (2 * math.pi)
                         for k in range(n_ring))
    ring = []
    for k, a in enumerate(ring_angles):
        x, y = polar(radius * rng.uniform(0.42, 0.55), a)
        ring.append(reg.add(x, y, hub_names.pop(0) if hub_names else f"Bahnhof {k + 1}", hub=1))

    def nearest_ring(theta: float) -> int:
        return ring[int(np.argmin([abs(math.remainder(theta - a, 2 * math.pi)) for a in ring_angles]))]

    kinds: list[str] = []
    for i in range(n_routes):
        j = i % 14
        kinds.append("frequent" if j < 3 else "radial" if j < 7 else "tangential" if j < 11 else "feeder")
    n_radial = sum(k in ("frequent", "radial") for k in kinds)
    routes: list[Route] = []
    patterns: list[list[int]] = []
    radial_k = tangential_k = feeder_k = 0
    for kind in kinds:
        if kind in ("frequent", "radial"):
            theta = math.pi * (radial_k + 0.5) / max(1, n_radial) + rng.uniform(-0.15, 0.15)
            radial_k += 1
            other = theta + math.pi + rng.uniform(-0.4, 0.4)
            hub_c = central[radial_k % len(central)]
            a = polar(radius * rng.uniform(0.85, 1.0), theta)
            b = polar(radius * rng.uniform(0.85, 1.0), other)
            mids = [reg.xy[nearest_ring(theta)], reg.xy[hub_c], reg.xy[nearest_ring(other)]]
            waypoints = [a, *mids, b]
        elif kind == "tangential":
            # every second hub first (0, 2, 4, ...), then the odd ones; later rounds reach further out
            k0 = (2 * tangential_k + (2 * tangential_k) // n_ring) % n_ring
            reach = 0.6 + 0.15 * (tangential_k // n_ring)
            tangential_k += 1
            hubs = [ring[(k0 + m) % n_ring] for m in range(3)]
            a0, a2 = ring_angles[k0], ring_angles[(k0 + 2) % n_ring]
            start = polar(radius * reach, a0 - 0.35)
            end = polar(radius * reach, a2 + 0.35)
            waypoints = [start, *(reg.xy[h] for h in hubs), end]
        else:
            h = ring[(feeder_k * 3 + 1) % n_ring]
            a_h = ring_angles[(feeder_k * 3 + 1) % n_ring]
            feeder_k += 1
            end = polar(radius * rng.uniform(1.2, 1.35), a_h + rng.uniform(-0.5, 0.5))
            waypoints = [reg.xy[h], end]
        path = route_path(rng, waypoints)
        anchors = {0, len(path) - 1} | {idx for idx, p in enumerate(path) if p in waypoints}
        patterns.append(place_stops(rng, reg, path, anchors))

    width = max(3, len(str(len(reg.xy))))
    served: dict[int, set[int]] = defaultdict(set)
    for r, pat in enumerate(patterns):
        for s in pat:
            served[s].add(r)
    used = sorted(served)
    stop_ids = {s: f"S{n + 1:0{width}d}" for n, s in enumerate(used)}
    stops = []
    for s in used:
        x, y = reg.xy[s]
        lat, lon = proj.to_latlon(x, y)
        n_served = len(served[s])
        dist = math.hypot(x, y)
        if reg.hub[s] == 2:
            weight = 8.0 * rng.uniform(0.9, 1.1)
        elif reg.hub[s] == 1:
            weight = 4.5 * rng.uniform(0.85, 1.15)
        elif n_served >= 2:
            weight = 2.0 + 0.5 * (n_served - 2) + rng.uniform(0, 0.5)
        else:
            weight = float(rng.lognormal(0.0, 0.35)) * (0.6 + 0.8 * math.exp(-dist / radius))
        stops.append(Stop(stop_ids[s], reg.names[s], lat, lon, is_station=reg.hub[s] > 0 or n_served >= 2,
                          demand_weight=round(weight, 2)))

    route_width = max(2, len(str(n_routes)))
    headways: list[Headway] = []
    by_id = {st.stop_id: st for st in stops}
    for i, (kind, pat) in enumerate(zip(kinds, patterns, strict=True)):
        rid = f"R{i + 1:0{route_width}d}"
        ids = tuple(stop_ids[s] for s in pat)
        vehicle = VEHICLE_TYPES[1] if kind == "frequent" else VEHICLE_TYPES[0]
        peak_per_hour = 3600 / _HEADWAYS[kind][0]
        routes.append(Route(
            route_id=rid,
            short_name=str(i + 1),
            long_name=f"{by_id[ids[0]].name} – {by_id[ids[-1]].name}",
            vehicle_type=vehicle.name,
            speed_kmh=round(_SPEED_KMH[kind] + rng.uniform(-1.5, 1.5), 1),
            peak_demand_pph=round(PEAK_LOAD_FACTOR * vehicle.capacity * peak_per_hour, 1),
            patterns=(ids, tuple(reversed(ids))),
        ))
        headways += _headway_rows(rid, kind)

    draft = City(name=name, timezone=TIMEZONE, stops=tuple(stops), routes=tuple(routes),
                 headways=tuple(headways), vehicle_types=VEHICLE_TYPES, fleet=(), sensors=())
    fleet = size_fleet(draft)
    n_sensors = max(4, round(40 * scale ** 0.75))
    sensors, source = place_sensors(draft, n_sensors, seed)
    return City(
        name=name,
        timezone=TIMEZONE,
        description=(f"Fictional city generated with scale={scale} seed={seed}: radial, tangential and "
                     "feeder bus routes around a central hub; air sensors beside roads, in an industrial "
                     "area, in parks and in the urban background."),
        stops=tuple(stops),
        routes=tuple(routes),
        headways=tuple(headways),
        vehicle_types=VEHICLE_TYPES,
        fleet=fleet,
        sensors=sensors,
        industrial_source=source,
    )
