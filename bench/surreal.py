"""SurrealDB beside the lake formats (the original design's persistence experiment): the same bus
telemetry rows inserted into an embedded SurrealDB (``surrealkv://``), then the formats benchmark's
hourly per-route occupancy aggregate written in SurrealQL."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

BATCH = 5000
COLUMNS = ("bus_id", "route_id", "event_time_ms", "passengers", "capacity", "latitude", "longitude",
           "occupancy_status")
QUERY = ("SELECT route_id, math::floor(event_time_ms / 3600000) AS hour, count() AS readings, "
         "math::mean(passengers) AS passengers_mean, math::max(passengers) AS passengers_max, "
         "math::mean(IF capacity > 0 THEN <float> passengers / capacity ELSE NONE END) AS load_mean "
         "FROM bus_telemetry GROUP BY route_id, hour")


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def surreal_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The landed rows as SurrealDB documents (the columns the query and the live view use)."""
    names = [c for c in COLUMNS if c in table.column_names]
    rows: list[dict[str, Any]] = table.select(names).to_pylist()
    return rows


def write_and_query(rows: list[dict[str, Any]], folder: Path, repeats: int) -> dict[str, float]:
    """Insert ``rows`` in batches of :data:`BATCH` (rows/s), then the median seconds of :data:`QUERY`."""
    from surrealdb import Surreal

    db: Any = Surreal(f"surrealkv://{folder}")
    db.connect()
    db.use("bench", "formats")
    try:
        began = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            db.query("INSERT INTO bus_telemetry $rows RETURN NONE", {"rows": rows[start:start + BATCH]})
        write_s = time.perf_counter() - began
        times, groups = [], 0
        for _ in range(repeats):
            began = time.perf_counter()
            groups = len(db.query(QUERY))
            times.append(time.perf_counter() - began)
    finally:
        db.close()
    return {"write": len(rows) / write_s, "query": statistics.median(times), "groups": groups,
            "bytes": folder_bytes(folder)}
