"""Mart partitions: atomic, idempotent writes; reading back by date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from smartcity.storage.layout import UnsafePathError
from smartcity.storage.marts import PART, mart_dates, mart_partition, read_mart, write_mart


def frame(day: date, values: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"date": [day] * len(values), "value": values})


def test_write_is_idempotent_and_replaces_the_partition(tmp_path: Path) -> None:
    day = date(2026, 3, 10)
    path = write_mart(tmp_path, "route_performance", day, frame(day, [1, 2, 3]))
    assert path == tmp_path.resolve() / "marts" / "route_performance" / "date=2026-03-10" / PART
    stray = path.parent / "part-1.parquet"
    frame(day, [99]).write_parquet(stray)
    (path.parent / ".part-0.parquet.dead.tmp").write_bytes(b"half a file")
    again = write_mart(tmp_path, "route_performance", "2026-03-10", frame(day, [4, 5]))
    assert again == path and sorted(p.name for p in path.parent.iterdir()) == [PART]
    assert read_mart(tmp_path, "route_performance")["value"].to_list() == [4, 5]
    write_mart(tmp_path, "route_performance", day, frame(day, [4, 5]))
    assert read_mart(tmp_path, "route_performance")["value"].to_list() == [4, 5]


def test_read_by_dates_and_list_dates(tmp_path: Path) -> None:
    days = [date(2026, 3, 11), date(2026, 3, 9), date(2026, 3, 10)]
    for k, day in enumerate(days):
        write_mart(tmp_path, "bus_occupancy", day, frame(day, [k]))
    (tmp_path / "marts" / "bus_occupancy" / "date=2026-03-12").mkdir()  # no file yet: not a date of the mart
    assert mart_dates(tmp_path, "bus_occupancy") == sorted(days)
    assert read_mart(tmp_path, "bus_occupancy")["value"].to_list() == [1, 2, 0]
    assert read_mart(tmp_path, "bus_occupancy", ["2026-03-10", date(2026, 3, 11)])["value"].to_list() == [2, 0]
    assert read_mart(tmp_path, "bus_occupancy", [date(2030, 1, 1)]).height == 0
    assert mart_dates(tmp_path, "air_trends") == [] and read_mart(tmp_path, "air_trends").height == 0


def test_partitions_read_across_schema_changes(tmp_path: Path) -> None:
    write_mart(tmp_path, "air_trends", "2026-03-09", frame(date(2026, 3, 9), [1]))
    newer = frame(date(2026, 3, 10), [2]).with_columns(pl.lit("x").alias("added"))
    write_mart(tmp_path, "air_trends", "2026-03-10", newer)
    assert read_mart(tmp_path, "air_trends")["added"].to_list() == [None, "x"]


def test_write_refuses_rows_of_another_date_and_names_outside_the_lake(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="other dates"):
        write_mart(tmp_path, "bus_occupancy", "2026-03-10", frame(date(2026, 3, 9), [1]))
    with pytest.raises(UnsafePathError):
        write_mart(tmp_path, "../escape", "2026-03-10", frame(date(2026, 3, 10), [1]))
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        mart_partition(tmp_path, "bus_occupancy", "../../etc")
    assert not (tmp_path / "marts").exists()


def test_duckdb_reads_the_partitions_with_their_date(tmp_path: Path) -> None:
    for day in (date(2026, 3, 9), date(2026, 3, 10)):
        write_mart(tmp_path, "bus_occupancy", day, frame(day, [day.day]))
    glob = (tmp_path / "marts" / "bus_occupancy" / "*" / "*.parquet").as_posix()
    rows = duckdb.sql(f"SELECT date, value FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY date")
    assert rows.fetchall() == [(date(2026, 3, 9), 9), (date(2026, 3, 10), 10)]


def test_an_empty_mart_is_written_with_its_columns(tmp_path: Path) -> None:
    empty = pl.DataFrame(schema={"date": pl.Date, "value": pl.Int64})
    write_mart(tmp_path, "bus_headways", "2026-03-10", empty)
    assert_frame_equal(read_mart(tmp_path, "bus_headways"), empty)


def test_a_failed_write_keeps_the_previous_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    day = date(2026, 3, 10)
    path = write_mart(tmp_path, "station_service", day, frame(day, [1]))

    def broken(self: pl.DataFrame, file: object, **kwargs: object) -> None:
        Path(str(file)).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        write_mart(tmp_path, "station_service", day, frame(day, [2]))
    monkeypatch.undo()
    assert [p.name for p in path.parent.iterdir()] == [PART]
    assert read_mart(tmp_path, "station_service")["value"].to_list() == [1]
