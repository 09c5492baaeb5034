"""Incremental and idempotent mart building (the logic the flows run)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smartcity.core.resources import samples_dir
from smartcity.flows import jobs
from smartcity.storage.marts import mart_partition, read_mart
from tests.marts.lakes import land, station_event

SAMPLES = samples_dir()

DAY = "2026-03-10"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    shutil.copytree(SAMPLES, root)
    return root


def test_only_dates_with_new_raw_data_are_rebuilt(lake: Path) -> None:
    assert jobs.dates_needing(lake, "route_performance") == [DAY]
    first = jobs.build_mart(lake, "route_performance", DAY)
    assert first.rows > 0
    assert jobs.dates_needing(lake, "route_performance") == []  # nothing new since
    # a new raw file lands for that date (a late event, from another partition): the mart is stale again
    t = int(datetime(2026, 3, 10, 8, 30, tzinfo=UTC).timestamp() * 1000)
    land(lake, "parquet", "station_events", [station_event("ST1", t, 1, bus="B1", route="R1")], partition=7)
    assert len(list((lake / "raw" / "station_events" / f"date={DAY}" / "hour=08").glob("*+7+*.parquet"))) == 1
    assert jobs.dates_needing(lake, "route_performance") == [DAY]
    assert jobs.dates_needing(lake, "air_quality_hourly") == [DAY]  # never built yet
    assert jobs.dates_needing(lake, "air_hotspots", ["2026-03-09", DAY]) == [DAY]  # explicit: those with data


def test_rebuilding_a_date_replaces_its_partition(lake: Path) -> None:
    a = jobs.build_mart(lake, "bus_occupancy", DAY)
    once = read_mart(lake, "bus_occupancy")
    b = jobs.build_mart(lake, "bus_occupancy", DAY)
    twice = read_mart(lake, "bus_occupancy")
    assert a.rows == b.rows == once.height == twice.height
    assert len(list(mart_partition(lake, "bus_occupancy", DAY).glob("*.parquet"))) == 1


def test_date_parameters() -> None:
    assert jobs.parse_dates("2026-03-10") == ["2026-03-10"]
    assert jobs.parse_dates(start="2026-02-27", end="2026-03-02") == [
        "2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
    assert jobs.parse_dates() is None
    with pytest.raises(ValueError, match="before start"):
        jobs.parse_dates(start="2026-03-02", end="2026-03-01")
    with pytest.raises(ValueError, match="both"):
        jobs.parse_dates(start="2026-03-02")
