"""The Polars AQI expressions agree exactly with the scalar functions."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.analysis.air import (
    POLLUTANTS,
    SCALES,
    aqi,
    aqi_category,
    aqi_category_expr,
    aqi_expr,
    overall_aqi,
    overall_aqi_frame,
    truncate_units,
    truncate_units_expr,
)


def vector_aqi(pollutant: str, values: list[float | None]) -> list[int | None]:
    frame = pl.DataFrame({"c": values}, schema={"c": pl.Float64})
    return frame.select(aqi_expr(pollutant, "c")).to_series().to_list()  # type: ignore[arg-type]


def around_breakpoints(pollutant: str) -> list[float]:
    """Every truncation step from 0 to 20 % past the top, the point half a millionth below it
    (where pre-rounding carries into the step), and one float either side of both."""
    scale = SCALES[pollutant]  # type: ignore[index]
    step = 10**scale.decimals
    millionths_per_step = 10**6 // step
    values: list[float] = []
    for units in range(int(scale.highest * 1.2) + 2):
        for exact in (units / step, (2 * units * millionths_per_step - 1) / 2e6):
            values += [exact, math.nextafter(exact, -math.inf), math.nextafter(exact, math.inf)]
    return values


@pytest.mark.parametrize("pollutant", POLLUTANTS)
def test_every_step_and_its_neighbours_agree(pollutant: str) -> None:
    values = around_breakpoints(pollutant)
    assert vector_aqi(pollutant, values) == [aqi(pollutant, v) for v in values]  # type: ignore[arg-type]


@pytest.mark.parametrize("pollutant", ["pm25", "o3_8h", "no2"])
def test_streaming_engine_agrees(pollutant: str) -> None:
    values = around_breakpoints(pollutant)
    lazy = pl.LazyFrame({"c": values}, schema={"c": pl.Float64})
    got = lazy.select(aqi_expr(pollutant, "c")).collect(engine="streaming").to_series().to_list()  # type: ignore[arg-type]
    assert got == [aqi(pollutant, v) for v in values]  # type: ignore[arg-type]


def test_worked_examples_through_the_expression() -> None:
    assert vector_aqi("pm25", [5.0, 9.04, 9.11, 325.9, 400.0]) == [28, 50, 51, 501, 649]
    assert vector_aqi("o3_8h", [0.072, 0.0874125, 0.201]) == [105, 154, None]
    assert vector_aqi("pm25", [None, math.nan, -1.0, math.inf, 18.099999999999998]) == [None] * 4 + [68]


def half_millionth_boundaries() -> st.SearchStrategy[float]:
    """Values at and next to x.xxxxxx5, where pre-rounding to six decimals flips."""
    base = st.integers(min_value=0, max_value=10**10).map(lambda k: (2 * k + 1) / 2e6)
    return base.flatmap(
        lambda x: st.sampled_from([x, math.nextafter(x, -math.inf), math.nextafter(x, math.inf)])
    )


values_strategy = st.one_of(
    st.floats(min_value=0, max_value=2_000, allow_nan=False),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.floats(min_value=0, max_value=2e6),
    st.floats(),
    half_millionth_boundaries(),
    st.decimals(min_value=0, max_value=5000, places=4, allow_nan=False).map(float),
    st.none(),
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(POLLUTANTS), st.lists(values_strategy, min_size=1, max_size=40))
def test_scalar_and_vectorised_aqi_agree(pollutant: str, values: list[float | None]) -> None:
    frame = pl.DataFrame({"c": values}, schema={"c": pl.Float64})
    got = frame.select(
        units=truncate_units_expr(pollutant, "c"),  # type: ignore[arg-type]
        aqi=aqi_expr(pollutant, "c"),  # type: ignore[arg-type]
    )
    assert got["units"].to_list() == [truncate_units(pollutant, v) for v in values]  # type: ignore[arg-type]
    assert got["aqi"].to_list() == [aqi(pollutant, v) for v in values]  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=900)), min_size=1, max_size=40))
def test_category_expression_agrees(values: list[int | None]) -> None:
    frame = pl.DataFrame({"aqi": values}, schema={"aqi": pl.Int64})
    got = frame.select(
        name=aqi_category_expr("aqi"),
        hex=aqi_category_expr("aqi", field="hex"),
        colour=aqi_category_expr("aqi", field="colour"),
    )
    categories = [aqi_category(v) for v in values]
    assert got["name"].to_list() == [c.name if c else None for c in categories]
    assert got["hex"].to_list() == [c.hex if c else None for c in categories]
    assert got["colour"].to_list() == [c.colour if c else None for c in categories]


def test_category_expression_rejects_unknown_field() -> None:
    with pytest.raises(ValueError, match="field"):
        aqi_category_expr("aqi", field="rgb")


GROUP_INPUTS = {"pm25": 300.0, "pm10": 700.0, "o3_8h": 0.21, "o3_1h": 0.7, "co": 60.0, "so2_1h": 600.0,
                "so2_24h": 1200.0, "no2": 2500.0}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_overall_frame_agrees(data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(sorted(GROUP_INPUTS)), min_size=1, max_size=8, unique=True))
    rows = data.draw(
        st.lists(
            st.fixed_dictionaries(
                {n: st.one_of(st.none(), st.floats(min_value=0, max_value=GROUP_INPUTS[n])) for n in names}
            ),
            min_size=1,
            max_size=15,
        )
    )
    frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.Float64))
    got = overall_aqi_frame(frame, {n: n for n in names}, sub_index_prefix="aqi_")
    assert got.select(names).equals(frame)
    for result, row in zip(got.iter_rows(named=True), rows, strict=True):
        expected = overall_aqi(row)
        assert (result["aqi"], result["aqi_dominant"]) == (
            (expected.aqi, expected.dominant) if expected else (None, None)
        )
        subs = {key.removeprefix("aqi_"): v for key, v in result.items() if key.startswith("aqi_")}
        subs.pop("dominant")
        present = {group: value for group, value in subs.items() if value is not None}
        assert present == (dict(expected.sub_indices) if expected else {})


def test_overall_frame_on_the_multi_pollutant_example() -> None:
    frame = pl.LazyFrame({"o3": [0.077], "pm": [35.9], "co": [8.4]})
    got = overall_aqi_frame(frame, {"o3_8h": "o3", "pm25": "pm", "co": "co"}).collect()
    assert got.columns == ["o3", "pm", "co", "aqi", "aqi_dominant"]
    assert got.select("aqi", "aqi_dominant").row(0) == (122, "o3")
