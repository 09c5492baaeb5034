"""A route's departures summarised as hourly headways (the median gap within each hour), the form the
generated cities use for demand and reports."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict

from smartcity.simulator.model import Headway


def hourly_headways(route_id: str, service_id: str, first_departures: list[int]) -> list[Headway]:
    """Hourly headway rows reproducing a list of departure times (GTFS seconds)."""
    deps = sorted(set(first_departures))
    if not deps:
        return []
    gaps = [b - a for a, b in itertools.pairwise(deps)]
    by_hour: dict[int, list[int]] = defaultdict(list)
    first_in_hour: dict[int, int] = {}
    for d, g in zip(deps, [*gaps, None], strict=True):
        h = d // 3600
        first_in_hour.setdefault(h, d)
        if g is not None and g <= 2 * 3600:
            by_hour[h].append(g)
    rows: list[Headway] = []
    last = deps[-1]
    for h in sorted(first_in_hour):
        # a bin with no gap holds the day's last departure: keep the headway before it
        previous = rows[-1].headway_s if rows else 3600
        headway = round(statistics.median(by_hour[h])) if by_hour[h] else previous
        start = first_in_hour[h] if not rows or rows[-1].end_s < h * 3600 else h * 3600
        end = min((h + 1) * 3600, last + 1)
        if rows and rows[-1].end_s == start and rows[-1].headway_s == headway:
            rows[-1] = Headway(route_id, service_id, rows[-1].start_s, end, headway)
        else:
            rows.append(Headway(route_id, service_id, start, end, headway))
    return rows
