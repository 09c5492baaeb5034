"""``scan`` streams HDF5 and CSV files batch by batch and gives exactly the rows of the eager
``read_table``: same rows, order, dtypes and nulls, with projection, filters, ``head`` and a column
added after some files were written (schema evolution), also in a lake that mixes formats."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from smartcity.storage import stream
from smartcity.storage.datasets import AIR_READINGS
from smartcity.storage.formats import FORMATS
from smartcity.storage.layout import file_name, partition_dir
from smartcity.storage.scan import read_table, scan

Engine = Literal["streaming", "in-memory"]
DATASET = AIR_READINGS.name
SCHEMA = AIR_READINGS.schema
ADDED = ("quality_flags", "averaging_hour")  # derived columns the sink added after the first files
TOPIC = "smartcity.air.readings"
DAY = "2026-03-10"
HOUR_MS = 3_600_000
TEXT = ["A1", "Bäckerstraße", "", "a,b", 'say "hi"', "line\nbreak", "日本"]


def rows(n: int, first: int, hour: int, *, added: bool = True, day: str = DAY) -> pa.Table:
    """``n`` rows of ``air_readings`` in ``hour`` of ``day``, with nulls in every nullable column;
    without the columns of ``ADDED`` unless ``added``."""
    t = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000) + hour * HOUR_MS
    columns: dict[str, pa.Array] = {}
    for f in SCHEMA:
        if not added and f.name in ADDED:
            continue
        i = range(first, first + n)
        if pa.types.is_string(f.type):
            values: list[object] = [TOPIC if f.name == "_topic" else TEXT[k % len(TEXT)] for k in i]
        elif pa.types.is_timestamp(f.type):
            values = [t + (k - first) * 1000 for k in i]
        elif pa.types.is_floating(f.type):
            values = [k / 3 - 7 for k in i]
        else:
            values = list(i)
        if f.nullable:
            values = [None if (k + len(f.name)) % 4 == 0 else v for k, v in zip(i, values, strict=True)]
        columns[f.name] = pa.array(values, type=f.type)
    return pa.table(columns, schema=pa.schema([f for f in SCHEMA if f.name in columns]))


def land(root: Path, fmt: str, table: pa.Table, hour: int, first: int, day: str = DAY) -> None:
    """``table`` written as one file of the hour, named as the sink names it."""
    folder = partition_dir(root, DATASET, day, hour)
    folder.mkdir(parents=True, exist_ok=True)
    last = max(first, first + table.num_rows - 1)
    FORMATS[fmt].write(table, folder / file_name(TOPIC, 0, first, last, FORMATS[fmt].ext))


def lake(root: Path, formats: list[str]) -> Path:
    """Files of hours 0-3 of the day and one of the day before, in ``formats`` in turn (older files
    without the ``ADDED`` columns), several to an hour."""
    first = 0
    for k, (hour, n) in enumerate([(0, 40), (0, 0), (0, 55), (1, 70), (2, 33), (3, 61), (3, 5)]):
        land(root, formats[k % len(formats)], rows(n, first, hour, added=k >= 3), hour, first)
        first += n
    land(root, formats[-1], rows(17, first, 5, day="2026-03-09"), 5, first, day="2026-03-09")
    return root


LAKES = {"hdf5": ["hdf5"], "csv": ["csv"], "mixed": ["parquet", "csv", "hdf5"], "csv+parquet": ["csv", "parquet"]}


@pytest.fixture(params=list(LAKES))
def lake_root(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return lake(tmp_path, LAKES[request.param])


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 7 rows, so that every file is read in several."""
    monkeypatch.setattr(stream, "BATCH_ROWS", 7)


def eager(root: Path, dates: list[str] | None = None) -> pl.DataFrame:
    frame = pl.from_arrow(read_table(root, DATASET, dates))
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
def test_scan_equals_the_eager_read(lake_root: Path, engine: Engine) -> None:
    expected = eager(lake_root)
    assert expected.height == 281 and expected["quality_flags"].null_count() > 0
    got = scan(lake_root, DATASET).collect(engine=engine)
    assert_frame_equal(got, expected, check_exact=True)
    assert got.schema == stream.polars_schema(SCHEMA)
    assert got.filter(pl.col("_offset") < 95)["averaging_hour"].null_count() == 95  # files older than the column
    dates = ["2026-03-09"]
    assert_frame_equal(scan(lake_root, DATASET, dates).collect(engine=engine),
                       eager(lake_root, dates), check_exact=True)


COLUMNS = ["quality_flags", "sensor_id", "pm25_ugm3", "event_time"]
KEEP = (pl.col("pm25_ugm3") > 10) & (pl.col("sensor_id") != "a,b") & pl.col("no2_ppb").is_not_null()
QUERIES: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {
    "projection": lambda f: f.select(COLUMNS),
    "filter": lambda f: f.filter(KEEP).select(COLUMNS),
    "filter on an added column": lambda f: f.filter(pl.col("quality_flags").is_null()).select("_offset"),
    "filter on time": lambda f: f.filter(pl.col("event_time") >= datetime(2026, 3, 10, 2, tzinfo=UTC)),
    "filter on the partition column": lambda f: f.filter(pl.col("averaging_hour") >= datetime(2026, 3, 10, 1,
                                                                                              tzinfo=UTC))
    .filter(pl.col("averaging_hour") < datetime(2026, 3, 10, 3, tzinfo=UTC)),
    "head": lambda f: f.head(100),
    "head 0": lambda f: f.head(0),
    "filter then head": lambda f: f.filter(KEEP).head(9).select("_offset", "device_seq"),
    "count": lambda f: f.select(pl.len()),
    "row index only": lambda f: f.with_row_index().select("index"),  # the scan is asked for no column
    "row index of a filter": lambda f: f.filter(KEEP).with_row_index().select("index"),
    "group by": lambda f: f.group_by("sensor_id").agg(pl.col("device_seq").sum(), pl.col("pm25_ugm3").max(), pl.len())
    .sort("sensor_id"),
}


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
@pytest.mark.parametrize("query", list(QUERIES))
def test_projection_filter_and_head(lake_root: Path, query: str, engine: Engine) -> None:
    expected = QUERIES[query](eager(lake_root).lazy()).collect()
    assert expected.height > 0 or query == "head 0"
    assert_frame_equal(QUERIES[query](scan(lake_root, DATASET)).collect(engine=engine), expected, check_exact=True)


def test_only_the_needed_columns_are_read(lake_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[list[str]] = []

    class Spy:
        def __init__(self, reader: stream.BatchReader) -> None:
            self.reader = reader

        def read_batches(self, path: Path, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
            read.append(schema.names)
            assert rows <= 7
            return self.reader.read_batches(path, schema, rows)

    monkeypatch.setattr(stream, "READERS", {ext: Spy(r) for ext, r in stream.READERS.items()})
    got = scan(lake_root, DATASET).filter(pl.col("no2_ppb") > 3).select("sensor_id").collect(engine="streaming")
    assert read and all(names == ["sensor_id", "no2_ppb"] for names in read)
    assert_frame_equal(got, eager(lake_root).filter(pl.col("no2_ppb") > 3).select("sensor_id"))


def hours_read(root: Path, query: Callable[[pl.LazyFrame], pl.LazyFrame], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The ``date/hour`` directories of the files ``query`` over ``scan`` reads, checking its rows."""
    read: set[str] = set()

    class Spy:
        def __init__(self, reader: stream.BatchReader) -> None:
            self.reader = reader

        def read_batches(self, path: Path, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
            read.add(f"{path.parent.parent.name[5:]}/{path.parent.name[5:]}")
            return self.reader.read_batches(path, schema, rows)

    monkeypatch.setattr(stream, "READERS", {ext: Spy(r) for ext, r in stream.READERS.items()})
    got = query(scan(root, DATASET)).collect(engine="streaming")
    assert_frame_equal(got, query(eager(root).lazy()).collect(), check_exact=True)
    return read


def test_files_outside_the_filtered_hours_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = lake(tmp_path, ["hdf5", "csv"])  # averaging_hour (the partition column) from hour 01 on
    hour = pl.col("averaging_hour")
    every = {"2026-03-09/05", "2026-03-10/00", "2026-03-10/01", "2026-03-10/02", "2026-03-10/03"}

    def at(h: int, us: int = 0) -> datetime:
        return datetime(2026, 3, 10, h, 0, 0, us, tzinfo=UTC)

    def hours(query: Callable[[pl.LazyFrame], pl.LazyFrame]) -> set[str]:
        return hours_read(root, query, monkeypatch)

    assert hours(lambda f: f.filter((hour >= at(1)) & (hour < at(3)) & (pl.col("sensor_id") != ""))) == \
        {"2026-03-10/01", "2026-03-10/02"}
    assert hours(lambda f: f.filter((pl.lit(at(2)) <= hour) & (hour <= at(2)))) == {"2026-03-10/02"}
    assert hours(lambda f: f.filter(hour == at(3, 4_000))) == {"2026-03-10/03"}
    # the last millisecond of hour 01 is 01:59:59.999000, before 01:59:59.999500
    assert hours(lambda f: f.filter(hour > at(1).replace(minute=59, second=59, microsecond=999_500))) == \
        {"2026-03-10/02", "2026-03-10/03"}
    # terms the pruning cannot read prune nothing: an "or", another column, a computed value
    assert hours(lambda f: f.filter((hour < at(1)) | (pl.col("device_seq") > 200))) == every
    assert hours(lambda f: f.filter(pl.col("event_time") < at(1))) == every
    assert hours(lambda f: f.filter(hour.dt.hour() == 2)) == every


def test_head_stops_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = lake(tmp_path, ["hdf5", "csv"])
    batches = 0

    def counted(paths: list[Path], *args: object) -> Iterator[pl.DataFrame]:
        nonlocal batches
        for frame in read(paths, *args):
            batches += 1
            yield frame

    read = stream._read
    monkeypatch.setattr(stream, "_read", counted)
    got = scan(root, DATASET).head(10).collect(engine="streaming")
    assert_frame_equal(got, eager(root).head(10), check_exact=True)
    assert batches <= 2  # 7 + 3 rows, not every batch of the lake


def test_empty_lake_and_empty_dates(tmp_path: Path) -> None:
    expected = eager(tmp_path)
    assert expected.height == 0
    assert_frame_equal(scan(tmp_path, DATASET).collect(), expected)
    root = lake(tmp_path, ["csv"])
    assert_frame_equal(scan(root, DATASET, ["2026-01-01"]).collect(engine="streaming"), expected)


def test_missing_required_column_fails_on_collect(tmp_path: Path) -> None:
    land(tmp_path, "hdf5", rows(5, 0, 0).drop_columns(["sensor_id"]), 0, 0)
    lazy = scan(tmp_path, DATASET)  # nothing is read yet
    with pytest.raises(Exception, match="no column 'sensor_id'"):
        lazy.collect(engine="streaming")
