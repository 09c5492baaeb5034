"""On-time performance windows (domain notes E.1) and passenger load (E.5)."""

from __future__ import annotations

import math

import pytest

from smartcity.analysis.transit import (
    OTP_PRESETS,
    OnTimeWindow,
    is_overcrowded,
    load_factor,
    on_time_performance,
    passenger_load_los,
)

DEVIATIONS = [-2, -1, -0.5, 0, 1.5, 3, 4.9, 5.0, 5.5, 7.0]


@pytest.mark.parametrize(
    ("window", "on_time"),
    [(OnTimeWindow(0, 5), 5), (OnTimeWindow(-1, 5), 7), (OnTimeWindow(-2.5, 5), 8),
     (OnTimeWindow(-2, 7), 10)],
)  # fmt: skip
def test_e1_windows(window: OnTimeWindow, on_time: int) -> None:
    result = on_time_performance(DEVIATIONS, window)
    assert (result.on_time, result.total) == (on_time, 10)


@pytest.mark.parametrize(("preset", "on_time"), [("tcqsm", 5), ("nyct", 7), ("tfl", 8), ("wmata", 10)])
def test_e1_presets(preset: str, on_time: int) -> None:
    assert on_time_performance(DEVIATIONS, preset).on_time == on_time


def test_default_window_is_minus_one_plus_five() -> None:
    result = on_time_performance(DEVIATIONS)
    assert (result.early, result.on_time, result.late) == (1, 7, 2)
    assert result.share == pytest.approx(0.7)
    assert OTP_PRESETS["nyct"] == OnTimeWindow(-1, 5)


def test_whole_minutes_truncate_toward_zero() -> None:
    result = on_time_performance([-1.5, 5.99, 6.0, -2.0], "nyct", whole_minutes=True)
    assert (result.early, result.on_time, result.late) == (1, 2, 1)
    assert on_time_performance([-1.5, 5.99], "nyct").on_time == 0


def test_missing_deviations_are_not_events() -> None:
    result = on_time_performance([None, math.nan, 0.0])
    assert result.total == 1
    assert math.isnan(on_time_performance([]).share)


def test_window_checks() -> None:
    with pytest.raises(ValueError, match="after its `late` bound"):
        OnTimeWindow(3, -1)
    with pytest.raises(ValueError, match="unknown on-time window"):
        on_time_performance([0.0], "mbta")


@pytest.mark.parametrize(
    ("load", "letter"),
    [(0.0, "A"), (0.50, "A"), (0.51, "B"), (0.75, "B"), (0.76, "C"), (1.00, "C"), (1.01, "D"), (1.25, "D"),
     (1.26, "E"), (1.50, "E"), (1.51, "F"), (2.4, "F")],
)  # fmt: skip
def test_passenger_load_los(load: float, letter: str) -> None:
    assert passenger_load_los(load) == letter


def test_load_factor_and_crowding() -> None:
    assert load_factor(50, 40) == 1.25
    assert not is_overcrowded(load_factor(50, 40))
    assert is_overcrowded(load_factor(51, 40))
    with pytest.raises(ValueError, match="seats"):
        load_factor(10, 0)
    with pytest.raises(ValueError, match="negative"):
        load_factor(-1, 40)
