"""The route network as the transit engine runs it: each route direction's stops, queues and alighting odds."""

from __future__ import annotations

from collections import defaultdict

from smartcity.simulator.config import SimConfig
from smartcity.simulator.demand import Pool
from smartcity.simulator.geometry import PatternGeometry
from smartcity.simulator.model import City


class PatternState:
    """Runtime view of one route direction: geometry as lists, queues and alighting odds."""

    __slots__ = (
        "bearings", "cum", "direction_id", "is_station", "last", "lats", "lons", "p_alight",
        "pools", "route_id", "segs", "speed_mps", "stop_ids"
    )

    def __init__(self, geom: PatternGeometry, weights: list[float], stations: set[str], speed_kmh: float,
                 share_per_s: float, max_waiting: int) -> None:
        self.route_id = geom.route_id
        self.direction_id = geom.direction_id
        self.stop_ids = geom.stop_ids
        self.lats = geom.lats
        self.lons = geom.lons
        self.cum = geom.cum_m
        self.bearings = geom.bearings
        self.last = len(geom.stop_ids) - 1
        self.is_station = [sid in stations for sid in geom.stop_ids]
        self.speed_mps = speed_kmh / 3.6
        self.segs = [
            (geom.lats[i], geom.lats[i + 1] - geom.lats[i], geom.lons[i], geom.lons[i + 1] - geom.lons[i],
             geom.seg_len_m[i], geom.bearings[i])
            for i in range(self.last)
        ]
        board_w = sum(weights[:-1]) or 1.0
        self.pools: list[Pool | None] = [Pool(share_per_s * w / board_w, max_waiting) for w in weights[:-1]]
        self.pools.append(None)
        self.p_alight = [0.0] * (self.last + 1)
        for k in range(1, self.last + 1):
            ahead = sum(weights[k:])
            self.p_alight[k] = 1.0 if k == self.last or ahead <= 0 else weights[k] / ahead


def route_patterns(city: City, geoms: dict[tuple[str, int], PatternGeometry], stations: set[str],
                   config: SimConfig) -> dict[tuple[str, int], PatternState]:
    """A :class:`PatternState` per (route_id, direction_id) of ``geoms``."""
    routes = {r.route_id: r for r in city.routes}
    patterns: dict[tuple[str, int], PatternState] = {}
    for (route_id, direction), geom in geoms.items():
        route = routes[route_id]
        weights = [max(0.0, city.stop(sid).demand_weight) for sid in geom.stop_ids]
        share = route.peak_demand_pph * config.demand_scale / 3600.0
        patterns[(route_id, direction)] = PatternState(geom, weights, stations, route.speed_kmh, share,
                                                       config.max_waiting)
    return patterns


def station_pools(patterns: dict[tuple[str, int], PatternState], stations: set[str]) -> dict[str, list[Pool]]:
    """The queues of every station: one per route direction that boards there."""
    pools: dict[str, list[Pool]] = defaultdict(list)
    for pat in patterns.values():
        for sid, pool in zip(pat.stop_ids, pat.pools, strict=True):
            if pool is not None and sid in stations:
                pools[sid].append(pool)
    return pools
