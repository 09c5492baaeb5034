"""The TIDES tables validate against the specification's vendored table schemas, on the sample day and on
a real feed's simulated day, and stop visits at every stop make run times span whole trips."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from smartcity.analysis.marts import compute_mart
from smartcity.core.resources import samples_dir
from smartcity.simulator import SimConfig, import_gtfs, simulate
from smartcity.simulator.config import to_ms
from smartcity.simulator.gtfs import trips_on
from smartcity.simulator.timetable import service_day
from smartcity.simulator.to_lake import events_to_lake
from smartcity.storage.catalog import catalog_path, connect, refresh_catalog
from smartcity.storage.settings import LakeSettings
from tests.analysis.tides_schema import problems, schema
from tests.sim.real_feeds import real_feed

DAY = "2026-03-10"


@pytest.mark.parametrize("table", ["stop_visits", "trips_performed"])
def test_the_tides_marts_validate_against_the_specification(table: str) -> None:
    frame = compute_mart(table, samples_dir(), DAY)
    assert frame.height > 1000 and frame.columns[0] == "date"  # the lake's partition column, as in every mart
    frame = frame.drop("date")
    assert problems(table, frame) == []
    assert set(frame.columns) <= {f["name"] for f in schema(table)["fields"]}


def test_the_validator_finds_what_breaks_a_schema() -> None:
    frame = compute_mart("stop_visits", samples_dir(), DAY).drop("date")
    broken = pl.concat([frame, frame.head(1)]).with_columns(
        pl.when(pl.col("trip_stop_sequence") == 1).then(pl.lit("Early")).otherwise(pl.col("schedule_relationship"))
        .alias("schedule_relationship"), pl.lit(1).alias("route_id"))
    found = problems("stop_visits", broken)
    assert any("primary key" in p for p in found) and any("enum" in p for p in found)
    assert any("route_id: not a field" in p for p in found)


def test_vehicle_locations_view_validates(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(samples_dir(), lake)
    refresh_catalog(lake)
    con = connect(catalog_path(lake))
    frame = pl.from_arrow(con.sql("SELECT * FROM vehicle_locations").to_arrow_table())
    con.close()
    assert frame.height > 100_000
    assert problems("vehicle_locations", frame) == []
    assert set(frame["current_status"].unique()) == {"Incoming at", "Stopped at", "In transit to"}


def test_run_times_span_whole_trips_now_that_every_stop_reports() -> None:
    trips = compute_mart("trips_performed", samples_dir(), DAY)
    performance = compute_mart("route_performance", samples_dir(), DAY)
    scheduled = trips.with_columns(
        ((pl.col("schedule_trip_end") - pl.col("schedule_trip_start")).dt.total_seconds() / 60).alias("minutes")
    ).group_by("route_id").agg(pl.col("minutes").median())
    joined = performance.join(scheduled, on="route_id")
    for row in joined.filter(pl.col("route_id").is_in(["R12", "R13", "R14"])).iter_rows(named=True):
        assert row["scheduled_run_time_p50_min"] == pytest.approx(row["minutes"], abs=0.01)
        assert row["run_time_p50_min"] > 0.7 * row["minutes"] > 5  # was 0.9 min between adjacent stations


def test_stop_visits_of_a_real_feed_day_are_its_timetable(tmp_path: Path) -> None:
    source = real_feed("cairns")
    city = import_gtfs(source)
    assert city.feed is not None
    day = date(2014, 6, 2)
    svc = service_day(day, ZoneInfo(city.timezone))
    start = datetime.fromtimestamp(svc.at(6 * 3600) / 1000, UTC)
    events = simulate(city, start, timedelta(hours=4), 3, domains=("station",), config=SimConfig(on_schedule=True))
    events_to_lake(events, LakeSettings(path=tmp_path), to_ms(start), ingested_at_ms=to_ms(start))
    visits = compute_mart("stop_visits", tmp_path, start.date(), timezone=city.timezone).drop("date")
    assert problems("stop_visits", visits) == []
    assert (visits["schedule_arrival_time"] == visits["actual_arrival_time"]).all()
    want = {(t.trip_id, k + 1): svc.at(a) for t in trips_on(city.feed, day) for k, a in enumerate(t.arrivals)}
    got = {(r["trip_id_performed"], r["trip_stop_sequence"]): int(r["schedule_arrival_time"].timestamp() * 1000)
           for r in visits.filter(pl.col("service_date") == day).iter_rows(named=True)}
    assert got and all(want[key] == at for key, at in got.items())
