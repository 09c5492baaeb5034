"""Stops of generated cities: named, shared where routes meet, placed along bent route paths."""

from __future__ import annotations

import bisect
import itertools
import math

import numpy as np

STOP_SPACING_M = 380.0
SNAP_M = 100.0

NAME_HEADS = (
    "Linden", "Eichen", "Birken", "Rosen", "Mühle", "Kirch", "Schloss", "Berg", "See", "Wald", "Feld",
    "Bach", "Sonnen", "Brunnen", "Garten", "Markt", "Tal", "Hof", "Stein", "Weiden", "Ahorn", "Buchen",
    "Ulmen", "Tannen", "Wiesen", "Reben", "Kloster", "Turm", "Burg", "Quell", "Mond", "Stern", "Adler",
    "Falken", "Hirsch", "Fuchs", "Lerchen", "Schwanen", "Platanen", "Kastanien",
)
NAME_TAILS = ("strasse", "platz", "weg", "gasse", "hof", "park", "matt", "acker", "rain", "halde", "brücke",
              "allee")


class StopRegistry:
    """Stops placed so far (local x, y in metres), their names and hub levels."""

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


def route_path(rng: np.random.Generator, waypoints: list[tuple[float, float]]) -> list[tuple[float, float]]:
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


def place_stops(rng: np.random.Generator, reg: StopRegistry, path: list[tuple[float, float]],
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


def _anchor_stop(reg: StopRegistry, point: tuple[float, float]) -> int:
    sid = reg.near(point[0], point[1], 1.0)
    if sid is not None:
        return sid
    near = reg.near(point[0], point[1], SNAP_M)
    return near if near is not None else reg.add(point[0], point[1])
