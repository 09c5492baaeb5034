"""Air marts against hand-computed values: EPA AQI and NowCast, Gi* hotspots, Sen/Mann–Kendall trends."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from smartcity.analysis.marts import compute_mart
from tests.marts.lakes import DAY, HOUR, MINUTE, T0, land, reading


@pytest.fixture(scope="module")
def hourly(lake: Path) -> pl.DataFrame:
    return compute_mart("air_quality_hourly", lake, DAY)


def at(frame: pl.DataFrame, sensor: str, hour: int) -> dict:
    when = datetime(2026, 3, 10, hour, tzinfo=UTC)
    rows = frame.filter((pl.col("sensor_id") == sensor) & (pl.col("hour") == when)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_constant_pm25_gives_nowcast_10_and_aqi_53(hourly: pl.DataFrame) -> None:
    row = at(hourly, "A1", 11)
    assert row["pm25_ugm3"] == 10.0
    assert row["pm25_nowcast_ugm3"] == pytest.approx(10.0, abs=1e-12)
    assert (row["aqi_pm25"], row["aqi"], row["aqi_category"], row["aqi_dominant"]) == (53, 53, "Moderate", "pm25")
    assert (row["eaqi_level"], row["eaqi_name"]) == (2, "Fair")  # 10 µg/m³ lies in [5, 15)


def test_nowcast_needs_two_of_the_three_latest_hours(hourly: pl.DataFrame) -> None:
    first = at(hourly, "A1", 0)  # the sensor's first hour: one valid hour of three
    assert first["pm25_nowcast_ugm3"] is None and first["aqi"] is None
    assert at(hourly, "A1", 1)["pm25_nowcast_ugm3"] == pytest.approx(10.0)


def test_nowcast_reads_the_previous_day(hourly: pl.DataFrame) -> None:
    # EPA "Computing the NowCast": 12 hours ending 05:00, six of them on the day before -> 17.4 µg/m³, AQI 66
    row = at(hourly, "A2", 5)
    assert row["pm25_nowcast_ugm3"] == pytest.approx(17.4139, abs=1e-4)
    assert row["aqi_pm25"] == 66
    assert set(hourly.filter(pl.col("sensor_id") == "A2")["hour"].dt.hour()) == {0, 1, 2, 3, 4, 5}


def test_hourly_mean_and_one_hour_no2(hourly: pl.DataFrame) -> None:
    row = at(hourly, "A3", 3)  # NO2 100 and 140 ppb in the hour
    assert row["n_readings"] == 3 and row["no2_ppb"] == 120.0
    assert row["aqi_no2"] == 105 and row["aqi"] == 105 and row["aqi_dominant"] == "no2"
    assert row["aqi_category"] == "Unhealthy for Sensitive Groups"
    # NO2 120 ppb is 229.7 µg/m³ at 20 °C: Extremely poor (above 150) in the European index
    assert row["eaqi_level"] == 6 and row["eaqi_name"] == "Extremely poor"


def test_eight_hour_o3_and_co_need_six_hours(hourly: pl.DataFrame) -> None:
    early = at(hourly, "A3", 4)  # five hours of O3 and CO so far
    assert early["o3_8h_ppm"] is None and early["co_8h_ppm"] is None and early["aqi_o3"] is None
    assert early["aqi_co"] is None and early["aqi"] is None
    row = at(hourly, "A3", 5)
    assert row["o3_8h_ppm"] == pytest.approx(0.070) and row["co_8h_ppm"] == pytest.approx(8.4)
    assert (row["aqi_o3"], row["aqi_co"], row["aqi"], row["aqi_dominant"]) == (100, 90, 100, "o3")
    assert row["eaqi_level"] == 4  # O3 70 ppb = 139.8 µg/m³: Poor


def test_hourly_rows_only_where_the_sensor_reported(hourly: pl.DataFrame) -> None:
    assert hourly.height == 12 + 6 + 8 + 3 * 24
    assert hourly["date"].unique().to_list() == [date(2026, 3, 10)]


# Six sensors on the equator, 0.001° apart per unit: PySAL esda's Getis–Ord example points
# (10,10) (20,10) (40,10) (15,20) (30,20) (30,30) with y = 2, 3, 3.2, 5, 8, 7 and a distance band
# of 15 units (1 unit ≈ 111.2 m; the next distance above 15 units is 18.03).
ESDA_POINTS = ((10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30))
ESDA_Y = (2.0, 3.0, 3.2, 5.0, 8.0, 7.0)
ESDA_Z = (-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331)


def test_hotspots_reproduce_the_esda_example(tmp_path: Path) -> None:
    messages = []
    for i, ((x, y), value) in enumerate(zip(ESDA_POINTS, ESDA_Y, strict=True)):
        for h in range(24):
            extra = {"no2_ppb": 20.0 + i} if i < 2 else {}
            messages.append(reading(f"H{i}", T0 + h * HOUR + 30 * MINUTE, lat=y * 0.001, lon=x * 0.001,
                                    pm25_ugm3=value, **extra))
    messages += [reading("H9", T0 + h * HOUR, lat=0.5, lon=0.5, pm25_ugm3=50.0) for h in range(10)]
    land(tmp_path, "parquet", "air_readings", messages)
    out = compute_mart("air_hotspots", tmp_path, DAY, distance_m=1800.0).sort("sensor_id")
    assert out["sensor_id"].to_list() == ["H0", "H1", "H2", "H3", "H4", "H5", "H9"]
    assert out["pm25_mean_ugm3"].to_list()[:6] == list(ESDA_Y)
    for got, want in zip(out["pm25_gi_z"].to_list()[:6], ESDA_Z, strict=True):
        assert got == pytest.approx(want, abs=1e-7)
    assert out["pm25_hotspot"].to_list() == [0, 0, 0, 0, 0, 2, 0]
    assert out["pm25_hotspot_label"][5] == "hot spot (95%)"
    assert out["pm25_gi_p"][5] == pytest.approx(0.0429, abs=1e-4)
    # H9 has 10 hours of 24: no daily mean, no Gi*; far away, so no neighbours
    h9 = out.row(6, named=True)
    assert (h9["pm25_hours"], h9["pm25_mean_ugm3"], h9["pm25_gi_z"], h9["neighbours"]) == (10, None, None, 0)
    assert out["neighbours"].to_list()[:6] == [2, 3, 1, 3, 4, 1]
    # NO2 at two sensors only: Gi* needs three
    assert out["no2_mean_ppb"].to_list()[:3] == [20.0, 21.0, None]
    assert out["no2_gi_z"].null_count() == out.height and set(out["no2_hotspot"]) == {0}


def test_hotspot_band_is_a_parameter(tmp_path: Path) -> None:
    messages = [reading(f"H{i}", T0 + h * HOUR, lat=y * 0.001, lon=x * 0.001, pm25_ugm3=v)
                for i, ((x, y), v) in enumerate(zip(ESDA_POINTS, ESDA_Y, strict=True)) for h in range(24)]
    land(tmp_path, "parquet", "air_readings", messages)
    narrow = compute_mart("air_hotspots", tmp_path, DAY, distance_m=500.0)
    assert narrow["neighbours"].to_list() == [0] * 6 and narrow["distance_m"][0] == 500.0
    with pytest.raises(ValueError, match="positive"):
        compute_mart("air_hotspots", tmp_path, DAY, distance_m=0)


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


SEASON = (6.0, 4.0, 1.0, -1.0, -3.0, -5.0, -6.0, -4.0, -1.0, 1.0, 3.0, 5.0)  # sums to 0, repeats yearly


def test_trends_on_monthly_means(tmp_path: Path) -> None:
    first = 2023 * 12  # January 2023
    messages = []
    # T1: 8 months (Jul 2025 .. Feb 2026) growing 2.5 µg/m³ per 365 days exactly: every pair has that slope
    for m in range(first + 30, first + 38):
        start = _month_start(m)
        value = 2.5 * _days(start) / 365.0
        messages.append(reading("T1", _ms(start) + 10 * HOUR, pm25_ugm3=value))
        messages.append(reading("T1", _ms(start) + 11 * HOUR, pm25_ugm3=value))
    # T2: 38 months (Jan 2023 .. Feb 2026) of NO2 = 0.5 ppb a month plus a strong yearly cycle
    for m in range(first, first + 38):
        value = 40.0 + 0.5 * (m - first) + SEASON[m % 12]
        messages.append(reading("T2", _ms(_month_start(m)) + 5 * HOUR, no2_ppb=value))
    # readings of the running month (March 2026) are not part of the series
    messages.append(reading("T1", T0 - HOUR, pm25_ugm3=1000.0))
    land(tmp_path, "parquet", "air_readings", messages)

    out = compute_mart("air_trends", tmp_path, DAY).sort("sensor_id")
    t1, t2 = out.row(0, named=True), out.row(1, named=True)
    assert (t1["sensor_id"], t1["pollutant"], t1["unit"], t1["n_months"]) == ("T1", "pm25", "µg/m³", 8)
    assert (t1["first_month"], t1["last_month"], t1["deseasonalised"]) == (date(2025, 7, 1), date(2026, 2, 1), False)
    assert t1["sen_slope_per_year"] == pytest.approx(2.5, rel=1e-6)  # means are exact to 10⁻⁶ µg/m³
    # strictly increasing 8 values: S = 28, Var(S) = 8·7·21/18, Z = 27/√65.33 = 3.3403, p = 0.000837, τ = 1
    assert t1["mk_s"] == 28 and t1["mk_tau"] == 1.0
    assert t1["mk_z"] == pytest.approx(27 / math.sqrt(8 * 7 * 21 / 18), rel=1e-12)
    assert t1["mk_p"] == pytest.approx(0.000837, abs=2e-6) and t1["trend"] == "increasing"

    assert (t2["pollutant"], t2["unit"], t2["n_months"], t2["deseasonalised"]) == ("no2", "ppb", 38, True)
    # 0.5 ppb a month is about 6 ppb a year; the yearly cycle (±6 ppb) is removed
    assert t2["sen_slope_per_year"] == pytest.approx(6.0, rel=0.02)
    assert t2["mk_s"] == 38 * 37 // 2 and t2["trend"] == "increasing"
    # three whole cycles cancel; the last January and February (+6, +4) do not
    assert t2["mean"] == pytest.approx(40.0 + 0.5 * 37 / 2 + 10.0 / 38)


def test_trends_need_six_months_and_can_look_back_less(tmp_path: Path) -> None:
    first = 2025 * 12 + 8  # September 2025 .. February 2026: 6 months
    messages = [reading("T3", _ms(_month_start(m)) + HOUR, so2_ppb=float(m - first)) for m in range(first, first + 6)]
    land(tmp_path, "parquet", "air_readings", messages)
    full = compute_mart("air_trends", tmp_path, DAY).row(0, named=True)
    assert full["n_months"] == 6 and full["sen_slope_per_year"] is not None and full["mk_s"] == 15
    short = compute_mart("air_trends", tmp_path, DAY, months=5).row(0, named=True)
    assert short["n_months"] == 5 and short["first_month"] == date(2025, 10, 1)
    assert short["sen_slope_per_year"] is None and short["mk_p"] is None and short["trend"] is None
    # as of 31 January, January has ended and counts: September .. January
    assert compute_mart("air_trends", tmp_path, "2026-01-31")["n_months"].to_list() == [5]


def _ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def test_scenario_trend_with_a_tie(lake: Path) -> None:
    # 12, 11, 13, 12, 15, 14, 16, 18: S = 4 + 6 + 3 + 4 + 1 + 2 + 1 = 21; one tie pair (12, 12):
    # Var(S) = (8·7·21 − 2·1·9) / 18 = 64.33, Z = 20 / √64.33
    row = compute_mart("air_trends", lake, DAY).row(0, named=True)
    assert (row["sensor_id"], row["n_months"], row["mk_s"], row["mk_tau"]) == ("A4", 8, 21, 0.75)
    assert row["mk_z"] == pytest.approx(20 / math.sqrt((8 * 7 * 21 - 18) / 18), rel=1e-12)
    assert row["mean"] == pytest.approx(111 / 8) and row["trend"] == "increasing"
