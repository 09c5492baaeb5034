"""CSV with a header row: timestamps as ISO-8601 UTC, nulls as empty fields.

Every string value is quoted, so an empty unquoted field is a null and ``""`` an empty string. Columns
are found by the header's names, so a file without a (nullable) column reads that column as null.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from smartcity.storage.formats.base import conform, fsync_file


@dataclass(frozen=True)
class CSV:
    name: str = "csv"
    ext: str = "csv"

    def write(self, table: pa.Table, path: Path) -> None:
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed"))
        fsync_file(path)

    def read(self, path: Path, schema: pa.Schema) -> pa.Table:
        table = pacsv.read_csv(path, convert_options=_convert(schema),
                               parse_options=pacsv.ParseOptions(newlines_in_values=True))
        return conform(table, schema, path)

    def read_batches(self, path: Path, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
        """The file as batches read by a streaming reader (``rows`` sizes its blocks; a block of a
        few MiB), so memory is bounded by a block, not by the file. Only the columns of ``schema`` are
        converted, so a schema of a few columns reads a few columns."""
        block = max(1 << 20, min(rows * 256, 64 << 20))  # about 256 bytes a row
        header = _header(path)
        # one column at least: an empty include_columns would convert them all
        include = [name for name in schema.names if name in header] or header[:1]
        convert = _convert(schema)
        convert.include_columns = include
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=block),
                                convert_options=convert,
                                parse_options=pacsv.ParseOptions(newlines_in_values=True))
        for batch in reader:
            yield from conform(pa.Table.from_batches([batch]), schema, path).to_batches()


def _header(path: Path) -> list[str]:
    """The column names of the file's header row (names never hold a line break)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh), [])


def _convert(schema: pa.Schema) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
        timestamp_parsers=[pacsv.ISO8601],
    )
