"""Air-quality model: cycles, hotspots, weather, trend, dropouts, and stream/history agreement."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from smartcity.proto import AirQualityReading
from smartcity.simulator import City, SimConfig, air_history, simulate
from smartcity.simulator.air import COLUMNS

SEED = 5
MONTH_START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


@pytest.fixture(scope="module")
def month(city: City) -> pl.DataFrame:
    sites = {s.sensor_id: s.site_type for s in city.sensors}
    df = air_history(city, MONTH_START, MONTH_START + timedelta(days=28), SEED)
    local = pl.from_epoch("event_time_ms", time_unit="ms").dt.convert_time_zone(city.timezone)
    return df.with_columns(
        pl.col("sensor_id").replace_strict(sites).alias("site"),
        local.dt.hour().alias("hour"),
        (local.dt.weekday() >= 6).alias("weekend"),
    )


def test_history_has_exactly_the_reading_fields(month: pl.DataFrame) -> None:
    # device_seq numbers a device's messages on the wire; an archive's history has none
    assert tuple(f.name for f in AirQualityReading.DESCRIPTOR.fields if f.name != "device_seq") == COLUMNS
    assert tuple(month.columns[: len(COLUMNS)]) == COLUMNS
    assert month["event_time_ms"].dtype == pl.Int64 and month["sensor_id"].dtype == pl.String
    assert (month["event_time_ms"] % 3_600_000 == 0).all()


def _hourly(df: pl.DataFrame, column: str) -> np.ndarray:
    return df.group_by("hour").agg(pl.col(column).mean()).sort("hour")[column].to_numpy()


def test_no2_peaks_in_traffic_hours_and_o3_in_the_afternoon(month: pl.DataFrame) -> None:
    weekday = month.filter(~pl.col("weekend"))
    no2 = _hourly(weekday, "no2_ppb")
    o3 = _hourly(weekday, "o3_ppb")
    co = _hourly(weekday, "co_ppm")
    assert no2[8] > 1.3 * no2[3] and no2[18] > 1.3 * no2[3]
    assert co[8] > 1.2 * co[3]
    assert int(np.argmax(o3)) in range(12, 18)
    assert np.corrcoef(no2, o3)[0, 1] < -0.3


def test_weekends_have_less_no2(month: pl.DataFrame) -> None:
    by_day = month.group_by("weekend").agg(pl.col("no2_ppb").mean()).sort("weekend")["no2_ppb"].to_list()
    weekday, weekend = by_day
    assert weekend < 0.9 * weekday


def test_hotspot_sites_are_higher(month: pl.DataFrame) -> None:
    per_sensor = month.group_by("sensor_id", "site").agg(pl.col("no2_ppb").mean(), pl.col("so2_ppb").mean())
    site = per_sensor.group_by("site").agg(pl.col("no2_ppb").mean(), pl.col("so2_ppb").mean())
    no2 = dict(zip(site["site"], site["no2_ppb"], strict=True))
    assert no2["road"] > 1.5 * no2["background"] > 1.5 * 0.9 * no2["park"]
    assert no2["industrial"] > no2["background"]
    roads = per_sensor.filter(pl.col("site") == "road")["no2_ppb"]
    parks = per_sensor.filter(pl.col("site") == "park")["no2_ppb"]
    assert roads.min() > parks.max()
    so2 = dict(zip(site["site"], site["so2_ppb"], strict=True))
    assert so2["industrial"] > 2 * so2["background"]


def test_wind_dilutes(month: pl.DataFrame) -> None:
    roads = month.filter(pl.col("site") == "road").drop_nulls("no2_ppb")
    corr = np.corrcoef(roads["wind_speed_mps"].to_numpy(), np.log(roads["no2_ppb"].to_numpy()))[0, 1]
    assert corr < -0.2
    assert month["wind_dir_deg"].is_between(0, 360).all() and month["humidity_pct"].is_between(0, 100).all()


def test_dropouts_and_silent_periods(city: City, month: pl.DataFrame) -> None:
    measured = month.filter(pl.col("site") == "road")
    missing = measured["no2_ppb"].null_count() / measured.height
    assert 0.003 < missing < 0.03
    expected_rows = len(city.sensors) * 28 * 24
    assert 0.97 * expected_rows < month.height < expected_rows
    parks = month.filter(pl.col("site") == "park")
    assert parks["so2_ppb"].null_count() == parks.height  # parks have no SO2 analyser


def _monthly(df: pl.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = (df.with_columns(pl.from_epoch("event_time_ms", time_unit="ms").dt.truncate("1mo").alias("month"))
         .group_by("month")
         .agg(pl.col(column).log().mean().alias("y"),
              (pl.col("wind_speed_mps") + 0.8).log().mean().alias("w"),
              pl.col("event_time_ms").mean().alias("t"))
         .sort("month"))
    years = (m["t"].to_numpy() - m["t"][0]) / (365.2425 * 86_400_000)
    return years, m["y"].to_numpy(), m["w"].to_numpy()


def test_configured_trend_is_recovered_from_a_year_of_history(city: City) -> None:
    config = SimConfig(trends_pct_per_year={"no2": -10.0, "pm25": -10.0, "o3": 5.0}, seasonal=False)
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    tic = time.perf_counter()
    df = air_history(city, start, end, SEED, config)
    assert time.perf_counter() - tic < 5.0  # 13 months x 40 sensors, hourly
    years, y, wind = _monthly(df, "no2_ppb")
    # least squares on log monthly means, with the month's mean log wind as a weather covariate
    design = np.column_stack([np.ones_like(years), years, wind])
    slope = np.linalg.lstsq(design, y, rcond=None)[0][1]
    assert (np.exp(slope) - 1) * 100 == pytest.approx(-10.0, abs=3.0)

    flat = air_history(city, start, end, SEED, SimConfig(trends_pct_per_year={}, seasonal=False))
    for column, pct in (("no2_ppb", -10.0), ("pm25_ugm3", -10.0)):
        years, y_trend, _ = _monthly(df, column)
        _, y_flat, _ = _monthly(flat, column)
        exact = np.polyfit(years, y_trend - y_flat, 1)[0]
        assert (np.exp(exact) - 1) * 100 == pytest.approx(pct, abs=0.3)


def test_stream_and_history_agree(city: City) -> None:
    start = datetime(2025, 1, 7, tzinfo=UTC)
    stream = [e.message for e in simulate(city, start, timedelta(days=1), seed=SEED, domains=("air",))]
    assert all(isinstance(m, AirQualityReading) for m in stream)
    readings = pl.DataFrame(
        {"sensor_id": [m.sensor_id for m in stream], "no2": [m.no2_ppb if m.HasField("no2_ppb") else None
                                                            for m in stream]})
    hist = air_history(city, start, start + timedelta(days=1), SEED)
    a = readings.group_by("sensor_id").agg(pl.col("no2").mean()).sort("sensor_id")
    b = hist.group_by("sensor_id").agg(pl.col("no2_ppb").mean()).sort("sensor_id")
    joined = a.join(b, on="sensor_id")
    assert np.corrcoef(joined["no2"], joined["no2_ppb"])[0, 1] > 0.97
    assert joined["no2"].mean() == pytest.approx(joined["no2_ppb"].mean(), rel=0.05)
    per_sensor = readings.group_by("sensor_id").len()["len"]
    assert per_sensor.max() <= 24 * 60 and per_sensor.min() > 0
