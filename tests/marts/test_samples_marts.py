"""Marts on the committed sample day (data/samples) against independent answers: plain SQL over the
raw rows in DuckDB for the aggregates, and the scalar EPA functions for AQI."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from smartcity.analysis.air import aqi
from smartcity.analysis.marts import compute_mart
from smartcity.core.resources import samples_dir

SAMPLES = samples_dir()

DAY = "2026-03-10"
RAW = SAMPLES / "raw"


HOUR = pl.col("hour").dt.replace_time_zone(None).dt.cast_time_unit("us")  # naive UTC, one unit for joins


def sql(query: str) -> pl.DataFrame:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.sql(query).pl()


@pytest.fixture(scope="module")
def occupancy() -> pl.DataFrame:
    return compute_mart("bus_occupancy", SAMPLES, DAY)


def test_bus_occupancy_matches_sql(occupancy: pl.DataFrame) -> None:
    expected = sql(f"""
        SELECT route_id, date_trunc('hour', event_time) AS hour, next_stop_id AS stop_id,
               count(*) AS readings, max(passengers) AS passengers_max, avg(passengers) AS passengers_mean
        FROM read_parquet('{RAW}/bus_telemetry/*/*/*.parquet')
        WHERE route_id <> '' AND next_stop_id <> ''
        GROUP BY ALL""")
    got = occupancy.select("route_id", HOUR, "stop_id", "readings",
                           "passengers_max", "passengers_mean")
    joined = expected.with_columns(HOUR).join(
        got, on=["route_id", "hour", "stop_id"], how="full", suffix="_mart")
    assert joined.height == expected.height == got.height
    assert (joined["readings"] == joined["readings_mart"]).all()
    assert (joined["passengers_max"] == joined["passengers_max_mart"]).all()
    assert ((joined["passengers_mean"] - joined["passengers_mean_mart"]).abs() < 1e-9).all()


def test_station_service_boardings_match_sql() -> None:
    mart = compute_mart("station_service", SAMPLES, DAY).filter(pl.col("period") == "day")
    expected = sql(f"""
        SELECT station_id, sum(boarded) FILTER (WHERE kind = 'DEPARTURE') AS boardings,
               count(*) FILTER (WHERE kind = 'DEPARTURE') AS departures,
               max(waiting_passengers) AS peak_waiting
        FROM read_parquet('{RAW}/station_events/*/*/*.parquet')
        GROUP BY 1""")
    joined = expected.join(mart.select("station_id", "boardings", "departures", "peak_waiting"), on="station_id",
                           suffix="_mart")
    assert joined.height == expected.height > 20
    for col in ("boardings", "departures", "peak_waiting"):
        assert (joined[col] == joined[f"{col}_mart"]).all(), col


def test_hourly_no2_aqi_matches_the_scalar_epa_function() -> None:
    mart = compute_mart("air_quality_hourly", SAMPLES, DAY)
    hourly = sql(f"""
        SELECT sensor_id, date_trunc('hour', event_time) AS hour, avg(no2_ppb) AS no2
        FROM read_parquet('{RAW}/air_readings/*/*/*.parquet')
        WHERE no2_ppb IS NOT NULL GROUP BY ALL""")
    joined = hourly.with_columns(HOUR).join(
        mart.select("sensor_id", HOUR, "no2_ppb", "aqi_no2"),
        on=["sensor_id", "hour"])
    assert joined.height == hourly.height > 500
    assert ((joined["no2"] - joined["no2_ppb"]).abs() < 1e-6).all()
    for row in joined.iter_rows(named=True):
        assert row["aqi_no2"] == aqi("no2", row["no2"]), row
