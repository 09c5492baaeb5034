"""HDF5 and CSV read in bounded batches give exactly what a whole read gives: values, nulls, and a
column the file lacks (schema evolution)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from smartcity.storage.formats.csv import CSV
from smartcity.storage.formats.hdf5 import HDF5

SCHEMA = pa.schema([pa.field("bus_id", pa.string(), nullable=False), pa.field("n", pa.int32()),
                    pa.field("x", pa.float64()), pa.field("t", pa.timestamp("ms", tz="UTC")),
                    pa.field("added", pa.string())])


@pytest.mark.parametrize("fmt", [HDF5(), CSV()], ids=lambda f: f.name)
@pytest.mark.parametrize("rows", [1, 7, 1000, 5000])
def test_batches_equal_a_whole_read(fmt, rows: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    n = 2_345
    table = pa.table({"bus_id": [f"B{i % 13}" for i in range(n)],
                      "n": [None if i % 5 == 0 else i for i in range(n)],
                      "x": [None if i % 7 == 0 else i / 3 for i in range(n)],
                      "t": pa.array([1_741_680_000_000 + i for i in range(n)], pa.timestamp("ms", tz="UTC"))})
    path = tmp_path / f"part.{fmt.ext}"
    fmt.write(table, path)  # written before the column "added" existed
    batches = list(fmt.read_batches(path, SCHEMA, rows))
    if fmt.name == "hdf5":
        assert max(b.num_rows for b in batches) <= rows
    assert pa.Table.from_batches(batches, schema=SCHEMA).equals(fmt.read(path, SCHEMA))
    assert fmt.read(path, SCHEMA).column("added").null_count == n
