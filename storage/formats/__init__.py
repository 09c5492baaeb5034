"""File formats of the lake. Each holds exactly the same rows and columns as the others."""

from __future__ import annotations

from smartcity.storage.formats.base import Format
from smartcity.storage.formats.csv import CSV
from smartcity.storage.formats.hdf5 import HDF5
from smartcity.storage.formats.parquet import Parquet

FORMATS: dict[str, Format] = {"parquet": Parquet(), "hdf5": HDF5(), "csv": CSV()}
EXTENSIONS: dict[str, str] = {f.ext: name for name, f in FORMATS.items()}


def get_format(name: str, compression: str = "zstd") -> Format:
    if name == "parquet":
        return Parquet(compression=compression)
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown lake format {name!r}; use one of {', '.join(FORMATS)}") from None


__all__ = ["EXTENSIONS", "FORMATS", "Format", "get_format"]
