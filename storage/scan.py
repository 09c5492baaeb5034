"""Read a raw dataset of the lake, whatever its format, with date pruning.

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
from smartcity.storage.layout import data_files, partition_of


def _date_set(dates: Iterable[str | Date] | None) -> set[str] | None:
    return None if dates is None else {d.isoformat() if isinstance(d, Date) else str(d) for d in dates}


def dataset_files(root: Path, dataset: str, dates: Iterable[str | Date] | None = None) -> list[Path]:
    """Landed files of ``dataset``, only of ``dates`` (YYYY-MM-DD) when given."""
    wanted = _date_set(dates)
    files = data_files(Path(root), dataset)
    if wanted is not None:
        files = [f for f in files if partition_of(f)[0] in wanted]
    return [f for f in files if f.suffix.lstrip(".") in EXTENSIONS]


def read_table(root: Path, dataset: str, dates: Iterable[str | Date] | None = None) -> pa.Table:
    """Every row of ``dataset`` (of ``dates``) as one Arrow table with the dataset's schema."""
    schema = get_dataset(dataset).schema
    files = dataset_files(root, dataset, dates)
    if not files:
        return schema.empty_table()
    by_format: dict[str, list[Path]] = {}
    for f in files:
        by_format.setdefault(EXTENSIONS[f.suffix.lstrip(".")], []).append(f)
    tables = []
    for name, paths in by_format.items():
        if name == "parquet":
            import pyarrow.parquet as pq

            tables.append(pq.ParquetDataset([str(p) for p in paths], schema=schema).read())
        else:
            tables += [FORMATS[name].read(p, schema) for p in paths]
    return pa.concat_tables([conform(t, schema) for t in tables])


def scan(root: Path, dataset: str, dates: Iterable[str | Date] | None = None) -> pl.LazyFrame:
    """A lazy frame over ``dataset``: Parquet files are scanned lazily; HDF5 and CSV files are read."""
    files = dataset_files(root, dataset, dates)
    schema = get_dataset(dataset).schema
    if not files:
        return _frame(schema.empty_table()).lazy()
    if all(f.suffix == ".parquet" for f in files):
        return pl.scan_parquet([str(f) for f in files], hive_partitioning=False,
                               schema=_frame(schema.empty_table()).schema, missing_columns="insert")
    return _frame(read_table(root, dataset, dates)).lazy()


def _frame(table: pa.Table) -> pl.DataFrame:
    """``pl.from_arrow`` of a table: typed ``DataFrame | Series``, always a ``DataFrame`` for a table."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame
