"""Station-event marts (headways, route performance, station service) against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from smartcity.analysis.marts import compute_mart
from smartcity.analysis.transit import OnTimeWindow
from tests.marts.lakes import DAY, MINUTE, T0, land, station_event


@pytest.fixture(scope="module")
def headways(lake: Path) -> pl.DataFrame:
    return compute_mart("bus_headways", lake, DAY)


def test_headways_10_10_10_28_1_1_against_10(headways: pl.DataFrame) -> None:
    for station in ("S1", "S2"):
        rows = headways.filter((pl.col("route_id") == "R1") & (pl.col("station_id") == station))
        assert rows.height == 7  # the 06:30 arrival landed twice counts once
        assert rows["actual_headway_s"].to_list() == [None, 600.0, 600.0, 600.0, 1680.0, 60.0, 60.0]
        assert rows["scheduled_headway_s"].to_list() == [None, 600.0, 600.0, 600.0, 600.0, 600.0, 600.0]
        assert rows["bunched"].to_list() == [None, False, False, False, False, True, True]
        assert rows["headway_ratio"].to_list() == [None, 1.0, 1.0, 1.0, 2.8, 0.1, 0.1]
        # the previous bus of the first one ran yesterday evening, 23 h ago: a service break
        assert rows["prev_bus_id"].to_list() == [None, "B10", "B11", "B12", "B13", "B14", "B15"]
    late = headways.filter((pl.col("station_id") == "S1") & (pl.col("bus_id") == "B14")).row(0, named=True)
    assert late["delay_s"] == 18 * 60.0 and late["origin_id"] == "S1" and late["trip_id"] == "R1-T4"
    assert late["actual_time"] == datetime(2026, 3, 10, 6, 58, tzinfo=UTC)
    assert late["scheduled_time"] == datetime(2026, 3, 10, 6, 40, tzinfo=UTC)


def test_headways_keep_directions_apart(headways: pl.DataFrame) -> None:
    at_s2 = headways.filter((pl.col("route_id") == "R2") & (pl.col("station_id") == "S2"))
    towards_s2 = at_s2.filter(pl.col("origin_id") == "S3")
    assert towards_s2["actual_headway_s"].to_list() == [None, 17 * 60.0, 23 * 60.0]
    assert towards_s2["scheduled_headway_s"].to_list() == [None, 15 * 60.0, 15 * 60.0]
    from_s2 = at_s2.filter(pl.col("origin_id") == "S2")
    assert from_s2["actual_headway_s"].to_list() == [None, 15 * 60.0, 15 * 60.0]


def test_departure_headways_and_other_definitions(lake: Path) -> None:
    out = compute_mart("bus_headways", lake, DAY, kind="DEPARTURE", bunching="btc")
    s1 = out.filter((pl.col("route_id") == "R1") & (pl.col("station_id") == "S1"))
    assert s1["actual_headway_s"].to_list() == [None, 600.0, 600.0, 600.0, 1680.0, 60.0, 60.0]
    assert s1["bunched"].to_list() == [None, False, False, False, False, True, True]  # 1 < 0.25 × 10
    with pytest.raises(ValueError, match="kind"):
        compute_mart("bus_headways", lake, DAY, kind="PASSENGER_COUNT")


def test_route_performance(lake: Path) -> None:
    out = compute_mart("route_performance", lake, DAY)
    assert out["route_id"].to_list() == ["R1", "R2"]
    r1 = out.row(0, named=True)
    # headways 10, 10, 10, 28, 1, 1 against 10 at both stations
    assert r1["headways"] == 12
    assert r1["awt_min"] == pytest.approx(9.05) and r1["swt_min"] == pytest.approx(5.0)
    assert r1["ewt_min"] == pytest.approx(4.05)
    assert r1["headway_cv"] == pytest.approx(0.9) and r1["headway_los"] == "F"
    assert r1["bunched_share"] == pytest.approx(2 / 6)
    # departures late by 0, 0, 0, 0, 18, 9, 0 min at each of two stations; window −1/+5 min
    assert r1["departures"] == 14
    assert r1["on_time_share"] == pytest.approx(5 / 7) and r1["late_share"] == pytest.approx(2 / 7)
    assert r1["early_share"] == 0.0 and (r1["otp_early_min"], r1["otp_late_min"]) == (-1.0, 5.0)
    assert r1["mean_delay_s"] == pytest.approx(27 * 60 / 7)
    # every trip takes 4 minutes from its S1 departure to its S2 arrival
    assert (r1["trips"], r1["run_time_p50_min"], r1["run_time_p90_min"]) == (7, 4.0, 4.0)
    r2 = out.row(1, named=True)
    # run times 10, 12, 20 (towards S2) and 10, 10, 10 (towards S3)
    assert r2["trips"] == 6
    assert (r2["run_time_p10_min"], r2["run_time_p50_min"], r2["run_time_p90_min"]) == (10.0, 10.0, 16.0)
    assert r2["scheduled_run_time_p50_min"] == 10.0
    assert (r2["on_time_share"], r2["mean_delay_s"], r2["bunched_share"]) == (1.0, 0.0, 0.0)


def test_on_time_window_presets(lake: Path) -> None:
    wmata = compute_mart("route_performance", lake, DAY, window="wmata").row(0, named=True)
    assert (wmata["otp_early_min"], wmata["otp_late_min"]) == (-2.0, 7.0)
    assert wmata["on_time_share"] == pytest.approx(5 / 7)
    loose = compute_mart("route_performance", lake, DAY, window=OnTimeWindow(-1.0, 10.0)).row(0, named=True)
    assert loose["on_time_share"] == pytest.approx(6 / 7)  # 9 min late is now on time
    with pytest.raises(ValueError, match="unknown on-time window"):
        compute_mart("route_performance", lake, DAY, window="nowhere")


@pytest.fixture(scope="module")
def service(lake: Path) -> pl.DataFrame:
    return compute_mart("station_service", lake, DAY)


def period(frame: pl.DataFrame, station: str, hour: int | None = None) -> dict:
    if hour is None:
        rows = frame.filter((pl.col("station_id") == station) & (pl.col("period") == "day"))
    else:
        start = datetime(2026, 3, 10, hour, tzinfo=UTC)
        rows = frame.filter((pl.col("station_id") == station) & (pl.col("period") == "hour")
                            & (pl.col("period_start") == start))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_station_day(service: pl.DataFrame) -> None:
    s1 = period(service, "S1")
    assert s1["period_start"] == datetime(2026, 3, 10, tzinfo=UTC)
    assert (s1["departures"], s1["scheduled_departures"], s1["service_ratio"], s1["routes"]) == (7, 7, 1.0, 1)
    # headways 10, 10, 10, 28, 1, 1: mean wait Σh²/2Σh = 9.05; 10 % of random arrivals wait over 22 min,
    # since only the 28-min gap leaves waits that long: (28 − 22) / 60 = 0.1
    assert s1["headways"] == 6
    assert s1["mean_wait_min"] == pytest.approx(9.05) and s1["p90_wait_min"] == pytest.approx(22.0)
    assert s1["mean_dwell_s"] == 60.0 and s1["on_time_share"] == pytest.approx(5 / 7)
    assert s1["boardings"] == sum(5 + k for k in range(7)) and s1["alightings"] == 0
    # waiting 10, 50, 60, 20 then 45 above a threshold of 40: two episodes
    assert (s1["peak_waiting"], s1["overcrowding_events"]) == (60, 2)
    s2 = period(service, "S2")
    assert (s2["departures"], s2["routes"], s2["alightings"]) == (10, 2, 7 * 4)


def test_station_hours(service: pl.DataFrame) -> None:
    five = period(service, "S1", 5)
    assert (five["departures"], five["peak_waiting"], five["overcrowding_events"]) == (0, 60, 1)
    assert five["mean_wait_min"] is None and five["service_ratio"] is None
    seven = period(service, "S1", 7)
    # departures at 07:00 and 07:01; only the 07:01 one was timetabled in hour 7
    assert (seven["departures"], seven["scheduled_departures"], seven["service_ratio"]) == (2, 1, 2.0)
    assert (seven["headways"], seven["mean_wait_min"], seven["p90_wait_min"]) == (1, 0.5, pytest.approx(0.9))
    hours = service.filter((pl.col("station_id") == "S1") & (pl.col("period") == "hour"))["period_start"]
    assert hours.dt.hour().to_list() == [5, 6, 7, 9]


def test_overcrowding_that_began_yesterday_is_not_a_new_event(service: pl.DataFrame) -> None:
    s3 = period(service, "S3")
    assert (s3["peak_waiting"], s3["overcrowding_events"]) == (55, 0)
    assert period(service, "S3", 0)["overcrowding_events"] == 0


def test_crowding_threshold_is_a_parameter(lake: Path) -> None:
    out = compute_mart("station_service", lake, DAY, crowding_threshold=15)
    assert period(out, "S1")["overcrowding_events"] == 2  # 50, 60, 20 | 45
    assert period(compute_mart("station_service", lake, DAY, crowding_threshold=55), "S1")["overcrowding_events"] == 1


def test_repeated_trip_ids_are_separate_trips(tmp_path: Path) -> None:
    events = []
    for start in (T0 - 24 * 60 * MINUTE + 10 * 60 * MINUTE, T0 + 10 * 60 * MINUTE):  # 10:00 yesterday and today
        common = {"bus": "B1", "route": "R7", "trip": "R7-1000"}
        events += [station_event("X1", start, 2, scheduled_ms=start, seq=1, **common),
                   station_event("X2", start + 25 * MINUTE, 1, scheduled_ms=start + 20 * MINUTE, seq=2, **common)]
    land(tmp_path, "parquet", "station_events", events)
    out = compute_mart("route_performance", tmp_path, DAY).row(0, named=True)
    assert (out["trips"], out["run_time_p50_min"], out["scheduled_run_time_p50_min"]) == (1, 25.0, 20.0)


def test_delays_are_correctly_rounded_and_window_bounds_inclusive(tmp_path: Path) -> None:
    ten = T0 + 10 * 60 * MINUTE
    common = {"route": "R8", "seq": 1}
    events = [
        # 6.927 s early: the delay is the double nearest to −6.927, not −6.927 · (1 − 2⁻⁵³)
        station_event("Y1", ten - 6927, 1, bus="B1", trip="R8-1", scheduled_ms=ten, **common),
        station_event("Y1", ten + 5 * MINUTE, 2, bus="B1", trip="R8-1", scheduled_ms=ten, **common),  # +5:00.000
        station_event("Y1", ten + 20 * MINUTE + 1, 2, bus="B2", trip="R8-2", scheduled_ms=ten + 15 * MINUTE,
                      **common),  # +5:00.001
        station_event("Y1", ten + 29 * MINUTE, 2, bus="B3", trip="R8-3", scheduled_ms=ten + 30 * MINUTE,
                      **common),  # −1:00.000
    ]
    land(tmp_path, "parquet", "station_events", events)
    arrival = compute_mart("bus_headways", tmp_path, DAY).row(0, named=True)
    assert arrival["delay_s"] == -6.927
    route = compute_mart("route_performance", tmp_path, DAY).row(0, named=True)
    assert (route["departures"], route["on_time_share"], route["late_share"]) == (3, 2 / 3, 1 / 3)
    assert route["mean_delay_s"] == 540_001 / 3_000  # Σ deviations (ms) / (n · 1000), one division
