"""Lazy scans of HDF5 and CSV files that read them batch by batch.

Polars has no reader for HDF5 and none for the lake's CSV dialect (quoted strings, empty fields as
nulls, columns found by name), so these files reach polars through an IO plugin
(``polars.io.plugins.register_io_source``): when a query runs, each file is read with its format's
``read_batches`` and every batch is filtered and handed on before the next is read. Memory follows a
batch, not a file or a day. The plugin reads only the columns the query needs (projection; HDF5 skips
the other columns' datasets, CSV does not convert them), applies the query's filter to each batch
and stops once the rows of a ``head(n)`` are read.

Files are pruned by their hour: a lake file holds rows whose partition column (``Dataset.partition_by``)
lies in the hour of its ``date=``/``hour=`` directories, or is null (``smartcity.storage.layout``). A file
is skipped when the query's filter compares that column with a datetime (a conjunct such as
``event_time >= lo``) in a way no instant of its hour satisfies, so a query for a slice of a day reads
the files of that slice only, as Parquet's row-group statistics give for Parquet files.

Rows come in file order, a file's rows in file order, with the dataset's whole schema: a nullable
column a file lacks reads as null (schema evolution), exactly as ``smartcity.storage.scan.read_table``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import pyarrow as pa
from polars.io.plugins import register_io_source

from smartcity.storage.formats.csv import CSV
from smartcity.storage.formats.hdf5 import HDF5
from smartcity.storage.layout import HOUR_MS, partition_of

BATCH_ROWS = 100_000
"""Most rows of a batch read (polars hints at about as many)."""


class BatchReader(Protocol):
    def read_batches(self, path: Path, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
        """The file as ``schema`` in batches of about ``rows`` rows."""


READERS: dict[str, BatchReader] = {f.ext: f for f in (HDF5(), CSV())}
"""File extension -> a format that reads its files batch by batch."""


def polars_schema(schema: pa.Schema) -> pl.Schema:
    """The polars schema of frames read as the Arrow ``schema``."""
    frame = pl.from_arrow(schema.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.schema


def stream_files(files: Sequence[Path], schema: pa.Schema, partition_by: str | None = None) -> pl.LazyFrame:
    """A lazy frame over HDF5 and CSV ``files`` (in this order) as ``schema``, read batch by batch
    when the frame is collected; with ``partition_by`` (the files' partition column), files outside
    the times the query's filter wants are skipped."""
    paths = list(files)
    unknown = [p for p in paths if p.suffix.lstrip(".") not in READERS]
    if unknown:
        raise ValueError(f"cannot stream {unknown[0]}: only {', '.join(READERS)} files are read batch by batch")

    def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
               batch_size: int | None) -> Iterator[pl.DataFrame]:
        if predicate is not None and partition_by is not None and partition_by in schema.names:
            conditions = time_conditions(predicate, partition_by)
            wanted = [p for p in paths if not conditions or may_hold(conditions, *hour_range(p))]
        else:
            wanted = paths
        return _read(wanted, schema, with_columns, predicate, n_rows, min(batch_size or BATCH_ROWS, BATCH_ROWS))

    return register_io_source(source, schema=polars_schema(schema), is_pure=True, explain_name="lake files",
                              explain_detail=f"{len(paths)} HDF5/CSV files")


def _read(paths: list[Path], schema: pa.Schema, with_columns: list[str] | None, predicate: pl.Expr | None,
          n_rows: int | None, rows: int) -> Iterator[pl.DataFrame]:
    """The rows of ``paths`` that pass ``predicate``, only ``with_columns``, at most ``n_rows``."""
    names = list(schema.names) if with_columns is None else list(with_columns)
    needed = set(names) | (set(predicate.meta.root_names()) if predicate is not None else set())
    # The schema's order; one column at least, so that batches keep their row counts.
    fields = [f for f in schema if f.name in needed] or [schema.field(0)]
    read_schema = pa.schema(fields)
    left = n_rows
    if left is not None and left <= 0:
        return
    for path in paths:
        reader = READERS[path.suffix.lstrip(".")]
        for batch in reader.read_batches(path, read_schema, rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            if predicate is not None:
                frame = frame.filter(predicate)
            # no column at all (e.g. a row index only): a frame of no columns that keeps its height
            frame = frame.select(names) if names else frame.drop(frame.columns)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            if frame.height:
                yield frame
            if left == 0:
                return


# Comparison operators of polars' serialized expressions, and each with its sides swapped.
_SWAPPED = {"Lt": "Gt", "LtEq": "GtEq", "Gt": "Lt", "GtEq": "LtEq", "Eq": "Eq"}
_PER_MS = {"Milliseconds": 1, "Microseconds": 1_000, "Nanoseconds": 1_000_000}


def time_conditions(predicate: pl.Expr, column: str) -> list[tuple[str, Fraction]]:
    """Comparisons ``column <op> instant`` (op ``Lt``, ``LtEq``, ``Gt``, ``GtEq`` or ``Eq``; the instant in
    epoch milliseconds) that every row passing ``predicate`` satisfies: those of its ``&``-joined terms
    that compare ``column`` with a datetime literal. Terms of any other form are left out (a row that
    passes them may or may not pass the predicate), and an expression that cannot be read gives none."""
    try:
        stack: list[Any] = [json.loads(predicate.meta.serialize(format="json"))]
    except Exception:  # the serialized form is not stable across polars versions: then prune nothing
        return []
    out = []
    while stack:
        node = stack.pop()
        binary = node.get("BinaryExpr") if isinstance(node, dict) else None
        if not isinstance(binary, dict):
            continue
        left, op, right = binary.get("left"), binary.get("op"), binary.get("right")
        if op in ("And", "LogicalAnd"):
            stack += [left, right]
        elif op in _SWAPPED:
            if right == {"Column": column}:
                left, right, op = right, left, _SWAPPED[op]
            instant = _instant(right)
            if left == {"Column": column} and instant is not None:
                out.append((op, instant))
    return out


def _instant(node: Any) -> Fraction | None:
    """Epoch milliseconds of a datetime literal, ``None`` for anything else."""
    try:
        value, unit, _tz = node["Literal"]["Scalar"]["Datetime"]
        return Fraction(int(value), _PER_MS[unit])
    except (KeyError, TypeError, ValueError):
        return None


def may_hold(conditions: list[tuple[str, Fraction]], start: int, stop: int) -> bool:
    """Whether some millisecond in ``[start, stop)`` satisfies every condition (null never does)."""
    last = stop - 1
    tests = {"Lt": lambda v: start < v, "LtEq": lambda v: start <= v, "Gt": lambda v: last > v,
             "GtEq": lambda v: last >= v, "Eq": lambda v: start <= v <= last}
    return all(tests[op](v) for op, v in conditions)


def hour_range(path: Path) -> tuple[int, int]:
    """``[start, stop)`` in epoch milliseconds of the hour of a lake file's directories."""
    day, hour = partition_of(path)
    start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000) + hour * HOUR_MS
    return start, start + HOUR_MS
