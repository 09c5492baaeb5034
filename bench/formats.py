"""``formats``: the sink landing the same bus telemetry as CSV, HDF5 and Parquet: write speed, bytes on disk,
and DuckDB query time over the lake's catalog (DuckDB reads CSV and Parquet in place; HDF5 rows are copied
into DuckDB when the catalog is built, which is timed on its own). The same rows then go into an embedded
SurrealDB (:mod:`smartcity.bench.surreal`) with the same query in SurrealQL."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.steps import backlog, land, rate, raw_bytes
from smartcity.bench.surreal import surreal_rows, write_and_query
from smartcity.storage.catalog import catalog_path, connect, refresh_catalog
from smartcity.storage.scan import read_table
from smartcity.storage.settings import LakeFormat

FORMATS: tuple[LakeFormat, ...] = ("csv", "hdf5", "parquet")
QUERY = ("SELECT route_id, date_trunc('hour', event_time) AS hour, count(*) AS readings, "
         "avg(passengers) AS passengers_mean, max(passengers) AS passengers_max, "
         "avg(passengers / nullif(capacity, 0)) AS load_mean "
         "FROM bus_telemetry GROUP BY ALL ORDER BY ALL")


def query_seconds(lake: Path, repeats: int) -> tuple[float, int]:
    """Median seconds of :data:`QUERY` over the catalog's ``bus_telemetry`` view, and its row count."""
    con = connect(catalog_path(lake))
    try:
        times, groups = [], 0
        for _ in range(repeats):
            began = time.perf_counter()
            groups = len(con.execute(QUERY).fetchall())
            times.append(time.perf_counter() - began)
        return statistics.median(times), groups
    finally:
        con.close()


def run(ctx: BenchContext) -> Result:
    n = ctx.size(1_000_000, 20_000)
    repeats = ctx.size(5, 2)
    ctx.log(f"formats: producing {n:,} bus telemetry records")
    topic = backlog(ctx, n, distinct=True)
    rows: list[dict[str, object]] = []
    found: dict[str, dict[str, float]] = {}
    lakes: dict[str, Path] = {}
    for fmt in FORMATS:
        lake = lakes[fmt] = ctx.scratch(f"lake-{fmt}")
        ctx.log(f"formats: landing as {fmt}")
        stats = land(topic.settings, lake, f"{topic.settings.topic_prefix}-{fmt}", fmt)
        size = raw_bytes(lake)
        began = time.perf_counter()
        refresh_catalog(lake)
        catalog_s = time.perf_counter() - began
        query_s, groups = query_seconds(lake, repeats)
        found[fmt] = {"write": rate(stats), "bytes": size, "query": query_s, "catalog": catalog_s}
        rows.append({"format": fmt, "write msgs/s": rate(stats), "MB on disk": round(size / 1e6, 1),
                     "bytes/row": round(size / max(stats.rows, 1), 1), "files": stats.files,
                     "catalog build s": round(catalog_s, 2), "query s": round(query_s, 3), "groups": groups})
    ctx.log("formats: inserting the same rows into SurrealDB (embedded, surrealkv)")
    same_rows = surreal_rows(read_table(lakes["parquet"], "bus_telemetry"))
    surreal = write_and_query(same_rows, ctx.scratch("surrealdb"), repeats)
    rows.append({"format": "surrealdb", "write msgs/s": round(surreal["write"]), "MB on disk":
                 round(surreal["bytes"] / 1e6, 1), "bytes/row": round(surreal["bytes"] / max(len(same_rows), 1), 1),
                 "files": None, "catalog build s": None, "query s": round(surreal["query"], 3),
                 "groups": int(surreal["groups"])})
    pq, csv, h5 = found["parquet"], found["csv"], found["hdf5"]
    headline = {"Parquet/CSV write": round(pq["write"] / csv["write"], 2),
                "Parquet/HDF5 write": round(pq["write"] / h5["write"], 2),
                "CSV/Parquet bytes": round(csv["bytes"] / pq["bytes"], 1),
                "CSV/Parquet query time": round(csv["query"] / pq["query"], 1),
                "HDF5 copy into DuckDB s": round(h5["catalog"], 2),
                "SurrealDB/Parquet query time": round(surreal["query"] / pq["query"], 1)}
    return Result("formats", "CSV vs HDF5 vs Parquet vs SurrealDB: write, size, query", rows, headline,
                  Chart(x="format", y="write msgs/s", ylabel="messages per second landed"),
                  notes=[f"{n:,} distinct Protobuf bus telemetry records (hours of the simulated city) on 4 "
                         "partitions, landed three times by the sink (a fresh group and lake per format; Parquet "
                         "zstd, HDF5 gzip, plain CSV).",
                         "catalog build: `smartcity.storage.catalog.refresh_catalog`; CSV and Parquet get views "
                         "over the files, HDF5 rows are read with h5py and copied into a DuckDB table, so its "
                         "figure is the copy.",
                         f"query: median of {repeats} runs of an hourly per-route occupancy aggregate over the "
                         "`bus_telemetry` view (a read-only connection to the catalog).",
                         f"SurrealDB: the same {len(same_rows):,} rows (read back from the Parquet lake, 8 columns) "
                         f"inserted into an embedded surrealkv database in batches of 5,000 (so its write rate "
                         "has no Kafka read or decode in it, unlike the sink's), and the same aggregate in "
                         "SurrealQL (GROUP BY route and hour), median of the same runs."])
