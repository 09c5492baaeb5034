"""Mart partitions of the lake: one Parquet file per mart and date, replaced atomically.

    <lake>/marts/<mart>/date=YYYY-MM-DD/part-0.parquet

Writing a date again replaces its partition: the new file is written under a temporary name in
the partition's folder (same file system, never matched by ``*.parquet``), made durable, renamed
over ``part-0.parquet``, and every other file of the partition is removed. A reader sees either the
old file or the new one, never a half-written file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import date as Date
from pathlib import Path

import polars as pl

from smartcity.storage.commit import fsync_dir
from smartcity.storage.formats.base import fsync_file
from smartcity.storage.layout import inside, mart_dir

PART = "part-0.parquet"
_PREFIX = "date="


def _iso(value: Date | str) -> str:
    try:
        return (value if isinstance(value, Date) else Date.fromisoformat(str(value))).isoformat()
    except ValueError:
        msg = f"a mart date is a date or YYYY-MM-DD text, got {value!r}"
        raise ValueError(msg) from None


def mart_partition(root: Path | str, mart: str, date: Date | str) -> Path:
    """The folder of one date of a mart (``<lake>/marts/<mart>/date=YYYY-MM-DD``)."""
    base = Path(root).resolve()
    return inside(base, mart_dir(base, mart) / f"{_PREFIX}{_iso(date)}")


def write_mart(root: Path | str, mart: str, date: Date | str, df: pl.DataFrame) -> Path:
    """Store ``df`` as the partition of ``mart`` for ``date`` and return the file's path.

    Idempotent: a second write of the same date replaces the first. A ``date`` column in ``df``,
    if any, must hold only ``date``.
    """
    day = _iso(date)
    if "date" in df.columns and df.height:
        stray = df.filter(pl.col("date").cast(pl.String) != day)
        if stray.height:
            msg = f"`df` holds rows of other dates than {day} (e.g. {stray['date'][0]})"
            raise ValueError(msg)
    folder = mart_partition(root, mart, day)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / PART
    tmp = folder / f".{PART}.{uuid.uuid4().hex}.tmp"
    try:
        df.write_parquet(tmp, compression="zstd", statistics=True)
        fsync_file(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    for other in folder.iterdir():
        if other.name == PART:
            continue
        if other.is_dir() and not other.is_symlink():
            shutil.rmtree(other)
        else:
            other.unlink()
    fsync_dir(folder)
    return final


def partition_files(root: Path | str, mart: str) -> dict[Date, Path]:
    """The stored file of every partition of ``mart``, by date, in date order: one listing of the mart's folder."""
    base = mart_dir(Path(root).resolve(), mart)
    if not base.exists():
        return {}
    found = {}
    with os.scandir(base) as folders:
        for folder in folders:
            if not folder.name.startswith(_PREFIX):
                continue
            try:
                day = Date.fromisoformat(folder.name.removeprefix(_PREFIX))
            except ValueError:
                continue
            file = Path(folder.path) / PART
            if file.is_file():
                found[day] = file
    return dict(sorted(found.items()))


def mart_dates(root: Path | str, mart: str) -> list[Date]:
    """Dates that ``mart`` has a partition for, in order."""
    return list(partition_files(root, mart))


def read_mart(root: Path | str, mart: str, dates: Iterable[Date | str] | None = None) -> pl.DataFrame:
    """Rows of ``mart`` (of ``dates`` when given) in date order; an empty frame when there are none.

    Partitions written before a column was added read with that column null."""
    wanted = mart_dates(root, mart) if dates is None else sorted({Date.fromisoformat(_iso(d)) for d in dates})
    candidates = [mart_partition(root, mart, day) / PART for day in wanted]
    files = [str(f) for f in candidates if f.is_file()]
    if not files:
        return pl.DataFrame()
    return pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files], how="diagonal_relaxed")


def mart_files(root: Path | str, mart: str, window: tuple[Date | None, Date]) -> list[Path]:
    """The files of the partitions of ``mart`` whose date lies in ``window`` (first, last; inclusive;
    ``None``: from the first), in date order."""
    first, last = window
    return [f for d, f in partition_files(root, mart).items() if (first is None or d >= first) and d <= last]


def scan_mart(root: Path | str, mart: str, window: tuple[Date | None, Date],
              schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """A lazy frame over the partitions of ``mart`` whose date lies in ``window`` (first, last;
    inclusive; ``None``: from the first), with ``schema`` (columns added later read as null)."""
    files = [str(f) for f in mart_files(root, mart, window)]
    if not files:
        return pl.DataFrame(schema=dict(schema)).lazy()
    return pl.scan_parquet(files, hive_partitioning=False, schema=dict(schema), missing_columns="insert",
                           extra_columns="ignore")
