"""The interface of a lake file format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import pyarrow as pa


class Format(Protocol):
    # Read-only: the formats are frozen dataclasses.
    @property
    def name(self) -> str: ...

    @property
    def ext(self) -> str: ...

    def write(self, table: pa.Table, path: Path) -> None:
        """Write ``table`` to ``path`` (a new file) and make it durable (fsync)."""

    def read(self, path: Path, schema: pa.Schema) -> pa.Table:
        """Read a file written by :meth:`write` back as ``schema``; a nullable column of ``schema`` that the
        file lacks (it was written before the column existed) reads as null."""


def conform(table: pa.Table, schema: pa.Schema, source: object = "a file") -> pa.Table:
    """``table`` as ``schema``: its columns by name, in the schema's order and types. A nullable column
    the table lacks is added, all null (schema evolution); a missing non-nullable column is an error."""
    have = set(table.column_names)
    columns = []
    for f in schema:
        if f.name in have:
            columns.append(table.column(f.name).cast(f.type))
        elif f.nullable:
            columns.append(pa.nulls(table.num_rows, f.type))
        else:
            raise ValueError(f"{source} has no column {f.name!r}")
    return pa.Table.from_arrays(columns, schema=schema)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
