"""Bus telemetry marts against hand-computed values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from smartcity.analysis.marts import compute_mart
from tests.marts.lakes import DAY, MINUTE, T0, land, telemetry


def test_occupancy_per_route_hour_and_stop(lake: Path) -> None:
    out = compute_mart("bus_occupancy", lake, DAY)
    assert out.select("route_id", "stop_id").rows() == [("R1", "S2"), ("R2", "S3")]
    r1 = out.row(0, named=True)
    assert r1["date"] == date(2026, 3, 10) and r1["hour"] == datetime(2026, 3, 10, 6, tzinfo=UTC)
    # 10, 30 (landed twice, counted once) and 60 passengers; 40 seats and 70 places each
    assert (r1["readings"], r1["buses"], r1["passengers_max"]) == (3, 2, 60)
    assert r1["passengers_mean"] == pytest.approx(100 / 3)
    assert r1["load_factor_mean"] == pytest.approx(100 / 120) and r1["load_factor_max"] == 1.5
    assert r1["load_los"] == "C"  # 0.83 lies in 0.76–1.00
    assert r1["crowded_share"] == pytest.approx(1 / 3)  # only 60 > 0.8 × 70 = 56
    assert r1["share_many_seats_available"] == pytest.approx(1 / 3)
    assert r1["share_few_seats_available"] == pytest.approx(1 / 3)
    assert r1["share_standing_room_only"] == pytest.approx(1 / 3)
    assert r1["share_empty"] == 0.0
    r2 = out.row(1, named=True)
    assert (r2["passengers_mean"], r2["load_factor_mean"], r2["load_los"], r2["crowded_share"]) == (0.0, 0.0, "A", 0.0)
    assert r2["share_empty"] == 1.0


def test_occupancy_threshold_is_a_parameter(lake: Path) -> None:
    out = compute_mart("bus_occupancy", lake, DAY, crowded_at=0.3)
    assert out["crowded_share"].to_list() == [pytest.approx(2 / 3), 0.0]  # 10 is not above 0.3 × 70 = 21
    with pytest.raises(ValueError, match="positive"):
        compute_mart("bus_occupancy", lake, DAY, crowded_at=0)


def test_window_stats_with_fleet_mean(lake: Path) -> None:
    out = compute_mart("bus_window_stats", lake, DAY)
    six = datetime(2026, 3, 10, 6, tzinfo=UTC)
    assert out.select("window_start", "bus_id").rows() == [
        (six, "B1"), (six, "B2"), (datetime(2026, 3, 10, 7, 20, tzinfo=UTC), "B3")
    ]
    b1 = out.row(0, named=True)
    assert b1["window_end"] == six + timedelta(minutes=20) and b1["route_id"] == "R1"
    assert (b1["readings"], b1["passengers_min"], b1["passengers_max"], b1["passengers_mean"]) == (2, 10, 30, 20.0)
    assert (b1["fleet_buses"], out.row(1, named=True)["fleet_buses"]) == (2, 2)
    assert out["fleet_passengers_mean"].to_list() == [pytest.approx(100 / 3), pytest.approx(100 / 3), 0.0]


def test_window_length_and_last_route(tmp_path: Path) -> None:
    messages = [
        telemetry("B1", "R1", T0 + 1 * MINUTE, 10),
        telemetry("B1", "R1", T0 + 4 * MINUTE, 20),
        telemetry("B1", "R9", T0 + 6 * MINUTE, 30),  # the bus changed route in the window
        telemetry("B1", "R9", T0 + 11 * MINUTE, 40),
    ]
    land(tmp_path, "parquet", "bus_telemetry", messages)
    out = compute_mart("bus_window_stats", tmp_path, DAY, window=timedelta(minutes=10))
    assert out.select("window_start", "route_id", "readings", "passengers_mean").rows() == [
        (datetime(2026, 3, 10, 0, 0, tzinfo=UTC), "R9", 3, 20.0),
        (datetime(2026, 3, 10, 0, 10, tzinfo=UTC), "R9", 1, 40.0),
    ]
    # a window that does not divide the day is cut at midnight
    odd = compute_mart("bus_window_stats", tmp_path, DAY, window="7m")
    assert odd["window_start"][0] == datetime(2026, 3, 10, tzinfo=UTC)
    assert odd["window_end"][0] - odd["window_start"][0] < timedelta(minutes=7)
    assert odd["readings"].sum() == 4


def test_out_of_service_and_other_days_are_left_out(lake: Path) -> None:
    out = compute_mart("bus_window_stats", lake, DAY)
    assert "B4" not in out["bus_id"].to_list()
    assert out.filter(pl.col("bus_id") == "B1")["passengers_max"].to_list() == [30]  # not the 50 of the day before
