"""What a computation read from the lake: partitions, files, rows and bytes.

Rows come from each file's own metadata where the format keeps it (Parquet footers, the HDF5
``rows`` attribute); a CSV file's rows are counted by reading its first column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from smartcity.storage.layout import DATE_DIR, HOUR_DIR


@dataclass(frozen=True)
class ReadStats:
    """``partitions``: distinct raw hours and mart dates; ``files``, ``rows``, ``bytes``: their totals."""

    partitions: int = 0
    files: int = 0
    rows: int = 0
    bytes: int = 0

    def __add__(self, other: ReadStats) -> ReadStats:
        return ReadStats(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True)))


def file_rows(path: Path) -> int:
    """The rows of one lake file (Parquet, HDF5 or CSV)."""
    suffix = path.suffix.lstrip(".")
    if suffix == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if suffix == "h5":
        import h5py

        with h5py.File(path, "r") as f:
            return int(f.attrs["rows"])
    if suffix == "csv":
        import pyarrow.csv as pacsv

        with path.open("rb") as handle:
            header = handle.readline().decode().rstrip("\r\n").split(",")[0].strip('"')
        reader = pacsv.open_csv(path, convert_options=pacsv.ConvertOptions(include_columns=[header]))
        return sum(batch.num_rows for batch in reader)
    msg = f"{path} is not a lake file (.parquet, .h5 or .csv)"
    raise ValueError(msg)


def _partition(path: Path) -> tuple[str, ...]:
    """A file's partition: its dataset, date and hour folders for raw data; its mart and date for marts."""
    hour, day = path.parent, path.parent.parent
    if HOUR_DIR.match(hour.name) and DATE_DIR.match(day.name):
        return day.parent.name, day.name, hour.name
    return path.parent.parent.name, path.parent.name


def read_stats(files: Iterable[Path]) -> ReadStats:
    """Partitions, files, rows and bytes of ``files`` (each counted once)."""
    unique = sorted({Path(f) for f in files})
    return ReadStats(
        partitions=len({_partition(f) for f in unique}),
        files=len(unique),
        rows=sum(file_rows(f) for f in unique),
        bytes=sum(f.stat().st_size for f in unique),
    )
