"""European AQI (domain notes B.1, G.4), WHO 2021 flags (B.2, G.5) and unit conversions."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.analysis.air import (
    EAQI_THRESHOLDS,
    MOLAR_VOLUME_20C,
    eaqi_category,
    eaqi_index,
    eaqi_index_expr,
    eaqi_level,
    eaqi_level_expr,
    eaqi_name_expr,
    overall_eaqi,
    ppb_to_ugm3,
    ugm3_to_ppb,
    who_flags,
)


@pytest.mark.parametrize(
    ("value", "name"), [(4.9, "Good"), (5.0, "Fair"), (139.9, "Very poor"), (140.0, "Extremely poor")]
)
def test_pm25_half_open_bands(value: float, name: str) -> None:
    category = eaqi_category(eaqi_level("pm25", value))
    assert category is not None and category.name == name


@pytest.mark.parametrize(
    ("pollutant", "edges"),
    [("pm10", (15, 45, 120, 195, 270)), ("no2", (10, 25, 60, 100, 150)), ("o3", (60, 100, 120, 160, 180)),
     ("so2", (20, 40, 125, 190, 275)), ("pm25", (5, 15, 50, 90, 140))],
)  # fmt: skip
def test_every_threshold_starts_the_next_level(pollutant: str, edges: tuple[int, ...]) -> None:
    for level, edge in enumerate(edges, start=2):
        assert eaqi_level(pollutant, edge) == level  # type: ignore[arg-type]
        assert eaqi_level(pollutant, math.nextafter(edge, 0)) == level - 1  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pollutant", "value", "expected"),
    [("no2", 5, 10), ("no2", 17.5, 30), ("no2", 42.5, 50), ("no2", 80, 70), ("no2", 125, 90),
     ("no2", 175, 110),
     ("o3", 30, 10), ("o3", 80, 30), ("o3", 110, 50), ("o3", 140, 70), ("o3", 170, 90), ("o3", 190, 110),
     ("pm25", 2.5, 10), ("pm25", 10, 30), ("pm25", 32.5, 50), ("pm25", 70, 70), ("pm25", 115, 90),
     ("pm10", 7.5, 10), ("pm10", 30, 30), ("pm10", 82.5, 50), ("pm10", 157.5, 70), ("pm10", 232.5, 90)],
)  # fmt: skip
def test_open_meteo_numeric_vectors(pollutant: str, value: float, expected: float) -> None:
    assert eaqi_index(pollutant, value) == pytest.approx(expected)  # type: ignore[arg-type]


def test_overall_pair_from_the_notes() -> None:
    assert eaqi_index("pm25", 19.5) == pytest.approx(42.5714, abs=1e-4)
    assert eaqi_index("o3", 104) == pytest.approx(44.0)
    result = overall_eaqi({"pm25": 19.5, "o3": 104})
    assert result is not None
    assert result.index == pytest.approx(44.0)
    assert (result.level, result.name, result.dominant) == (3, "Moderate", "pm25")
    assert dict(result.levels) == {"pm25": 3, "o3": 3}


def test_overall_takes_the_poorest_level() -> None:
    result = overall_eaqi({"pm25": 4.0, "no2": 120.0, "so2": None})
    assert result is not None
    assert (result.level, result.dominant) == (5, "no2")
    assert overall_eaqi({"pm25": None}) is None
    with pytest.raises(ValueError, match="unknown EAQI pollutant"):
        overall_eaqi({"co": 1.0})


def test_invalid_inputs() -> None:
    for value in (None, -1.0, math.nan, math.inf):
        assert eaqi_level("pm25", value) is None
        assert eaqi_index("pm25", value) is None
    with pytest.raises(ValueError, match=r"1\.\.6"):
        eaqi_category(7)


eaqi_values = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=400),
    st.sampled_from([t for ts in EAQI_THRESHOLDS.values() for t in ts]),
    st.floats(),
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(EAQI_THRESHOLDS)), st.lists(eaqi_values, min_size=1, max_size=40))
def test_scalar_and_vectorised_eaqi_agree(pollutant: str, values: list[float | None]) -> None:
    frame = pl.DataFrame({"c": values}, schema={"c": pl.Float64})
    got = frame.select(
        level=eaqi_level_expr(pollutant, "c"),  # type: ignore[arg-type]
        index=eaqi_index_expr(pollutant, "c"),  # type: ignore[arg-type]
    ).with_columns(name=eaqi_name_expr("level"))
    levels = [eaqi_level(pollutant, v) for v in values]  # type: ignore[arg-type]
    assert got["level"].to_list() == levels
    assert got["index"].to_list() == [eaqi_index(pollutant, v) for v in values]  # type: ignore[arg-type]
    names = [category.name if (category := eaqi_category(level)) else None for level in levels]
    assert got["name"].to_list() == names


def test_who_annual_pm25_example() -> None:
    flags = who_flags("pm25", "annual", 6)
    assert flags.exceeds_aqg
    assert flags.exceeded == ("AQG",)
    assert flags.met == "IT-4"


def test_who_levels() -> None:
    assert who_flags("pm25", "24h", 15).met == "AQG"
    assert who_flags("pm25", "24h", 80).met is None
    assert who_flags("pm25", "24h", 80).exceeded == ("IT-1", "IT-2", "IT-3", "IT-4", "AQG")
    assert who_flags("so2", "24h", 41).exceeds_aqg
    assert not who_flags("so2", "24h", 40).exceeds_aqg
    assert who_flags("o3", "8h", 130).met == "IT-1"
    with pytest.raises(ValueError, match="no WHO 2021 level"):
        who_flags("no2", "8h", 10)


@pytest.mark.parametrize(("gas", "factor"), [("o3", 1.96), ("no2", 1.88), ("so2", 2.62), ("co", 1.145)])
def test_conversion_factors_at_25c(gas: str, factor: float) -> None:
    assert ppb_to_ugm3(gas, 1.0) == pytest.approx(factor, abs=0.005)  # type: ignore[arg-type]
    assert ugm3_to_ppb(gas, ppb_to_ugm3(gas, 40.0)) == pytest.approx(40.0)  # type: ignore[arg-type]


def test_conversion_at_20c_is_larger() -> None:
    assert ppb_to_ugm3("no2", 10.0, molar_volume=MOLAR_VOLUME_20C) == pytest.approx(10 * 46.01 / 24.04)
    with pytest.raises(ValueError, match="unknown gas"):
        ppb_to_ugm3("pm25", 1.0)  # type: ignore[arg-type]
