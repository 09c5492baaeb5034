"""TfL Excess Wait Time: the E.2 worked examples and its properties."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.analysis.transit import expected_wait, wait_times

TEN_MINUTE_GAPS = [10, 10, 10, 28, 1, 1]


def test_effective_frequency_example() -> None:
    result = wait_times(TEN_MINUTE_GAPS, [10] * 6)
    assert result.awt == pytest.approx(1086 / 120)
    assert result.awt == pytest.approx(9.05)
    assert result.swt == pytest.approx(5.0)
    assert result.ewt == pytest.approx(4.05)


def test_london_blog_example() -> None:
    result = wait_times([8, 12, 14, 8, 11, 10, 12], [10] * 7)
    assert result.awt == pytest.approx(416.5 / 75)
    assert result.awt == pytest.approx(5.553, abs=5e-4)
    assert result.ewt == pytest.approx(0.55, abs=5e-3)


def test_derived_example() -> None:
    result = wait_times([6, 7, 5, 9, 3, 12, 6, 8], [7] * 8)
    assert result.awt == pytest.approx(3.9643, abs=5e-5)
    assert result.swt == pytest.approx(3.5)
    assert result.ewt == pytest.approx(0.4643, abs=5e-5)


def test_missing_headways_are_skipped_and_bad_ones_rejected() -> None:
    assert expected_wait([10, None, 10]) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="negative"):
        expected_wait([10, -1])
    with pytest.raises(ValueError, match="positive"):
        expected_wait([])


headways = st.lists(st.floats(min_value=0.5, max_value=60), min_size=1, max_size=40)


@given(headways)
def test_ewt_is_zero_when_service_runs_to_schedule(values: list[float]) -> None:
    assert wait_times(values, values).ewt == 0.0


@given(headways)
def test_awt_matches_the_tcqsm_form(values: list[float]) -> None:
    # t_w = 0.5 * mean * (1 + cv^2), population variance
    mean = statistics.fmean(values)
    cv_squared = statistics.pvariance(values) / mean**2
    assert expected_wait(values) == pytest.approx(0.5 * mean * (1 + cv_squared), rel=1e-9)


@given(headways)
def test_regular_service_minimises_the_wait(values: list[float]) -> None:
    even = [statistics.fmean(values)] * len(values)
    assert wait_times(values, even).ewt >= -1e-9
