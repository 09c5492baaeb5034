"""The Polars transit expressions agree with the scalar KPIs."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.analysis.transit import (
    OTP_PRESETS,
    bunched_expr,
    expected_wait,
    expected_wait_expr,
    headway_cv,
    headway_cv_expr,
    headway_los,
    headway_los_expr,
    headway_on_time,
    headway_on_time_expr,
    is_bunched,
    on_time_expr,
    on_time_performance,
    otp_class_expr,
    passenger_load_los,
    passenger_load_los_expr,
)

headway = st.one_of(st.floats(min_value=0, max_value=40), st.integers(min_value=0, max_value=40).map(float))
schedule = st.sampled_from([2.0, 5.0, 7.5, 10.0, 12.0, 15.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(headway, schedule), min_size=1, max_size=40))
def test_headway_expressions_agree(pairs: list[tuple[float, float]]) -> None:
    frame = pl.DataFrame(pairs, schema={"h": pl.Float64, "s": pl.Float64}, orient="row")
    got = frame.select(
        tm=bunched_expr("h", "s"),
        btc=bunched_expr("h", "s", "btc"),
        tcqsm=bunched_expr("h", "s", "tcqsm"),
        absolute=bunched_expr("h", "s", "absolute", threshold=2.0),
        on_time=headway_on_time_expr("h", "s"),
    )
    for definition in ("transitmatters", "btc", "tcqsm"):
        column = "tm" if definition == "transitmatters" else definition
        assert got[column].to_list() == [is_bunched(h, s, definition) for h, s in pairs]  # type: ignore[arg-type]
    assert got["absolute"].to_list() == [is_bunched(h, s, "absolute", threshold=2.0) for h, s in pairs]
    assert got["on_time"].to_list() == [headway_on_time([h], s).count == 1 for h, s in pairs]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0.5, max_value=40), schedule), min_size=1, max_size=40))
def test_aggregations_agree(pairs: list[tuple[float, float]]) -> None:
    frame = pl.DataFrame(pairs, schema={"h": pl.Float64, "s": pl.Float64}, orient="row")
    got = frame.select(awt=expected_wait_expr("h"), swt=expected_wait_expr("s"), cv=headway_cv_expr("h", "s"))
    actual, scheduled = [h for h, _ in pairs], [s for _, s in pairs]
    assert got["awt"][0] == pytest.approx(expected_wait(actual), rel=1e-12)
    assert got["swt"][0] == pytest.approx(expected_wait(scheduled), rel=1e-12)
    assert got["cv"][0] == pytest.approx(headway_cv(actual, scheduled), rel=1e-9, abs=1e-12)


deviation = st.one_of(
    st.none(),
    st.floats(min_value=-15, max_value=20),
    st.sampled_from([-2.5, -2.0, -1.0, 0.0, 5.0, 7.0, -1.5, 5.99]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(deviation, min_size=1, max_size=40), st.sampled_from(sorted(OTP_PRESETS)), st.booleans())
def test_on_time_expressions_agree(deviations: list[float | None], preset: str, whole: bool) -> None:
    frame = pl.DataFrame({"d": deviations}, schema={"d": pl.Float64})
    got = frame.select(
        cls=otp_class_expr("d", preset, whole_minutes=whole),
        ok=on_time_expr("d", preset, whole_minutes=whole),
    )
    counts = got["cls"].value_counts()
    expected = on_time_performance(deviations, preset, whole_minutes=whole)
    observed = dict(counts.iter_rows())
    assert observed.get("early", 0) == expected.early
    assert observed.get("on_time", 0) == expected.on_time
    assert observed.get("late", 0) == expected.late
    assert got["ok"].sum() == expected.on_time


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=0, max_value=3), st.sampled_from([0.215, 0.505, 1.255, 0.745])),
                min_size=1, max_size=40))  # fmt: skip
def test_los_expressions_agree(values: list[float]) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Float64})
    got = frame.select(headway=headway_los_expr("v"), load=passenger_load_los_expr("v"))
    assert got["headway"].to_list() == [headway_los(v) for v in values]
    assert got["load"].to_list() == [passenger_load_los(v) for v in values]


def test_e4_example_through_expressions() -> None:
    frame = pl.DataFrame({"h": [10.0, 10, 10, 28, 1, 1], "s": [10.0] * 6})
    got = frame.select(
        bunched=bunched_expr("h", "s").sum(),
        on_time=headway_on_time_expr("h", "s").sum(),
        cv=headway_cv_expr("h", "s"),
        ewt=expected_wait_expr("h") - expected_wait_expr("s"),
    )
    assert got.row(0) == (2, 3, pytest.approx(0.90), pytest.approx(4.05))
