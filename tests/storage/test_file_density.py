"""Files per partition-hour: what a trickle leaves, and what compaction brings it back to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartcity.storage.compact import compact
from smartcity.storage.file_density import file_density
from tests.marts.lakes import HOUR, T0, land, reading


def test_a_trickle_leaves_many_files_per_partition_hour_and_compaction_one(tmp_path: Path) -> None:
    for k in range(6):  # six batches into the same two hours of partition 0, two more into partition 1
        land(tmp_path, "parquet", "air_readings", [reading("A1", T0 + k * 600_000, pm25_ugm3=1.0),
                                                   reading("A1", T0 + HOUR + k * 600_000, pm25_ugm3=2.0)],
             first_offset=2 * k)
    for k in range(2):
        land(tmp_path, "parquet", "air_readings", [reading("A2", T0 + k * 600_000, pm25_ugm3=3.0)], partition=1,
             first_offset=k)
    (before,) = file_density(tmp_path)
    assert (before.dataset, before.files, before.partition_hours) == ("air_readings", 14, 3)
    assert round(before.per_partition_hour, 2) == 4.67
    compact(tmp_path, now=datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(days=1))
    (after,) = file_density(tmp_path)
    assert (after.files, after.partition_hours, after.per_partition_hour) == (3, 3, 1.0)
    assert after.row() == {"dataset": "air_readings", "files": 3, "partition_hours": 3, "files_per_partition_hour": 1.0}
    assert file_density(tmp_path / "nothing") == []


def test_one_hour_compacted_twice_within_a_second(tmp_path: Path) -> None:
    """A backfill can fill an hour up again right after it was merged: the second merge works too."""
    from smartcity.storage.compact import compact_hour

    for k in range(4):
        land(tmp_path, "parquet", "air_readings", [reading("A1", T0 + k * 1000, pm25_ugm3=1.0)], first_offset=k)
    (hour_dir,) = {f.parent for f in (tmp_path / "raw" / "air_readings").glob("date=*/hour=*/*.parquet")}
    first = compact_hour(tmp_path, "air_readings", hour_dir)
    land(tmp_path, "parquet", "air_readings", [reading("A1", T0 + 9000, pm25_ugm3=2.0)], first_offset=4)
    second = compact_hour(tmp_path, "air_readings", hour_dir)
    assert first is not None and second is not None
    assert (first.files_before, first.files_after, second.files_before, second.files_after) == (4, 1, 2, 1)
    assert len(list((tmp_path / "_trash").iterdir())) == 2
