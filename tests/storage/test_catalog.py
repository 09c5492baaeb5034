"""The DuckDB catalog: a view per raw dataset and mart, absolute paths, every format; `smartcity sql`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smartcity.core.resources import samples_dir
from smartcity.storage.catalog import catalog_path, connect, refresh_catalog
from smartcity.storage.scan import read_table

SAMPLES = samples_dir()


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 40-minute simulated lake in each format."""
    from datetime import UTC, datetime, timedelta

    from smartcity.simulator import default_city, simulate
    from smartcity.simulator.config import to_ms
    from smartcity.simulator.to_lake import events_to_lake
    from smartcity.storage.settings import LakeSettings

    start = datetime(2026, 3, 10, 7, 40, tzinfo=UTC)
    out = {}
    for fmt in ("parquet", "csv", "hdf5"):
        root = tmp_path_factory.mktemp(fmt)
        events = simulate(default_city(), start, timedelta(minutes=40), 5)
        events_to_lake(events, LakeSettings(path=root, format=fmt), to_ms(start), ingested_at_ms=to_ms(start))
        out[fmt] = root
    return out


def test_views_over_every_format_hold_the_same_rows(lakes: dict[str, Path]) -> None:
    counts = {}
    for fmt, root in lakes.items():
        entries = {e.name: e for e in refresh_catalog(root)}
        assert set(entries) >= {"bus_telemetry", "air_readings", "station_events", "alerts"}
        assert entries["alerts"].source == "empty"
        con = connect(catalog_path(root))
        q = ("SELECT count(*), sum(passengers), count(DISTINCT bus_id), min(hour), max(hour), "
             "count(DISTINCT date) FROM bus_telemetry")
        counts[fmt] = con.execute(q).fetchall()[0]
        assert con.execute("SELECT count(*) FROM alerts").fetchall() == [(0,)]
        pm = con.execute("SELECT count(*) FILTER (WHERE pm25_ugm3 IS NULL), count(*) FROM air_readings").fetchall()
        assert pm[0][1] == read_table(root, "air_readings").num_rows
        con.close()
    assert counts["parquet"] == counts["csv"] == counts["hdf5"]
    assert counts["parquet"][3:5] == (7, 8)  # hour partitions 07 and 08 as integers


def test_catalog_uses_absolute_paths_and_opens_from_elsewhere(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(SAMPLES, lake)
    refresh_catalog(lake)
    moved_cwd = tmp_path / "elsewhere"
    moved_cwd.mkdir()
    code = ("import duckdb; c = duckdb.connect('" + str(catalog_path(lake)) + "', read_only=True); "
            "print(c.execute('select count(*) from station_events').fetchall()[0][0])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=moved_cwd)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == read_table(lake, "station_events").num_rows


def test_mart_views_appear_after_marts_are_written(tmp_path: Path) -> None:
    import polars as pl

    lake = tmp_path / "lake"
    shutil.copytree(SAMPLES, lake)
    day = lake / "marts" / "demo_mart" / "date=2026-03-10"
    day.mkdir(parents=True)
    pl.DataFrame({"route_id": ["R1", "R2"], "value": [1.5, 2.5]}).write_parquet(day / "part-0.parquet")
    names = {e.name: e.kind for e in refresh_catalog(lake)}
    assert names["demo_mart"] == "mart"
    con = connect(catalog_path(lake))
    assert con.execute("SELECT sum(value), min(date) FROM demo_mart").fetchall()[0][0] == 4.0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", *args], capture_output=True, text=True,
                          timeout=120)


def test_sql_command_outputs_and_errors(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(SAMPLES, lake)
    ok = cli("sql", "--lake", str(lake), "SELECT count(*) AS n FROM bus_telemetry", "--format", "csv")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == ["n", str(read_table(lake, "bus_telemetry").num_rows)]
    target = tmp_path / "out.parquet"
    wrote = cli("sql", "--lake", str(lake), "SELECT station_id, count(*) c FROM station_events GROUP BY 1",
                "--output", str(target))
    assert wrote.returncode == 0 and target.exists()
    import pyarrow.parquet as pq

    assert pq.read_table(target).num_rows > 10
    bad = cli("sql", "--lake", str(lake), "SELECT nope FROM bus_telemetry")
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "nope" in bad.stderr and "Traceback" not in bad.stderr
    missing = cli("sql", "--lake", str(tmp_path / "none"), "SELECT 1")
    assert missing.returncode == 2 and "no lake" in missing.stderr


def test_every_epoch_ms_column_has_a_utc_timestamp_twin(lakes: dict[str, Path]) -> None:
    for fmt, root in lakes.items():
        refresh_catalog(root)
        con = connect(catalog_path(root))
        views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        assert len(views) >= 5, fmt
        for view in views:
            kinds = dict(con.execute(f'SELECT column_name, data_type FROM information_schema.columns '
                                     f"WHERE table_name = '{view}'").fetchall())
            for name, kind in kinds.items():
                if name.endswith("_ms") and kind in ("BIGINT", "INTEGER"):
                    assert kinds.get(name[:-3]) in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"), (fmt, view, name)
        row = con.execute("SELECT count(*), min(scheduled_time), bool_and(scheduled_time = to_timestamp("
                          "scheduled_time_ms / 1000.0)) FROM station_events WHERE kind <> 'PASSENGER_COUNT' "
                          "AND scheduled_time > TIMESTAMPTZ '2026-03-10 07:00:00+00' - INTERVAL 1 HOUR").fetchall()[0]
        assert row[0] > 0 and row[2], (fmt, row)
        counts = con.execute("SELECT count(*) FILTER (WHERE scheduled_time IS NULL), "
                             "count(*) FILTER (WHERE kind = 'PASSENGER_COUNT') FROM station_events").fetchall()[0]
        assert counts[0] == counts[1]  # a count has no scheduled time: 0 becomes NULL, not 1970
        con.close()


@pytest.mark.parametrize("formats", [["parquet", "hdf5"], ["hdf5", "csv", "parquet"]], ids="+".join)
def test_a_lake_mixing_formats_has_each_row_once(tmp_path: Path, formats: list[str]) -> None:
    """HDF5 rows are copied from the HDF5 files only (a copy of the whole dataset repeated the rows of
    its Parquet and CSV files), with a column added later null in the older files."""
    from tests.storage.test_scan_stream import lake

    root = lake(tmp_path, formats)
    rows = read_table(root, "air_readings")
    entry = next(e for e in refresh_catalog(root) if e.name == "air_readings")
    assert entry.files == 8 and "hdf5 (copied)" in entry.source
    con = connect(catalog_path(root))
    got = con.execute("SELECT count(*), count(DISTINCT _offset), sum(_offset), count(averaging_hour), "
                      "count(DISTINCT date) FROM air_readings").fetchall()[0]
    con.close()
    assert got == (rows.num_rows, rows.num_rows, sum(rows.column("_offset").to_pylist()),
                   rows.num_rows - rows.column("averaging_hour").null_count, 2)


def test_an_hourly_flow_refreshes_the_catalog_only_when_its_views_no_longer_cover_the_lake(tmp_path: Path) -> None:
    """Views over Parquet globs see files landed later; only a new dataset or mart, or copied HDF5
    tables, need a refresh (whose cost grows with the files)."""
    import polars as pl

    from smartcity.storage.catalog import catalog_is_current
    from tests.marts.lakes import HOUR, T0, land, reading

    lake = tmp_path / "lake"
    land(lake, "parquet", "air_readings", [reading("A1", T0 + HOUR, pm25_ugm3=5.0)])
    assert not catalog_is_current(lake)  # no catalog yet
    refresh_catalog(lake)
    assert catalog_is_current(lake)
    land(lake, "parquet", "air_readings", [reading("A1", T0 + 30 * HOUR, pm25_ugm3=7.0)], first_offset=1)
    assert catalog_is_current(lake)
    con = connect(catalog_path(lake))
    assert con.execute("SELECT count(*) FROM air_readings").fetchone() == (2,)  # the new day, no refresh
    con.close()
    day = lake / "marts" / "demo_mart" / "date=2026-03-10"
    day.mkdir(parents=True)
    pl.DataFrame({"value": [1.5]}).write_parquet(day / "part-0.parquet")
    assert not catalog_is_current(lake)  # a mart without a view
    refresh_catalog(lake)
    assert catalog_is_current(lake)
    hdf5 = tmp_path / "hdf5"
    land(hdf5, "hdf5", "air_readings", [reading("A1", T0 + HOUR, pm25_ugm3=5.0)])
    refresh_catalog(hdf5)
    assert not catalog_is_current(hdf5)  # its table is a copy: every run refreshes it
