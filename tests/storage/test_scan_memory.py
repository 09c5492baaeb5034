"""A streaming aggregation over ``scan`` keeps its peak memory flat in the size of a day, in every format.

A day of ``air_readings`` is landed with N rows and with 4·N rows (files of 250,000 rows, as the sink
lands them), and a mart-like aggregation (hourly means per sensor, on the streaming engine) runs over
each in a fresh process that reports its peak resident memory. Reading the 4·N day into memory would
need hundreds of MB more than the N day; streamed, the two peaks are about the same.

The peak is ``VmHWM`` of ``/proc/self/status``: it starts afresh when the child process starts, unlike
``getrusage``'s ``ru_maxrss``, which a child inherits from the process it was started from (pytest).

Run as a script, this file is the child: ``write <lake> <format> <files>`` lands the lake (a few
distinct files, hard-linked into further hours, so that writing stays quick), ``measure <lake>`` runs the
aggregation and prints its result's size and the peak as JSON.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

DAY = "2026-03-10"
FILE_ROWS = 250_000
N_FILES = 4  # N = 1,000,000 rows; 4·N = 16 files
DISTINCT = 4  # files written; the others are hard links of these in other hours
SENSORS = 500
TOPIC = "smartcity.air.readings"
RATIO = 1.3
SLACK_MB = 60.0


def write_lake(root: Path, fmt: str, files: int) -> None:
    """``files`` files of ``FILE_ROWS`` rows of ``air_readings``, one per hour of ``DAY`` (wrapping)."""
    import numpy as np
    import pyarrow as pa

    from smartcity.storage.datasets import AIR_READINGS
    from smartcity.storage.formats import FORMATS
    from smartcity.storage.layout import file_name, partition_dir

    fmt_ = FORMATS[fmt]
    written: list[Path] = []
    for k in range(files):
        first = k * FILE_ROWS
        folder = partition_dir(root, AIR_READINGS.name, DAY, k % 24)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file_name(TOPIC, k // 24, first, first + FILE_ROWS - 1, fmt_.ext)
        if k >= DISTINCT:
            os.link(written[k % DISTINCT], path)
            continue
        rng = np.random.default_rng(k)
        t0 = int(datetime.fromisoformat(DAY).replace(tzinfo=UTC).timestamp() * 1000) + (k % 24) * 3_600_000
        times = t0 + np.sort(rng.integers(0, 3_600_000, FILE_ROWS))
        sensor = rng.integers(0, SENSORS, FILE_ROWS)
        columns: dict[str, pa.Array] = {}
        for f in AIR_READINGS.schema:
            if f.name == "sensor_id":
                columns[f.name] = pa.array(np.char.add("sensor-", sensor.astype(str)).astype(object), f.type)
            elif f.name in ("event_time_ms", "_offset"):
                columns[f.name] = pa.array(times if f.name == "event_time_ms" else np.arange(first, first + FILE_ROWS))
            elif pa.types.is_timestamp(f.type):  # averaging_hour: the start of the file's hour
                values = np.full(FILE_ROWS, t0) if f.name == "averaging_hour" else times
                columns[f.name] = pa.array(values, pa.int64()).cast(f.type)
            elif pa.types.is_floating(f.type):
                values = rng.normal(30, 10, FILE_ROWS)
                columns[f.name] = pa.array(values, mask=rng.random(FILE_ROWS) < 0.1 if f.nullable else None)
            elif f.name == "quality_flags":
                flags = np.where(rng.random(FILE_ROWS) < 0.02, "pm25_ugm3<0", None)
                columns[f.name] = pa.array(flags.tolist(), f.type)
            elif f.name == "_topic":
                columns[f.name] = pa.array([TOPIC] * FILE_ROWS, f.type)
            else:
                columns[f.name] = pa.array(np.zeros(FILE_ROWS, dtype=np.int64)).cast(f.type)
        fmt_.write(pa.table(columns, schema=AIR_READINGS.schema), path)
        written.append(path)


def measure(root: Path) -> dict[str, float]:
    """A mart-like aggregation over ``scan`` on the streaming engine: its rows, groups and peak memory."""
    import polars as pl

    from smartcity.storage.scan import scan

    frame = scan(root, "air_readings", [DAY])
    hour = pl.coalesce(pl.col("averaging_hour"), pl.col("event_time").dt.truncate("1h"))
    out = (
        frame.filter(pl.col("quality_flags").is_null())
        .group_by("sensor_id", hour.alias("hour"))
        .agg(pl.len().alias("readings"), pl.col("pm25_ugm3").mean(), pl.col("no2_ppb").mean(),
             pl.col("o3_ppb").max(), pl.col("latitude").mean())
        .collect(engine="streaming")
    )
    return {"readings": int(out["readings"].sum()), "groups": out.height, "peak_mb": peak_rss_mb(),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(*args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else {}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (VmHWM)")
@pytest.mark.parametrize("fmt", ["hdf5", "csv", "parquet"])
def test_peak_memory_is_flat_in_the_size_of_a_day(fmt: str, tmp_path: Path) -> None:
    small, big = tmp_path / "n", tmp_path / "4n"
    child("write", str(small), fmt, str(N_FILES))
    child("write", str(big), fmt, str(4 * N_FILES))
    at_n = child("measure", str(small))
    at_4n = child("measure", str(big))
    print(f"{fmt}: peak {at_n['peak_mb']:.0f} MB at N, {at_4n['peak_mb']:.0f} MB at 4N")
    assert at_4n["readings"] > 3.9 * at_n["readings"] > 3.5 * FILE_ROWS  # every row was read
    assert at_4n["groups"] == at_n["groups"] == DISTINCT * SENSORS  # sensor x hour (a link repeats its hour)
    assert at_4n["peak_mb"] <= RATIO * at_n["peak_mb"] + SLACK_MB, (at_n, at_4n)


if __name__ == "__main__":
    task, lake = sys.argv[1], Path(sys.argv[2])
    if task == "write":
        write_lake(lake, sys.argv[3], int(sys.argv[4]))
    else:
        print(json.dumps(measure(lake)))
