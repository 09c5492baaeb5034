"""PM NowCast: domain notes A.7 (N1–N3), the validity and missing-hour rules, and the Polars version."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.analysis.air import (
    aqi,
    aqi_expr,
    nowcast,
    nowcast_aqi,
    nowcast_frame,
    nowcast_grid,
    truncate_concentration,
)

# Windows as printed in A.7, oldest first; nowcast() takes the most recent first.
N1 = [50, 80, 75, 90, 82, 53, 64, 74, 21, 10, 16, 13]
N2 = [34.9, 43, 50, 64.9, 69.2, 66.2, 53.7, 48.6, 49.2, 35, None, 21]


def test_n1_epa_slides() -> None:
    value = nowcast(N1[::-1])
    assert value == pytest.approx(17.4139, abs=5e-5)
    assert truncate_concentration("pm25", value) == Decimal("17.4")
    assert nowcast_aqi(N1[::-1]) == 66


def test_n2_airnow_example_with_a_missing_hour() -> None:
    value = nowcast(N2[::-1])
    assert value == pytest.approx(28.409801, abs=5e-7)
    assert truncate_concentration("pm25", value) == Decimal("28.4")
    assert nowcast_aqi(N2[::-1]) == 87


def test_n3_constant_window_is_the_plain_mean() -> None:
    assert nowcast([10.0] * 12) == 10.0
    assert nowcast_aqi([10.0] * 12) == 53


def test_missing_hours_keep_their_exponent() -> None:
    # c_max 30, c_min 10: w* = 1/3, floored to 0.5. Hours 0 and 2 ago: (10 + 0.25·30) / (1 + 0.25).
    assert nowcast([10.0, None, 30.0]) == pytest.approx(14.0)
    assert nowcast([10.0, math.nan, 30.0]) == pytest.approx(14.0)


def test_weight_above_the_floor() -> None:
    # c_max 20, c_min 16: w = 1 - 4/20 = 0.8. (20 + 0.8·16) / 1.8
    assert nowcast([20.0, 16.0]) == pytest.approx((20 + 0.8 * 16) / 1.8)


@pytest.mark.parametrize(
    "hourly",
    [[10.0, None, None, 12.0, 13.0], [None, None, 5.0], [None, 7.0, None, 8.0], [], [3.0], [-1.0, 5.0, -2.0]],
)
def test_needs_two_of_the_three_newest_hours(hourly: list[float | None]) -> None:
    assert nowcast(hourly) is None
    assert nowcast_aqi(hourly) is None


def test_two_of_three_is_enough() -> None:
    assert nowcast([None, 7.0, 9.0]) is not None
    assert nowcast([7.0, 9.0]) is not None


def test_all_zero_window_is_zero() -> None:
    assert nowcast([0.0, 0.0, None, 0.0]) == 0.0
    assert nowcast_aqi([0.0, 0.0]) == 0


def test_negative_values_count_as_missing() -> None:
    assert nowcast([10.0, -3.0, 30.0]) == nowcast([10.0, None, 30.0])


def test_pm10_truncates_to_whole_micrograms() -> None:
    hourly = [155.9] * 12
    assert nowcast_aqi(hourly, "pm10") == aqi("pm10", 155) == 101


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="at most 12"):
        nowcast([1.0] * 13)
    with pytest.raises(ValueError, match="min_weight"):
        nowcast([1.0, 2.0], min_weight=0)
    with pytest.raises(ValueError, match="pm25"):
        nowcast_aqi([1.0, 2.0], "o3_8h")  # type: ignore[arg-type]


hour_values = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=800, allow_nan=False),
    st.integers(min_value=0, max_value=5000).map(lambda k: k / 10),
    st.just(0.0),
    st.just(math.nan),
    st.floats(min_value=-5, max_value=-0.1),
)


@given(st.lists(hour_values, max_size=12))
def test_nowcast_lies_within_the_valid_values(hourly: list[float | None]) -> None:
    result = nowcast(hourly)
    valid = [v for v in hourly if v is not None and math.isfinite(v) and v >= 0]
    if result is None:
        return
    tolerance = 1e-12 * max(valid)
    assert min(valid) - tolerance <= result <= max(valid) + tolerance


T0 = datetime(2024, 3, 1)
sensor_series = st.lists(st.tuples(st.booleans(), hour_values), min_size=1, max_size=36)


@settings(max_examples=60, deadline=None)
@given(st.lists(sensor_series, min_size=1, max_size=3))
def test_frame_agrees_with_scalar(series: list[list[tuple[bool, float | None]]]) -> None:
    rows = []
    windows = {}
    for index, hours in enumerate(series):
        sensor = f"s{index}"
        for hour, (present, value) in enumerate(hours):
            if present:
                rows.append((sensor, T0 + timedelta(hours=hour), value))
                lagged = [hours[hour - k] if hour - k >= 0 and hours[hour - k][0] else (False, None)
                          for k in range(12)]  # fmt: skip
                windows[(sensor, hour)] = [value for _, value in lagged]
    frame = pl.DataFrame(rows, schema={"sensor_id": pl.String, "hour": pl.Datetime("us"), "pm25": pl.Float64},
                         orient="row")  # fmt: skip
    result = nowcast_frame(frame).with_columns(aqi=aqi_expr("pm25", "nowcast"))
    assert result.select("sensor_id", "hour", "pm25").equals(frame)
    for sensor, hour, value, aqi_value in result.select("sensor_id", "hour", "nowcast", "aqi").iter_rows():
        window = windows[(sensor, int((hour - T0) / timedelta(hours=1)))]
        assert value == nowcast(window)
        assert aqi_value == nowcast_aqi(window)


def test_frame_on_the_worked_examples_with_an_absent_hour() -> None:
    rows = [("n1", T0 + timedelta(hours=h), v) for h, v in enumerate(N1)]
    rows += [("n2", T0 + timedelta(hours=h), v) for h, v in enumerate(N2) if v is not None]
    frame = pl.DataFrame(rows, schema=["sensor_id", "hour", "pm25"], orient="row")
    shuffled = frame.reverse()
    result = nowcast_frame(shuffled)
    assert result.select("sensor_id", "hour", "pm25").equals(shuffled)
    last = result.filter(pl.col("hour") == T0 + timedelta(hours=11)).sort("sensor_id")
    assert last["nowcast"].to_list() == pytest.approx([17.4139, 28.409801], abs=5e-5)


def test_frame_checks() -> None:
    dup = pl.DataFrame({"sensor_id": ["a", "a"], "hour": [T0, T0], "pm25": [1.0, 2.0]})
    with pytest.raises(ValueError, match="more than one row"):
        nowcast_frame(dup)
    odd = pl.DataFrame({"sensor_id": ["a"], "hour": [T0 + timedelta(minutes=5)], "pm25": [1.0]})
    with pytest.raises(ValueError, match="whole hours"):
        nowcast_frame(odd)
    empty = pl.DataFrame(schema={"sensor_id": pl.String, "hour": pl.Datetime("us"), "pm25": pl.Float64})
    assert nowcast_frame(empty).columns == ["sensor_id", "hour", "pm25", "nowcast"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(hour_values, min_size=1, max_size=30), min_size=1, max_size=3))
def test_lazy_grid_on_the_streaming_engine_agrees(series: list[list[float | None]]) -> None:
    rows = [(f"s{i}", T0 + timedelta(hours=h), v) for i, day in enumerate(series) for h, v in enumerate(day)]
    schema = {"sensor_id": pl.String, "hour": pl.Datetime("us"), "pm25": pl.Float64}
    grid = pl.LazyFrame(rows, schema=schema, orient="row")
    got = nowcast_grid(grid, over="sensor_id").collect(engine="streaming")
    expected = [nowcast(day[max(h - 11, 0) : h + 1][::-1]) for day in series for h in range(len(day))]
    assert got["nowcast"].to_list() == expected
    assert got.columns == ["sensor_id", "hour", "pm25", "nowcast"]
