"""The DuckDB catalog ``<lake>/smartcity.duckdb``: views over every raw dataset and mart.

Views use absolute paths, so any DuckDB client can open the catalog from anywhere. Parquet and CSV
lakes are read in place (hive partitioning gives ``date`` and ``hour`` columns for pruning); DuckDB
has no HDF5 reader, so for HDF5 files the refresh copies their rows, batch by batch, into tables of the
same names.
The catalog is rebuilt into a temporary file and renamed into place, so a reader never sees a
half-built catalog and keeps its open copy. A view has every column of its dataset's schema: a column
added after some files were written is NULL in those files (and in the view, until a file has it).
Every integer column of epoch milliseconds (``*_ms``) also appears as a UTC ``TIMESTAMPTZ`` named
without the suffix (``scheduled_time_ms`` -> ``scheduled_time``; 0, which means "none", is NULL), so
``WHERE start_time > now() - INTERVAL 1 HOUR`` works on any view.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from smartcity.storage.datasets import DATASETS
from smartcity.storage.formats.hdf5 import HDF5
from smartcity.storage.layout import CATALOG, MARTS, RAW, data_files
from smartcity.storage.stream import BATCH_ROWS
from smartcity.storage.views import VIEWS

_HIVE = "hive_partitioning = true, hive_types = {'date': DATE, 'hour': INTEGER}"
OFFLINE = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
SOURCES = "_catalog_sources"  # what each view read at the last refresh (see catalog_is_current)

_DUCK_TYPES = {
    pa.string(): "VARCHAR", pa.int32(): "INTEGER", pa.int64(): "BIGINT", pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN", pa.uint32(): "UINTEGER", pa.uint64(): "UBIGINT",
    pa.timestamp("ms", tz="UTC"): "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str       # "raw", "mart" or "view" (a view over raw datasets)
    source: str     # "parquet", "csv", "hdf5 (copied)" or "empty"
    files: int


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_select(schema: pa.Schema) -> str:
    cols = ", ".join(f"CAST(NULL AS {_DUCK_TYPES.get(f.type, 'VARCHAR')}) AS {_ident(f.name)}" for f in schema)
    return f"SELECT {cols}, CAST(NULL AS DATE) AS date, CAST(NULL AS INTEGER) AS hour WHERE false"


def connect(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only, config=dict(OFFLINE))


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh), [])


def _with_every_column(con: duckdb.DuckDBPyConnection, query: str, schema: pa.Schema) -> str:
    """``query`` (rows of a raw dataset with ``date`` and ``hour``), with ``NULL`` for each column of
    ``schema`` that none of its files has yet (schema evolution)."""
    have = {row[0] for row in con.execute(f"DESCRIBE {query}").fetchall()}
    if all(f.name in have for f in schema):
        return query
    cols = [_ident(f.name) if f.name in have else f"CAST(NULL AS {_DUCK_TYPES.get(f.type, 'VARCHAR')}) AS "
            f"{_ident(f.name)}" for f in schema]
    return f"SELECT {', '.join(cols)}, date, hour FROM ({query})"


def _with_times(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """``query`` with a ``TIMESTAMPTZ`` twin of every integer ``*_ms`` column that has none yet."""
    columns = {row[0]: row[1] for row in con.execute(f"DESCRIBE {query}").fetchall()}
    twins = [(name, name[:-3]) for name, kind in columns.items()
             if name.endswith("_ms") and kind in ("BIGINT", "INTEGER") and name[:-3] not in columns]
    if not twins:
        return query
    extra = ", ".join(f"to_timestamp(nullif({_ident(ms)}, 0) / 1000.0) AS {_ident(twin)}" for ms, twin in twins)
    return f"SELECT *, {extra} FROM ({query})"


def _csv_query(base: str, schema: pa.Schema, files: list[Path]) -> str:
    """Every CSV file of a dataset. Files written before a column was added lack it: then the files are
    matched by their headers' names (``union_by_name``) and the missing values are NULL."""
    glob = _quote(f"{base}/date=*/hour=*/*.csv")
    headers = [_csv_header(f) for f in files]
    if all(h == schema.names for h in headers):
        columns = "{" + ", ".join(f"{_quote(f.name)}: {_quote(_DUCK_TYPES.get(f.type, 'VARCHAR'))}"
                                  for f in schema) + "}"
        return (f"SELECT * FROM read_csv({glob}, header = true, {_HIVE}, "
                f"columns = {columns}, quote = '\"', escape = '\"')")
    present = {name for h in headers for name in h}
    types = "{" + ", ".join(f"{_quote(f.name)}: {_quote(_DUCK_TYPES.get(f.type, 'VARCHAR'))}"
                            for f in schema if f.name in present) + "}"
    return (f"SELECT * FROM read_csv({glob}, header = true, {_HIVE}, union_by_name = true, "
            f"types = {types}, quote = '\"', escape = '\"')")


def _hdf5_rows(files: list[Path], schema: pa.Schema) -> pa.RecordBatchReader:
    """The rows of HDF5 ``files`` as ``schema``, read batch by batch while DuckDB copies them."""
    hdf5 = HDF5()
    return pa.RecordBatchReader.from_batches(
        schema, (batch for f in files for batch in hdf5.read_batches(f, schema, BATCH_ROWS)))


def _raw_view(con: duckdb.DuckDBPyConnection, root: Path, name: str) -> CatalogEntry:
    dataset = DATASETS[name]
    schema = dataset.schema
    files = data_files(root, name)
    exts = {f.suffix for f in files}
    base = (root / RAW / name).as_posix()
    if not files:
        con.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS {_with_times(con, _empty_select(schema))}")
        return CatalogEntry(name, "raw", "empty", 0)
    parts = []
    if ".parquet" in exts:
        glob = _quote(f"{base}/date=*/hour=*/*.parquet")
        parts.append(f"SELECT * FROM read_parquet({glob}, {_HIVE}, union_by_name = true)")
    if ".csv" in exts:
        parts.append(_csv_query(base, schema, [f for f in files if f.suffix == ".csv"]))
    if ".h5" in exts:
        # the partition's time: the dataset's partition column, or event_time where that is null (older files)
        when = ("event_time" if dataset.partition_by == "event_time"
                else f"coalesce({_ident(dataset.partition_by)}, event_time)")
        con.register("hdf5_rows", _hdf5_rows([f for f in files if f.suffix == ".h5"], schema))
        con.execute(f"CREATE OR REPLACE TABLE {_ident(name + '__hdf5')} AS SELECT *, "
                    f"CAST(timezone('UTC', {when}) AS DATE) AS date, "
                    f"CAST(date_part('hour', timezone('UTC', {when})) AS INTEGER) AS hour FROM hdf5_rows")
        con.unregister("hdf5_rows")
        parts.append(f"SELECT * FROM {_ident(name + '__hdf5')}")
    parts = [_with_every_column(con, part, schema) for part in parts]
    union = " UNION ALL BY NAME ".join(parts)
    con.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS {_with_times(con, union)}")
    source = "+".join(sorted({".parquet": "parquet", ".csv": "csv", ".h5": "hdf5 (copied)"}[e] for e in exts))
    return CatalogEntry(name, "raw", source, len(files))


def _mart_view(con: duckdb.DuckDBPyConnection, root: Path, mart: str) -> CatalogEntry | None:
    files = sorted((root / MARTS / mart).glob("date=*/*.parquet"))
    if not files:
        return None
    glob = _quote(f"{(root / MARTS / mart).as_posix()}/date=*/*.parquet")
    query = (f"SELECT * FROM read_parquet({glob}, hive_partitioning = true, hive_types = {{'date': DATE}}, "
             "union_by_name = true)")
    con.execute(f"CREATE OR REPLACE VIEW {_ident(mart)} AS {_with_times(con, query)}")
    return CatalogEntry(mart, "mart", "parquet", len(files))


def refresh_catalog(root: Path, marts: Iterable[str] | None = None) -> list[CatalogEntry]:
    """(Re)build ``<root>/smartcity.duckdb`` with a view per raw dataset and per mart found."""
    root = Path(root).resolve()
    target = root / CATALOG
    tmp = root / f".{CATALOG}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    entries: list[CatalogEntry] = []
    con = connect(tmp, read_only=False)
    try:
        for name in DATASETS:
            entries.append(_raw_view(con, root, name))
        for view, sql in VIEWS.items():
            con.execute(f"CREATE OR REPLACE VIEW {_ident(view)} AS {sql}")
            entries.append(CatalogEntry(view, "view", "bus_telemetry", 0))
        mart_root = root / MARTS
        names = sorted(marts) if marts is not None else sorted(p.name for p in mart_root.glob("*") if p.is_dir())
        for mart in names:
            entry = _mart_view(con, root, mart)
            if entry is not None:
                entries.append(entry)
        con.execute(f"CREATE OR REPLACE TABLE {SOURCES} (name VARCHAR, kind VARCHAR, source VARCHAR)")
        con.executemany(f"INSERT INTO {SOURCES} VALUES (?, ?, ?)", [(e.name, e.kind, e.source) for e in entries])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return entries


def catalog_is_current(root: Path) -> bool:
    """Whether the catalog's views still cover the lake without a refresh: it has a view for every raw
    dataset that has data and every mart on disk, and none of its tables is a copy (HDF5). Views over
    Parquet and CSV globs see files landed since; an hourly flow then skips the refresh, whose cost
    grows with the number of files."""
    root = Path(root).resolve()
    if not (root / CATALOG).exists():
        return False
    try:
        con = connect(root / CATALOG, read_only=True)
        try:
            recorded = dict(con.execute(f"SELECT name, source FROM {SOURCES}").fetchall())
        finally:
            con.close()
    except duckdb.Error:
        return False
    if any("hdf5" in source for source in recorded.values()):
        return False
    for name in DATASETS:
        empty = recorded.get(name, "empty") == "empty"
        if empty and any((root / RAW / name).glob("date=*/hour=*")):
            return False
    folders = [p for p in (root / MARTS).iterdir() if p.is_dir()] if (root / MARTS).exists() else []
    return not any(any(p.glob("date=*/*.parquet")) for p in folders if p.name not in recorded)


def refresh_if_stale(root: Path) -> list[CatalogEntry] | None:
    """Rebuild the catalog only when its views no longer cover the lake (:func:`catalog_is_current`);
    ``None`` when it was current: what the hourly flows do."""
    return None if catalog_is_current(root) else refresh_catalog(root)


def catalog_path(root: Path) -> Path:
    return Path(root).resolve() / CATALOG
