"""How fragmented a lake is: landed files per partition-hour, per raw dataset.

A partition-hour is one Kafka topic-partition's rows of one event-time hour: the unit compaction
merges into one file. One file per partition-hour is the floor of the lake's layout; small batches,
a slow trickle or a backfill that revisits old hours leave more, until compaction merges them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from smartcity.storage.datasets import DATASETS
from smartcity.storage.layout import RAW, data_files, parse_file_name, partition_of


@dataclass(frozen=True)
class FileDensity:
    """``files`` landed in ``partition_hours`` distinct (topic, partition, date, hour) of ``dataset``."""

    dataset: str
    files: int
    partition_hours: int

    @property
    def per_partition_hour(self) -> float:
        """Files per partition-hour: 1.0 when every partition-hour is one file, 0 for an empty dataset."""
        return self.files / self.partition_hours if self.partition_hours else 0.0

    def row(self) -> dict[str, object]:
        return {"dataset": self.dataset, "files": self.files, "partition_hours": self.partition_hours,
                "files_per_partition_hour": round(self.per_partition_hour, 2)}


def file_density(root: Path, datasets: Iterable[str] | None = None) -> list[FileDensity]:
    """Files and partition-hours of every raw dataset of the lake at ``root`` that has files."""
    out = []
    names = list(datasets) if datasets is not None else [d for d in DATASETS if (Path(root) / RAW / d).exists()]
    for name in names:
        files = data_files(Path(root), name)
        keys = set()
        for f in files:
            parsed = parse_file_name(f.name)
            if parsed is not None:
                keys.add((parsed.topic, parsed.partition, *partition_of(f)))
        if files:
            out.append(FileDensity(name, len(files), len(keys)))
    return out
