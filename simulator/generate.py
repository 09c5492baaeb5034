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

import bisect
import itertools
import math
from collections import defaultdict
from zoneinfo import ZoneInfo

import numpy as np

from smartcity.simulator.geometry import city_geometries
from smartcity.simulator.model import Bus, City, Headway, Route, Sensor, Stop, VehicleType
from smartcity.simulator.timetable import fleet_requirement, route_headways

CENTER = (47.3769, 8.5417)
TIMEZONE = "Europe/Zurich"
BASE_RADIUS_M = 3000.0
STOP_SPACING_M = 380.0
SNAP_M = 100.0

VEHICLE_TYPES = (
    VehicleType("standard", seated_capacity=40, capacity=70, boarding_share=1.0, alighting_share=0.6),
    VehicleType("articulated", seated_capacity=55, capacity=110, boarding_share=0.45, alighting_share=0.45),
)

HUB_NAMES = (
    "Hauptbahnhof", "Universität", "Kantonsspital", "Messeplatz", "Stadion", "Seeufer", "Altstadt",
    "Kongresshaus", "Zoo", "Technopark", "Rathaus", "Schlachthof", "Hallenbad", "Werkhof",
)
NAME_HEADS = (
    "Linden", "Eichen", "Birken", "Rosen", "Mühle", "Kirch", "Schloss", "Berg", "See", "Wald", "Feld",
    "Bach", "Sonnen", "Brunnen", "Garten", "Markt", "Tal", "Hof", "Stein", "Weiden", "Ahorn", "Buchen",
    "Ulmen", "Tannen", "Wiesen", "Reben", "Kloster", "Turm", "Burg", "Quell", "Mond", "Stern", "Adler",
    "Falken", "Hirsch", "Fuchs", "Lerchen", "Schwanen", "Platanen", "Kastanien",
)
NAME_TAILS = ("strasse", "platz", "weg", "gasse", "hof", "park", "matt", "acker", "rain", "halde", "brücke",
              "allee")

# peak, midday, early, evening, late headways (s) per route kind; weekend rows derived below
_HEADWAYS = {
    "frequent": (450, 600, 900, 600, 900),
    "radial": (900, 900, 1200, 900, 1800),
    "tangential": (900, 1200, 1800, 1200, 1800),
    "feeder": (1200, 1200, 1800, 1800, 1800),
}
_SPEED_KMH = {"frequent": 26.0, "radial": 27.0, "tangential": 28.0, "feeder": 30.0}
PEAK_LOAD_FACTOR = 1.6  # peak demand = this x capacity x peak departures per hour


class _Projection:
    """Local flat projection around a centre: x east, y north, metres."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.kx = 111_320.0 * math.cos(math.radians(lat0))
        self.ky = 110_540.0

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        return round(self.lat0 + y / self.ky, 6), round(self.lon0 + x / self.kx, 6)

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky


class _StopRegistry:
    def __init__(self, rng: np.random.Generator) -> None:
        self.xy: list[tuple[float, float]] = []
        self.names: list[str] = []
        self.hub: list[int] = []  # 0 plain, 1 ring hub, 2 central hub
        self.rng = rng
        self._free_names = [h + t for h in NAME_HEADS for t in NAME_TAILS]
        rng.shuffle(self._free_names)

    def add(self, x: float, y: float, name: str | None = None, hub: int = 0) -> int:
        if name is None:
            name = self._free_names.pop() if self._free_names else f"Haltestelle {len(self.names) + 1}"
        self.xy.append((x, y))
        self.names.append(name)
        self.hub.append(hub)
        return len(self.xy) - 1

    def near(self, x: float, y: float, radius: float) -> int | None:
        best, best_d = None, radius
        for i, (sx, sy) in enumerate(self.xy):
            d = math.hypot(sx - x, sy - y)
            if d < best_d:
                best, best_d = i, d
        return best


def _polar(r: float, theta: float) -> tuple[float, float]:
    return r * math.cos(theta), r * math.sin(theta)


def _route_path(rng: np.random.Generator, waypoints: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Waypoints with one bent control point inserted in every leg (streets are not straight)."""
    path = [waypoints[0]]
    for (ax, ay), (bx, by) in itertools.pairwise(waypoints):
        length = math.hypot(bx - ax, by - ay)
        if length > 900:
            nx, ny = -(by - ay) / length, (bx - ax) / length
            off = rng.uniform(-0.12, 0.12) * length
            path.append(((ax + bx) / 2 + nx * off, (ay + by) / 2 + ny * off))
        path.append((bx, by))
    return path


def _place_stops(rng: np.random.Generator, reg: _StopRegistry, path: list[tuple[float, float]],
                 anchors: set[int]) -> list[int]:
    """Stops along ``path`` about every ``STOP_SPACING_M``; path points in ``anchors`` (indices) are
    stops too (hubs, ends); a stop within ``SNAP_M`` of an existing one reuses it."""
    pattern: list[int] = []

    def visit(x: float, y: float, forced: int | None = None) -> None:
        sid = forced if forced is not None else reg.near(x, y, SNAP_M)
        if sid is None:
            sid = reg.add(x, y)
        if sid not in pattern:
            pattern.append(sid)

    cum = [0.0]
    for (ax, ay), (bx, by) in itertools.pairwise(path):
        cum.append(cum[-1] + math.hypot(bx - ax, by - ay))
    anchor_d = sorted(cum[i] for i in anchors)
    targets: list[float] = []
    for d0, d1 in itertools.pairwise(anchor_d):
        n = max(1, round((d1 - d0) / STOP_SPACING_M))
        targets += [d0 + (d1 - d0) * (k + rng.uniform(-0.15, 0.15)) / n for k in range(1, n)]
    stops_at = sorted([(d, "a") for d in anchor_d] + [(d, "s") for d in targets])
    anchor_ids = {cum[i]: i for i in anchors}
    for d, kind in stops_at:
        j = min(max(bisect.bisect_left(cum, d), 1), len(cum) - 1)
        (ax, ay), (bx, by) = path[j - 1], path[j]
        seg = cum[j] - cum[j - 1]
        f = 0.0 if seg <= 0 else (d - cum[j - 1]) / seg
        x, y = ax + f * (bx - ax), ay + f * (by - ay)
        if kind == "a":
            visit(x, y, forced=_anchor_stop(reg, path[anchor_ids[d]]))
        else:
            visit(x + rng.normal(0, 25), y + rng.normal(0, 25))
    return pattern


def _anchor_stop(reg: _StopRegistry, point: tuple[float, float]) -> int:
    sid = reg.near(point[0], point[1], 1.0)
    if sid is not None:
        return sid
    near = reg.near(point[0], point[1], SNAP_M)
    return near if near is not None else reg.add(point[0], point[1])


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
    proj = _Projection(*CENTER)
    radius = BASE_RADIUS_M * scale ** 0.2
    n_routes = max(2, round(14 * scale ** 0.8))
    n_central = max(1, round(scale ** 0.4))
    n_ring = max(3, round(6 * scale ** 0.4))

    reg = _StopRegistry(rng)
    hub_names = list(HUB_NAMES)
    central = [reg.add(0.0, 0.0, hub_names.pop(0), hub=2)]
    for k in range(1, n_central):
        x, y = _polar(radius * 0.12, 2 * math.pi * k / max(1, n_central - 1))
        central.append(reg.add(x, y, hub_names.pop(0) if hub_names else f"Zentrum {k + 1}", hub=2))
    ring_angles = sorted((2 * math.pi * k / n_ring + rng.uniform(-0.2, 0.2)) % (2 * math.pi)
                         for k in range(n_ring))
    ring = []
    for k, a in enumerate(ring_angles):
        x, y = _polar(radius * rng.uniform(0.42, 0.55), a)
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
            a = _polar(radius * rng.uniform(0.85, 1.0), theta)
            b = _polar(radius * rng.uniform(0.85, 1.0), other)
            mids = [reg.xy[nearest_ring(theta)], reg.xy[hub_c], reg.xy[nearest_ring(other)]]
            waypoints = [a, *mids, b]
        elif kind == "tangential":
            # every second hub first (0, 2, 4, ...), then the odd ones; later rounds reach further out
            k0 = (2 * tangential_k + (2 * tangential_k) // n_ring) % n_ring
            reach = 0.6 + 0.15 * (tangential_k // n_ring)
            tangential_k += 1
            hubs = [ring[(k0 + m) % n_ring] for m in range(3)]
            a0, a2 = ring_angles[k0], ring_angles[(k0 + 2) % n_ring]
            start = _polar(radius * reach, a0 - 0.35)
            end = _polar(radius * reach, a2 + 0.35)
            waypoints = [start, *(reg.xy[h] for h in hubs), end]
        else:
            h = ring[(feeder_k * 3 + 1) % n_ring]
            a_h = ring_angles[(feeder_k * 3 + 1) % n_ring]
            feeder_k += 1
            end = _polar(radius * rng.uniform(1.2, 1.35), a_h + rng.uniform(-0.5, 0.5))
            waypoints = [reg.xy[h], end]
        path = _route_path(rng, waypoints)
        anchors = {0, len(path) - 1} | {idx for idx, p in enumerate(path) if p in waypoints}
        patterns.append(_place_stops(rng, reg, path, anchors))

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
    fleet = []
    for route in city.routes:
        vt = city.vehicle_type(route.vehicle_type)
        for _ in range(need[route.route_id]):
            fleet.append(Bus(f"B{len(fleet) + 1:0{width}d}", route.route_id, vt.name, vt.seated_capacity,
                             vt.capacity))
    return tuple(fleet)


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
    proj = _Projection(float(np.mean(lats)), float(np.mean(lons)))
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
    sx, sy = _polar(radius * 0.8, ind_theta)
    for k in range(n_ind):
        r = 900 * math.sqrt(rng.uniform(0.02, 1))
        x, y = sx + r * math.cos(rng.uniform(0, 2 * math.pi)), sy + r * math.sin(rng.uniform(0, 2 * math.pi))
        add("industrial", x, y, f"Industrie {k + 1}", 1.1 * float(rng.lognormal(0, 0.15)),
            "pm25 pm10 no2 o3 so2 co" if k % 2 == 0 else "pm25 pm10 no2 so2")
    candidates = [(_polar(radius * math.sqrt(rng.uniform(0.05, 0.8)), rng.uniform(0, 2 * math.pi)))
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
            x, y = _polar(radius * 0.9 * math.sqrt(rng.uniform(0.0, 1.0)), rng.uniform(0, 2 * math.pi))
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
