"""Parquet (zstd by default): the lake's default format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from smartcity.storage.formats.base import conform, fsync_file


@dataclass(frozen=True)
class Parquet:
    compression: str = "zstd"
    name: str = "parquet"
    ext: str = "parquet"

    def write(self, table: pa.Table, path: Path) -> None:
        pq.write_table(table, path, compression=None if self.compression == "none" else self.compression,
                       row_group_size=1_000_000, write_statistics=True)
        fsync_file(path)

    def read(self, path: Path, schema: pa.Schema) -> pa.Table:
        return conform(pq.read_table(path), schema, path)  # a nullable column the file lacks reads as null
