"""US EPA AQI: the worked examples of domain notes A.8 and G.1–G.2, table edges and rules."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.analysis.air import (
    POLLUTANTS,
    SCALES,
    aqi,
    aqi_category,
    o3_aqi,
    overall_aqi,
    so2_aqi,
    truncate_concentration,
)

# (pollutant, concentration, AQI) from the A.8 table and the G.1/G.2 checklist.
A8_ROWS = [
    ("pm25", 5.0, 28),
    ("pm25", 9.0, 50),
    ("pm25", 9.04, 50),
    ("pm25", 9.09, 50),
    ("pm25", 9.1, 51),
    ("pm25", 9.11, 51),
    ("pm25", 15.0, 62),
    ("pm25", 27.9, 86),
    ("pm25", 35.9, 102),
    ("pm25", 40.0, 112),
    ("pm25", 49.5, 135),
    ("pm25", 53.0, 144),
    ("pm25", 80.0, 168),
    ("pm25", 200.0, 275),
    ("pm25", 325.4, 500),
    ("pm25", 325.9, 501),
    ("pm25", 400.0, 649),
    ("co", 8.4, 90),
    ("o3_1h", 0.162, 147),
    ("o3_8h", 0.07853333, 126),
    ("o3_8h", 0.077, 122),
    ("o3_8h", 0.0874125, 154),
    ("pm10", 170.9, 108),
    ("no2", 120, 105),
    ("so2_1h", 50, 69),
    ("so2_24h", 400, 232),
]


@pytest.mark.parametrize(("pollutant", "concentration", "expected"), A8_ROWS)
def test_a8_worked_examples(pollutant: str, concentration: float, expected: int) -> None:
    assert aqi(pollutant, concentration) == expected  # type: ignore[arg-type]


def test_tie_rounds_half_up() -> None:
    # 0.072 ppm 8-h O3 gives exactly 104.5: half-up reports 105, half-even would say 104.
    assert aqi("o3_8h", 0.072) == 105


@pytest.mark.parametrize(
    ("below", "above", "aqi_below", "aqi_above"),
    [(9.0, 9.1, 50, 51), (35.4, 35.5, 100, 101), (55.4, 55.5, 150, 151),
     (125.4, 125.5, 200, 201), (225.4, 225.5, 300, 301)],
)  # fmt: skip
def test_pm25_category_edges(below: float, above: float, aqi_below: int, aqi_above: int) -> None:
    assert aqi("pm25", below) == aqi_below
    assert aqi("pm25", above) == aqi_above


@pytest.mark.parametrize(
    ("pollutant", "value", "expected"),
    [("pm25", "9.09", "9.0"), ("pm10", "54.9", "54"), ("o3_8h", "0.0874125", "0.087"),
     ("co", "4.49", "4.4"), ("so2_1h", "35.99", "35"), ("no2", "53.7", "53")],
)  # fmt: skip
def test_truncation_precision(pollutant: str, value: str, expected: str) -> None:
    assert truncate_concentration(pollutant, float(value)) == Decimal(expected)  # type: ignore[arg-type]


HOURS_AVERAGING_TO_18_1 = [22.6, 12.6, 27.0, 19.9, 17.5, 22.9, 22.7, 10.4, 18.3, 25.6, 20.2, 17.2,
                           10.4, 14.0, 15.1, 18.3, 24.4, 30.0, 13.4, 18.6, 20.9, 15.4, 16.8, 0.2]  # fmt: skip


def test_float_noise_of_an_average_is_removed_before_truncation() -> None:
    # A.5: the float mean of 24 one-decimal values can land just below the exact mean.
    values = HOURS_AVERAGING_TO_18_1
    assert sum(Decimal(repr(v)) for v in values) / 24 == Decimal("18.1")
    assert sum(values) / len(values) == 18.099999999999998
    assert truncate_concentration("pm25", sum(values) / len(values)) == Decimal("18.1")
    # genuine seventh-decimal digits still truncate down
    assert truncate_concentration("pm25", 18.0999994) == Decimal("18.0")


@pytest.mark.parametrize(
    ("pollutant", "value"),
    [("o3_8h", 0.201), ("o3_8h", 0.35), ("o3_1h", 0.124), ("o3_1h", 0.0),
     ("so2_1h", 305), ("so2_1h", 900), ("so2_24h", 304.9), ("so2_24h", 0)],
)  # fmt: skip
def test_no_row_applies(pollutant: str, value: float) -> None:
    assert aqi(pollutant, value) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, -0.1, -5, math.nan, math.inf, -math.inf, 1e6, 1e300])
def test_missing_or_invalid_input(value: float | None) -> None:
    for pollutant in POLLUTANTS:
        assert aqi(pollutant, value) is None


def test_top_of_scales_and_beyond() -> None:
    assert aqi("o3_8h", 0.200) == 300
    assert aqi("so2_1h", 304) == 200
    assert aqi("o3_1h", 0.125) == 101
    assert aqi("o3_1h", 0.604) == 500
    assert aqi("so2_24h", 305) == 201
    # extrapolation of the merged 301-500 rows: (500-301)/(2049-1250)*(2449-1250)+301 = 599.6 -> 600
    assert aqi("no2", 2449) == 600
    assert aqi("pm10", 604) == 500


def test_decimal_and_int_inputs() -> None:
    assert aqi("pm25", Decimal("35.9")) == 102
    assert aqi("no2", 120) == 105


def test_unknown_pollutant() -> None:
    with pytest.raises(ValueError, match="unknown pollutant"):
        aqi("pm1", 3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "name", "hex_code", "rgb"),
    [(0, "Good", "#00E400", (0, 228, 0)), (50, "Good", "#00E400", (0, 228, 0)),
     (51, "Moderate", "#FFFF00", (255, 255, 0)), (100, "Moderate", "#FFFF00", (255, 255, 0)),
     (101, "Unhealthy for Sensitive Groups", "#FF7E00", (255, 126, 0)),
     (150, "Unhealthy for Sensitive Groups", "#FF7E00", (255, 126, 0)),
     (151, "Unhealthy", "#FF0000", (255, 0, 0)), (200, "Unhealthy", "#FF0000", (255, 0, 0)),
     (201, "Very Unhealthy", "#8F3F97", (143, 63, 151)), (300, "Very Unhealthy", "#8F3F97", (143, 63, 151)),
     (301, "Hazardous", "#7E0023", (126, 0, 35)), (500, "Hazardous", "#7E0023", (126, 0, 35)),
     (649, "Hazardous", "#7E0023", (126, 0, 35))],
)  # fmt: skip
def test_categories_and_colours(value: int, name: str, hex_code: str, rgb: tuple[int, int, int]) -> None:
    category = aqi_category(value)
    assert category is not None
    assert (category.name, category.hex, category.rgb) == (name, hex_code, rgb)


def test_category_of_missing_and_negative() -> None:
    assert aqi_category(None) is None
    with pytest.raises(ValueError, match="negative"):
        aqi_category(-1)


def test_multi_pollutant_example() -> None:
    result = overall_aqi({"o3_8h": 0.077, "pm25": 35.9, "co": 8.4})
    assert result is not None
    assert result.aqi == 122
    assert result.dominant == "o3"
    assert dict(result.sub_indices) == {"o3": 122, "pm25": 102, "co": 90}
    assert result.category.name == "Unhealthy for Sensitive Groups"


def test_overall_ties_and_missing() -> None:
    assert overall_aqi({}) is None
    assert overall_aqi({"pm25": None, "o3_8h": 0.5}) is None
    tied = overall_aqi({"pm25": 9.0, "no2": 53})
    assert tied is not None
    assert (tied.aqi, tied.dominant, tied.dominant_all) == (50, "pm25", ("pm25", "no2"))
    with pytest.raises(ValueError, match="unknown pollutant"):
        overall_aqi({"ozone": 0.05})


def test_ozone_uses_the_larger_of_8h_and_1h() -> None:
    assert o3_aqi(0.077, 0.162) == 147
    assert o3_aqi(0.077, 0.100) == 122
    assert o3_aqi(0.25, 0.45) == aqi("o3_1h", 0.45)
    assert o3_aqi(0.25, None) is None


def test_so2_combines_1h_and_24h() -> None:
    assert so2_aqi(50, None) == 69
    assert so2_aqi(None, 400) == 232
    assert so2_aqi(None, 200) is None
    assert so2_aqi(400, None) == 200
    assert so2_aqi(400, 200) == 200
    assert so2_aqi(400, 400) == 232
    assert so2_aqi(50, 400) == 232


def test_tables_are_contiguous_in_truncation_steps() -> None:
    for scale in SCALES.values():
        for lower, upper in zip(scale.rows, scale.rows[1:], strict=False):
            assert upper.lo == lower.hi + 1
            assert upper.aqi_lo == lower.aqi_hi + 1


CONCENTRATION_LIMITS = {"pm25": 600.0, "pm10": 900.0, "o3_8h": 0.25, "o3_1h": 0.9, "co": 80.0,
                        "so2_1h": 400.0, "so2_24h": 1500.0, "no2": 3000.0}  # fmt: skip


@given(st.data())
def test_aqi_is_monotone_in_concentration(data: st.DataObject) -> None:
    pollutant = data.draw(st.sampled_from(POLLUTANTS))
    values = st.floats(min_value=0, max_value=CONCENTRATION_LIMITS[pollutant], allow_nan=False)
    low, high = sorted((data.draw(values), data.draw(values)))
    a_low, a_high = aqi(pollutant, low), aqi(pollutant, high)
    if a_low is not None and a_high is not None:
        assert a_low <= a_high


@given(st.floats(min_value=0, max_value=500_000, allow_nan=False))
def test_extrapolating_scales_are_defined_above_zero(value: float) -> None:
    for pollutant in ("pm25", "pm10", "co", "no2"):
        result = aqi(pollutant, value)
        assert result is not None and result >= 0
