"""HDF5 through h5py: one dataset per column at the file's root.

Numbers keep their type; strings are variable-length UTF-8; timestamps are int64 milliseconds
since the Unix epoch (UTC) with ``unit`` and ``tz`` attributes; nulls of float columns are NaN
(the column carries ``nullable = 1``). Nulls of other columns (strings, integers, timestamps) are
stored as an empty string or 0 plus a boolean dataset ``_nulls/<column>`` (true where null), written
only when the column has nulls. The Arrow schema is stored in the root attribute ``arrow_schema``
and the row count in ``rows``, so readers get the exact types back; a nullable column the file lacks
(it was written before the column existed) reads as null.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smartcity.storage.formats.base import fsync_file

_STR = h5py.string_dtype("utf-8")
NULLS = "_nulls"


@dataclass(frozen=True)
class HDF5:
    name: str = "hdf5"
    ext: str = "h5"
    compression: str | None = "gzip"

    def write(self, table: pa.Table, path: Path) -> None:
        with h5py.File(path, "w") as f:
            f.attrs["arrow_schema"] = base64.b64encode(table.schema.serialize().to_pybytes()).decode()
            f.attrs["rows"] = table.num_rows
            for field, column in zip(table.schema, table.columns, strict=True):
                data, attrs, nulls = _to_numpy(field, column)
                ds = self._dataset(f, field.name, data)
                for k, v in attrs.items():
                    ds.attrs[k] = v
                if nulls is not None:
                    self._dataset(f.require_group(NULLS), field.name, nulls)
        fsync_file(path)

    def _dataset(self, group: h5py.Group, name: str, data: np.ndarray) -> h5py.Dataset:
        opts = {"compression": self.compression} if self.compression and len(data) else {}
        return group.create_dataset(name, data=data, dtype=data.dtype if data.dtype != object else _STR, **opts)

    def read(self, path: Path, schema: pa.Schema) -> pa.Table:
        return pa.Table.from_batches(list(self.read_batches(path, schema, 1 << 62)), schema=schema)

    def read_batches(self, path: Path, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
        """The file as batches of at most ``rows`` rows, read slice by slice (memory bounded by a batch)."""
        with h5py.File(path, "r") as f:
            total = int(f.attrs["rows"])
            nulls = f.get(NULLS)
            for field in schema:
                if field.name not in f and not field.nullable:
                    raise ValueError(f"{path} has no column {field.name!r}")
            for start in range(0, max(total, 1), rows):
                stop = min(start + rows, total)
                arrays = []
                for field in schema:
                    if field.name not in f:
                        arrays.append(pa.nulls(stop - start, field.type))
                        continue
                    arr = _from_numpy(field, f[field.name], start, stop)
                    if nulls is not None and field.name in nulls:
                        mask = pa.array(nulls[field.name][start:stop])
                        arr = pc.if_else(mask, pa.scalar(None, type=field.type), arr)
                    arrays.append(arr)
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _to_numpy(field: pa.Field, column: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, object], np.ndarray | None]:
    """The column's values, its attributes, and its null mask when it has nulls that NaN cannot hold."""
    t = field.type
    if pa.types.is_floating(t):
        return column.to_numpy(), ({"nullable": 1} if field.nullable else {}), None
    nulls = column.is_null().to_numpy(zero_copy_only=False) if column.null_count else None
    if nulls is not None and not field.nullable:
        raise ValueError(f"HDF5: nulls in the non-nullable column {field.name}")
    if pa.types.is_timestamp(t):
        values = column.cast(pa.int64())
        return pc.fill_null(values, 0).to_numpy(), {"unit": "ms", "tz": "UTC"}, nulls
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return np.array(pc.fill_null(column, "").to_pylist(), dtype=object), {}, nulls
    if nulls is None:
        return column.to_numpy(), {}, None
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return pc.fill_null(column, pa.scalar(0 if pa.types.is_integer(t) else False, t)).to_numpy(), {}, nulls
    raise ValueError(f"HDF5 cannot hold nulls in the {t} column {field.name}")


def _from_numpy(field: pa.Field, ds: h5py.Dataset, start: int = 0, stop: int | None = None) -> pa.Array:
    t = field.type
    stop = ds.shape[0] if stop is None else stop
    if pa.types.is_string(t):
        return pa.array(ds.asstr()[start:stop], type=t) if stop > start else pa.array([], type=t)
    raw = ds[start:stop]
    if pa.types.is_timestamp(t):
        return pa.array(raw.astype(np.int64), type=pa.int64()).cast(t)
    arr = pa.array(raw, type=t)
    if pa.types.is_floating(t) and field.nullable:
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, type=t), arr)
    return arr
