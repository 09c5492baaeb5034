"""The fleet figures' second stage: per-bus window records from any number of members, merged by
window, give the mart's definition (Σ passengers / Σ readings over every bus) whatever the order,
the split between members, or replays."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.ingest.alerts.fleet import FleetWindows, fleet_by_window, passengers_total
from smartcity.proto import BusWindowStats

W = 1_200_000
T0 = 1_741_680_000_000

parts = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40), st.integers(1, 400), st.integers(0, 200)),
                 min_size=1, max_size=60, unique_by=lambda p: (p[0], p[1]))


def _records(spec: list[tuple[int, int, int, int]]) -> list[BusWindowStats]:
    """(window index, bus, readings, mean passengers) -> records whose mean is an integer sum / count."""
    out = []
    for window, bus, readings, mean in spec:
        total = mean * readings + (bus % readings)  # not always a whole mean
        start = T0 + window * W
        out.append(BusWindowStats(bus_id=f"B{bus}", window_start_ms=start, window_end_ms=start + W,
                                  readings=readings, passengers_mean=total / readings))
    return out


@given(parts, st.randoms(use_true_random=False), st.integers(1, 4))
def test_any_split_order_or_replay_gives_the_single_reader_s_figures(spec, rnd: random.Random, members: int) -> None:
    records = _records(spec)
    want: dict[int, tuple[int, int, int]] = {}
    for m in records:
        buses, total, readings = want.get(m.window_start_ms, (0, 0, 0))
        want[m.window_start_ms] = (buses + 1, total + passengers_total(m), readings + m.readings)
    # members each send their buses' records in their own order; one resends some of them
    shares = [[m for m in records if hash(m.bus_id) % members == k] for k in range(members)]
    arrival = [m for share in shares for m in rnd.sample(share, len(share))] + rnd.sample(records, len(records) // 3)
    rnd.shuffle(arrival)
    got = fleet_by_window(arrival)
    assert {s: (f.buses, f.passengers_mean) for s, f in got.items()} == {
        s: (b, t / r) for s, (b, t, r) in want.items()}


def test_the_total_behind_a_mean_is_recovered_exactly() -> None:
    for readings in (1, 3, 7, 180, 4_321):
        for total in (0, 1, readings * 199 + 3, 1_000_003):
            assert passengers_total(BusWindowStats(readings=readings, passengers_mean=total / readings)) == total


def test_a_live_merge_keeps_the_newest_windows_and_survives_a_dump() -> None:
    fleet = FleetWindows(keep=2)
    for window in (0, 1, 2):
        fleet.add(_records([(window, 1, 2, 10)])[0])
    assert sorted(fleet.windows) == [T0 + W, T0 + 2 * W]
    assert fleet.add(_records([(0, 2, 2, 10)])[0]) is None  # older than every window kept
    again = FleetWindows.load(fleet.dump(), keep=2)
    figures = again.add(_records([(2, 7, 3, 40)])[0])
    assert figures is not None and (figures.buses, figures.passengers_mean) == (2, pytest.approx((21 + 121) / 5))
    assert again.latest() == figures
