"""Alert state machines: hysteresis without flapping, peaks, critical updates, silence."""

from __future__ import annotations

import math

import pytest

from smartcity.ingest.alerts.rules import Change, Hysteresis, RuleState, Silence, alert_id

CROWDING = Hysteresis(open_at=0.8, close_below=0.7, open_after=3, close_after=3, critical_at=1.0)


def run(rule: Hysteresis, values: list[float], state: RuleState | None = None,
        t0: int = 0) -> tuple[list[Change], RuleState]:
    state = state or RuleState()
    changes = [c for i, v in enumerate(values) if (c := state.update(rule, t0 + i * 1000, v)) is not None]
    return changes, state


def test_opens_after_n_consecutive_readings_and_starts_at_the_first() -> None:
    changes, state = run(CROWDING, [0.5, 0.85, 0.9, 0.86, 0.88])
    assert [(c.transition, c.start_ms, c.event_time_ms, c.observed, c.peak) for c in changes] == [
        ("OPEN", 1000, 3000, 0.86, 0.9)]
    assert state.is_open and not state.critical


def test_a_broken_run_does_not_open() -> None:
    changes, state = run(CROWDING, [0.9, 0.9, 0.5, 0.9, 0.9, 0.6, 0.95, 0.95])
    assert changes == [] and not state.is_open


def test_above_means_strictly_above_unless_inclusive() -> None:
    assert run(CROWDING, [0.8] * 5)[0] == []
    aqi = Hysteresis(open_at=151, close_below=141, inclusive=True)
    assert [c.transition for c in run(aqi, [151])[0]] == ["OPEN"]


def test_closes_after_m_calm_readings_and_ends_at_the_first_of_them() -> None:
    values = [0.9, 0.95, 0.92, 0.6, 0.65, 0.5]
    changes, state = run(CROWDING, values)
    assert [c.transition for c in changes] == ["OPEN", "CLOSED"]
    closed = changes[1]
    assert (closed.start_ms, closed.end_ms, closed.event_time_ms, closed.peak) == (0, 3000, 5000, 0.95)
    assert state.idle


def test_values_hovering_at_the_threshold_do_not_flap() -> None:
    hovering = [0.9, 0.9, 0.9] + [0.79, 0.81, 0.78, 0.82, 0.75, 0.85, 0.72, 0.8] * 10
    changes, state = run(CROWDING, hovering)
    assert [c.transition for c in changes] == ["OPEN"] and state.is_open
    # two calm readings then one between the thresholds: the calm run starts over
    changes, state = run(CROWDING, [0.6, 0.6, 0.75, 0.6, 0.6], state, t0=100_000)
    assert changes == [] and state.is_open
    changes, _ = run(CROWDING, [0.6], state, t0=200_000)
    assert [(c.transition, c.end_ms) for c in changes] == [("CLOSED", 103_000)]


def test_peak_and_a_single_critical_update() -> None:
    changes, _ = run(CROWDING, [0.85, 0.9, 0.95, 1.0, 0.97, 1.0, 1.2, 0.6, 0.6, 0.6])
    assert [(c.transition, c.critical) for c in changes] == [("OPEN", False), ("UPDATE", True), ("CLOSED", True)]
    assert changes[1].observed == 1.0 and changes[-1].peak == 1.2


def test_opening_above_critical_is_critical_at_once() -> None:
    changes, _ = run(CROWDING, [1.0, 1.1, 1.05])
    assert [(c.transition, c.critical) for c in changes] == [("OPEN", True)]


def test_state_round_trips_mid_run() -> None:
    values = [0.9, 0.95, 0.92, 0.99, 0.6, 0.65, 0.7, 0.6, 0.5]
    whole, _ = run(CROWDING, values)
    for cut in range(len(values)):
        first, state = run(CROWDING, values[:cut])
        restored = RuleState.load(state.dump())
        rest, _ = run(CROWDING, values[cut:], restored, t0=cut * 1000)
        assert first + rest == whole, cut


def test_fresh_state_dumps_without_infinities() -> None:
    data = RuleState().dump()
    assert all(x is None or math.isfinite(x) for x in data)
    assert RuleState.load(data).idle


def test_hysteresis_rejects_a_close_threshold_above_the_open_one() -> None:
    with pytest.raises(ValueError, match="close_below"):
        Hysteresis(open_at=0.7, close_below=0.8)


def test_silence_opens_on_the_event_clock_and_closes_with_the_next_reading() -> None:
    s = Silence()
    assert s.reading(1_000, 600_000) == []
    assert s.check(500_000, 600_000) is None
    opened = s.check(601_000, 600_000)
    assert opened is not None and (opened.transition, opened.start_ms, opened.event_time_ms) == ("OPEN", 1_000, 601_000)
    assert s.check(900_000, 600_000) is None                       # opens once
    (closed,) = s.reading(1_261_000, 600_000)
    assert (closed.transition, closed.start_ms, closed.end_ms, closed.peak) == ("CLOSED", 1_000, 1_261_000, 1260.0)


def test_a_gap_nobody_checked_still_opens_and_closes() -> None:
    s = Silence(last=1_000)
    changes = s.reading(2_000_000, 600_000)
    assert [(c.transition, c.start_ms, c.event_time_ms) for c in changes] == [("OPEN", 1_000, 601_000),
                                                                             ("CLOSED", 1_000, 2_000_000)]
    assert s.reading(2_100_000, 600_000) == []                    # a short gap is no silence
    assert Silence.load(s.dump()).last == 2_100_000


def test_alert_ids_are_deterministic() -> None:
    assert alert_id("crowding", "B17", 1_764_000_000_000) == "crowding:B17:1764000000000"
