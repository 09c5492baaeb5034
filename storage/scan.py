"""Read a raw dataset of the lake, whatever its format, with date pruning: lazily (:func:`scan`) or
into memory (:func:`read_table`).

Rows always come with the dataset's whole schema: a nullable column added after some files were
written reads as null in those files (schema evolution).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from pathlib import Path

import polars as pl
import pyarrow as pa

from smartcity.storage.datasets import dataset as get_dataset
from smartcity.storage.formats import EXTENSIONS, FORMATS
from smartcity.storage.formats.base import conform
from smartcity.storage.layout import data_files
from smartcity.storage.stream import polars_schema, stream_files


def _date_set(dates: Iterable[str | Date] | None) -> set[str] | None:
    return None if dates is None else {d.isoformat() if isinstance(d, Date) else str(d) for d in dates}


def dataset_files(root: Path, dataset: str, dates: Iterable[str | Date] | None = None) -> list[Path]:
    """Landed files of ``dataset``, only of ``dates`` (YYYY-MM-DD) when given."""
    files = data_files(Path(root), dataset, dates=_date_set(dates))
    return [f for f in files if f.suffix.lstrip(".") in EXTENSIONS]


def _by_format(files: list[Path]) -> dict[str, list[Path]]:
    """``files`` by format name, the formats in the order of their first file."""
    by_format: dict[str, list[Path]] = {}
    for f in files:
        by_format.setdefault(EXTENSIONS[f.suffix.lstrip(".")], []).append(f)
    return by_format


def read_table(root: Path, dataset: str, dates: Iterable[str | Date] | None = None) -> pa.Table:
    """Every row of ``dataset`` (of ``dates``) as one Arrow table with the dataset's schema, in memory."""
    schema = get_dataset(dataset).schema
    files = dataset_files(root, dataset, dates)
    if not files:
        return schema.empty_table()
    tables = []
    for name, paths in _by_format(files).items():
        if name == "parquet":
            import pyarrow.parquet as pq

            tables.append(pq.ParquetDataset([str(p) for p in paths], schema=schema).read())
        else:
            tables += [FORMATS[name].read(p, schema) for p in paths]
    return pa.concat_tables([conform(t, schema) for t in tables])


def scan(root: Path, dataset: str, dates: Iterable[str | Date] | None = None) -> pl.LazyFrame:
    """A lazy frame over ``dataset``; nothing is read until it is collected.

    Parquet files are scanned by polars; HDF5 and CSV files are read batch by batch
    (:func:`smartcity.storage.stream.stream_files`), so a streaming query runs in memory bounded by a
    batch whatever the format. The rows are those of :func:`read_table`, in its order: the files of
    each format in turn (formats in the order of their first file), each in path order.
    """
    files = dataset_files(root, dataset, dates)
    schema = get_dataset(dataset).schema
    frame_schema = polars_schema(schema)
    if not files:
        return pl.LazyFrame(schema=frame_schema)
    frames = []
    for name, paths in _by_format(files).items():
        if name == "parquet":
            frames.append(pl.scan_parquet([str(f) for f in paths], hive_partitioning=False, schema=frame_schema,
                                          missing_columns="insert"))
        else:
            frames.append(stream_files(paths, schema, get_dataset(dataset).partition_by))
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
