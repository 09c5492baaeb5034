"""Daily AQI: EPA averaging and completeness rules of domain notes A.6."""

from __future__ import annotations

import pytest

from smartcity.analysis.air import (
    aqi,
    daily_mean,
    daily_o3_8h_max,
    daily_o3_aqi,
    daily_pm_aqi,
    daily_so2,
    exact_mean,
    o3_8h_means,
)

HOURS_AVERAGING_TO_18_1 = [22.6, 12.6, 27.0, 19.9, 17.5, 22.9, 22.7, 10.4, 18.3, 25.6, 20.2, 17.2,
                           10.4, 14.0, 15.1, 18.3, 24.4, 30.0, 13.4, 18.6, 20.9, 15.4, 16.8, 0.2]  # fmt: skip


def test_daily_mean_is_exact() -> None:
    assert sum(HOURS_AVERAGING_TO_18_1) / 24 != 18.1
    assert daily_mean(HOURS_AVERAGING_TO_18_1) == 18.1


def test_pm_needs_18_of_24_hours() -> None:
    day: list[float | None] = [12.0] * 18 + [None] * 6
    assert daily_mean(day) == 12.0
    assert daily_pm_aqi(day) == aqi("pm25", 12.0)
    short: list[float | None] = [12.0] * 17 + [None] * 7
    assert daily_mean(short) is None
    assert daily_pm_aqi(short) is None


def test_pm_daily_aqi_uses_the_mean() -> None:
    day = [35.0] * 12 + [36.8] * 12  # mean 35.9 -> 102 (A.8)
    assert daily_pm_aqi(day) == 102
    assert daily_pm_aqi([170.9] * 24, "pm10") == 108


def test_day_length_is_checked() -> None:
    with pytest.raises(ValueError, match="24 hourly values"):
        daily_mean([1.0] * 23)
    with pytest.raises(ValueError, match="pm25"):
        daily_pm_aqi([1.0] * 24, "o3_8h")  # type: ignore[arg-type]


def o3_day(peak: float, peak_hours: range, base: float = 0.050) -> list[float | None]:
    return [peak if hour in peak_hours else base for hour in range(31)]


def test_o3_daily_max_of_eight_hour_means() -> None:
    hourly = o3_day(0.079, range(12, 20))
    means = o3_8h_means(hourly)
    assert len(means) == 17
    assert means[12 - 7] == 0.079
    assert means[0] == 0.060  # hours 7..14: (5 * 0.050 + 3 * 0.079) / 8 = 0.060875, truncated
    assert means[-1] == 0.050  # hours 23..30
    assert daily_o3_8h_max(hourly) == 0.079
    # 0.079 ppm: 101 + 49 * (79 - 71) / 14 = 129
    assert daily_o3_aqi(hourly) == 129


def test_o3_windows_start_at_7_and_end_at_23() -> None:
    early_peak = o3_day(0.090, range(7))
    assert daily_o3_8h_max(early_peak) == 0.050
    late_peak = o3_day(0.090, range(23, 31))
    assert daily_o3_8h_max(late_peak) == 0.090


def test_eight_hour_means_are_truncated() -> None:
    hourly = o3_day(0.0799, range(12, 20))
    assert daily_o3_8h_max(hourly) == 0.079


def test_eight_hour_mean_needs_six_hours() -> None:
    hourly = o3_day(0.080, range(31))
    hourly[7] = hourly[8] = None
    assert o3_8h_means(hourly)[0] == 0.080
    hourly[9] = None
    assert o3_8h_means(hourly)[0] is None


def test_o3_day_needs_13_of_17_means() -> None:
    six_missing = o3_day(0.060, range(31))
    for hour in range(7, 13):
        six_missing[hour] = None  # windows starting 7..10 lose 3 or more hours: 13 remain
    assert sum(m is not None for m in o3_8h_means(six_missing)) == 13
    assert daily_o3_8h_max(six_missing) == 0.060
    eight_missing = o3_day(0.060, range(31))
    for hour in range(7, 15):
        eight_missing[hour] = None  # windows starting 7..12 are invalid: 11 remain
    assert daily_o3_8h_max(eight_missing) is None
    assert daily_o3_aqi(eight_missing) is None


def test_o3_day_length_is_checked() -> None:
    with pytest.raises(ValueError, match="31 values"):
        o3_8h_means([0.05] * 24)


def test_so2_day() -> None:
    calm = daily_so2([50.0] * 24)
    assert calm is not None and calm.aqi == 69
    spike = daily_so2([400.0] + [10.0] * 23)
    assert spike is not None and spike.max_1h == 400.0
    assert spike.aqi == 200
    polluted = daily_so2([400.0] * 24)
    assert polluted is not None and polluted.aqi == 232
    assert daily_so2([50.0] * 17 + [None] * 7) is None


def test_exact_mean_skips_missing() -> None:
    assert exact_mean([1.0, None, float("nan"), 2.0]) == 1.5
    assert exact_mean([None, None]) is None
    assert exact_mean([1.0, 2.0], min_valid=3) is None
