"""What the lake holds: the dates with data, and a mart for one date whether stored or not."""

from __future__ import annotations

from datetime import date as Date
from pathlib import Path

import polars as pl

from smartcity.analysis.marts import MARTS, compute_mart
from smartcity.storage.datasets import DATASETS
from smartcity.storage.layout import data_files, partition_of
from smartcity.storage.marts import mart_dates, read_mart


def raw_dates(root: Path, dataset: str) -> set[Date]:
    """Dates with at least one landed file of the raw ``dataset``."""
    return {Date.fromisoformat(partition_of(f)[0]) for f in data_files(root, dataset)}


def lake_dates(root: Path) -> list[Date]:
    """Every date with a raw file or a mart partition, in order."""
    dates: set[Date] = set()
    for dataset in DATASETS:
        dates |= raw_dates(root, dataset)
    for mart in MARTS:
        dates.update(mart_dates(root, mart))
    return sorted(dates)


def describe_dates(dates: list[Date]) -> str:
    """A short phrase for a list of dates: all of them when few, else the count and the range."""
    if not dates:
        return "the lake holds no data"
    if len(dates) <= 5:
        return "dates with data are " + ", ".join(d.isoformat() for d in dates)
    return f"dates with data are {len(dates)} dates from {dates[0].isoformat()} to {dates[-1].isoformat()}"


def load_mart(root: Path, mart: str, day: Date, computed: list[str] | None = None) -> pl.DataFrame:
    """The partition of ``mart`` for ``day``: read when stored, else computed (not written).

    The name of a computed mart is appended to ``computed`` when given.
    """
    schema = MARTS[mart].schema
    if day in mart_dates(root, mart):
        frame = read_mart(root, mart, [day])
        missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns]
        return frame.with_columns(missing) if missing else frame
    if computed is not None:
        computed.append(mart)
    return compute_mart(mart, root, day)
