"""``bench archive``'s claim, as a test of what is read (never of time): one hourly cycle reads the same
on a lake of 1 week as on one of 4 months, but for the trends' extra monthly rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from smartcity.bench.archive import HOUR, NOW, cycle
from smartcity.bench.archive_lake import Archive, derive, land_hour
from smartcity.storage.marts import read_mart
from smartcity.storage.read_stats import read_stats
from smartcity.storage.scan import dataset_files

CITY = {"buses": 12, "routes": 2, "stations": 4, "sensors": 2, "interval_s": 120, "air_interval_s": 1800}


def test_an_hourly_cycle_reads_what_changed_whatever_the_history(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "long", NOW, HOUR, **CITY)
    archive.build(120, progress=lambda _: None)
    derive(tmp_path / "long", tmp_path / "short", NOW, 7)
    hour = archive.new_hour()
    found = {}
    for lake in ("short", "long"):
        root = tmp_path / lake
        land_hour(root, hour)
        found[lake] = {flow: cycle(flow, str(root)) for flow in ("air_quality", "bus_operations", "station_service")}
    short, long = found["short"], found["long"]
    history = read_stats(dataset_files(tmp_path / "long", "air_readings"))
    assert history.rows > 100 * 24 * CITY["sensors"]  # the long lake holds its history
    for flow in ("bus_operations", "station_service"):
        assert long[flow]["builds"] == short[flow]["builds"]
        assert all(build.endswith(f" {NOW}") for build in long[flow]["builds"])  # today's partitions only
        assert long[flow]["rows_read"] == short[flow]["rows_read"] > 0
        assert long[flow]["partitions_read"] == short[flow]["partitions_read"]
    assert long["air_quality"]["builds"] == short["air_quality"]["builds"]
    monthly = {lake: read_mart(tmp_path / lake, "air_monthly").filter(pl.col("date") <= NOW).height
               for lake in ("short", "long")}
    # The long lake holds more months (November .. February, 6 pollutants), but trends change once a month:
    # both runs copy the trends stored for the same complete months. What the long lake reads more is this
    # month's sums of the days the short lake does not have (1 and 2 March): bounded by a month.
    assert monthly["long"] - monthly["short"] == 4 * CITY["sensors"] * 6
    early = read_mart(tmp_path / "long", "air_daily_sums", [date(2026, 3, 1), date(2026, 3, 2)]).height
    assert long["air_quality"]["rows_read"] - short["air_quality"]["rows_read"] == early
    assert long["air_quality"]["rows_read"] < history.rows / 20
