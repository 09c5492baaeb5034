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
        """Read a file written by :meth:`write` back as ``schema``."""


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
