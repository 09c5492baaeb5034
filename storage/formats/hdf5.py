"""HDF5 through h5py: one dataset per column at the file's root.

Numbers keep their type; strings are variable-length UTF-8; timestamps are int64 milliseconds
since the Unix epoch (UTC) with ``unit`` and ``tz`` attributes; nulls of float columns are NaN
(the column carries ``nullable = 1``). The Arrow schema is stored in the root attribute
``arrow_schema`` so readers get the exact types back.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from smartcity.storage.formats.base import fsync_file

_STR = h5py.string_dtype("utf-8")


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
                data, attrs = _to_numpy(field, column)
                opts = {"compression": self.compression} if self.compression and len(data) else {}
                ds = f.create_dataset(field.name, data=data, dtype=data.dtype if data.dtype != object else _STR,
                                      **opts)
                for k, v in attrs.items():
                    ds.attrs[k] = v
        fsync_file(path)

    def read(self, path: Path, schema: pa.Schema) -> pa.Table:
        with h5py.File(path, "r") as f:
            arrays = [_from_numpy(field, f[field.name]) for field in schema]
        return pa.Table.from_arrays(arrays, schema=schema)


def _to_numpy(field: pa.Field, column: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, object]]:
    t = field.type
    if pa.types.is_timestamp(t):
        return column.cast(pa.int64()).to_numpy(), {"unit": "ms", "tz": "UTC"}
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return np.array(column.to_pylist(), dtype=object), {}
    if pa.types.is_floating(t):
        return column.to_numpy(), ({"nullable": 1} if field.nullable else {})
    if column.null_count:
        raise ValueError(f"HDF5 cannot hold nulls in non-float column {field.name}")
    return column.to_numpy(), {}


def _from_numpy(field: pa.Field, ds: h5py.Dataset) -> pa.Array:
    t = field.type
    if pa.types.is_string(t):
        return pa.array(ds.asstr()[()], type=t) if ds.shape[0] else pa.array([], type=t)
    raw = ds[()]
    if pa.types.is_timestamp(t):
        return pa.array(raw.astype(np.int64), type=pa.int64()).cast(t)
    arr = pa.array(raw, type=t)
    if pa.types.is_floating(t) and field.nullable:
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, type=t), arr)
    return arr
