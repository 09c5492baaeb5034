"""The Prefect flows. Thin: each task wraps one I/O step (retried on transient errors only); the
logic lives in :mod:`smartcity.flows.jobs`, :mod:`analysis` and :mod:`storage`.

| flow | what it does |
| --- | --- |
| ``air_quality`` | air_quality_hourly, air_hotspots, air_daily_sums, air_monthly, air_trends for the |
| | dates that need them (trends from the stored monthly aggregates, not the raw history) |
| ``bus_operations`` | bus_occupancy, bus_window_stats, bus_headways, route_performance, stop_visits and |
| | trips_performed (the last two are TIDES tables) |
| ``station_service`` | station_service |
| ``daily_report`` | the three above for one date (default: yesterday, UTC), then the HTML report |
| ``ingest_batch`` | a bounded ``smartcity ingest --until-caught-up`` run |
| ``maintenance`` | compaction of closed hours and a catalog refresh |

Every flow takes ``lake`` and, where it computes marts, ``date`` or ``start``/``end``; without
them it is incremental (only dates with new raw data since the mart was last written). Re-running a
date replaces its mart partitions. Each run publishes a markdown summary and a table artifact with
what each mart build read (partitions, files, rows, bytes) and wrote.

Settings. A parameter left unset (None) means "use the settings": defaults < ``smartcity.toml``
(or ``$SMARTCITY_CONFIG``) < ``SMARTCITY_*`` < the parameters given to this run, read once when
the run starts, the same way as the command line reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from smartcity.core.errors import is_transient
from smartcity.core.settings import Settings, load_settings
from smartcity.flows import jobs


def _transient(_task: Any, _run: Any, state: Any) -> bool:
    """Retry only errors of the transient kind (the broker away, timeouts, I/O), never bugs or bad data."""
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False


def _settings(lake: str | None = None, fmt: str | None = None, **sections: dict[str, Any]) -> Settings:
    """The effective settings for this run, with its explicit parameters (None = unset) on top."""
    return load_settings(flags={"lake": {"path": lake, "format": fmt}, **sections})


def _lake(lake: str | None) -> str:
    return str(_settings(lake).lake.root)


retrying = task(retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_transient, cache_policy=NO_CACHE)
"""A task retried twice (after 5 s, then 30 s) when it failed for a transient reason."""


@retrying
def build_mart(lake: str, mart: str, date: str) -> dict[str, Any]:
    run = jobs.build_mart(Path(lake), mart, date)
    get_run_logger().info("%s %s: %d rows from %d rows in %d partitions (%d bytes)", mart, date, run.rows,
                          run.read.rows, run.read.partitions, run.read.bytes)
    return run.row()


@retrying
def refresh_catalog(lake: str, always: bool = True) -> int:
    """Rebuild the catalog; with ``always=False`` only when its views no longer cover the lake (a new
    dataset or mart, or HDF5 tables copied): the hourly flows' case, whose cost then stays flat."""
    from smartcity.storage.catalog import refresh_catalog as refresh
    from smartcity.storage.catalog import refresh_if_stale

    entries = refresh(Path(lake)) if always else refresh_if_stale(Path(lake))
    return len(entries or [])


def _publish(flow_name: str, lake: str, runs: list[dict[str, Any]], extra: str = "") -> None:
    key = flow_name.replace("_", "-")
    if runs:
        create_table_artifact(key=f"{key}-marts", table=runs, description=f"Marts written by {flow_name}")
    lines = [f"# {flow_name}", "", f"Lake: `{Path(lake).resolve()}`", ""]
    if runs:
        lines += ["| mart | date | rows | partitions read | rows read | bytes read |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['mart']} | {r['date']} | {r['rows']:,} | {r['partitions_read']:,} | {r['rows_read']:,} "
                  f"| {r['bytes_read']:,} |" for r in runs]
        lines += ["", f"Read in all: {sum(r['partitions_read'] for r in runs):,} partitions, "
                      f"{sum(r['rows_read'] for r in runs):,} rows, {sum(r['bytes_read'] for r in runs):,} bytes."]
    else:
        lines.append("Nothing to do: no date has new raw data.")
    if extra:
        lines += ["", extra]
    create_markdown_artifact(key=f"{key}-summary", markdown="\n".join(lines))


def _mart_flow(flow_name: str, marts: tuple[str, ...], lake: str | None, date: str | None, start: str | None,
               end: str | None, refresh: bool = True) -> list[dict[str, Any]]:
    lake = _lake(lake)
    wanted = jobs.parse_dates(date, start, end)
    runs = [build_mart(lake, mart, day) for mart, day in jobs.plan(Path(lake), marts, wanted)]
    if refresh:
        refresh_catalog(lake, always=False)
    _publish(flow_name, lake, runs)
    return runs


@flow(name="air_quality", log_prints=True)
def air_quality(lake: str | None = None, date: str | None = None, start: str | None = None,
                end: str | None = None, marts: list[str] | None = None) -> list[dict[str, Any]]:
    """Hourly AQI and NowCast, hotspots and trends (``marts`` picks a subset, e.g. for a backfill)."""
    chosen = tuple(m for m in jobs.AIR_QUALITY if marts is None or m in marts)
    return _mart_flow("air_quality", chosen, lake, date, start, end)


@flow(name="bus_operations", log_prints=True)
def bus_operations(lake: str | None = None, date: str | None = None, start: str | None = None,
                   end: str | None = None) -> list[dict[str, Any]]:
    """Occupancy, window statistics, headways and route performance."""
    return _mart_flow("bus_operations", jobs.BUS_OPERATIONS, lake, date, start, end)


@flow(name="station_service", log_prints=True)
def station_service(lake: str | None = None, date: str | None = None, start: str | None = None,
                    end: str | None = None) -> list[dict[str, Any]]:
    """Station service per day and hour."""
    return _mart_flow("station_service", jobs.STATION_SERVICE, lake, date, start, end)


@retrying
def build_report(lake: str, date: str) -> str:
    from smartcity.report import build_report as build

    return str(build(Path(lake), date))


@flow(name="daily_report", log_prints=True)
def daily_report(lake: str | None = None, date: str | None = None) -> str:
    """Every mart for one date (default: yesterday, UTC), then the HTML report."""
    lake = _lake(lake)
    day = date or (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    runs = [build_mart(lake, m, d) for m, d in jobs.plan(Path(lake), jobs.ALL_MARTS, [day])]
    refresh_catalog(lake)
    path = build_report(lake, day)
    _publish("daily_report", lake, runs, extra=f"Report: `{path}`")
    return path


@task(retries=2, retry_delay_seconds=[10, 60], retry_condition_fn=_transient, cache_policy=NO_CACHE)
def land_until_caught_up(lake: str | None, topics: list[str] | None, group: str | None, fmt: str | None,
                         bootstrap_servers: str | None) -> dict[str, Any]:
    from smartcity.ingest.sink.daemon import Sink

    settings = _settings(lake, fmt, kafka={"bootstrap_servers": bootstrap_servers},
                         ingest={"topics": topics, "group": group})
    stats = Sink(settings.kafka, settings.lake, settings.ingest, until_caught_up=True).run()
    return {"consumed": stats.consumed, "rows": stats.rows, "files": stats.files,
            "dead_letters": stats.dead_letters, "seconds": round(stats.seconds, 1)}


@flow(name="ingest_batch", log_prints=True)
def ingest_batch(lake: str | None = None, topics: list[str] | None = None, group: str | None = None,
                 format: str | None = None, bootstrap_servers: str | None = None) -> dict[str, Any]:
    """Land everything the topics hold now, commit, stop: the scheduled alternative to the daemon.
    Unset parameters come from the ``[lake]``, ``[ingest]`` and ``[kafka]`` settings."""
    result = land_until_caught_up(lake, topics, group, format, bootstrap_servers)
    create_table_artifact(key="ingest-batch", table=[result], description="Landed by ingest_batch")
    create_markdown_artifact(key="ingest-batch-summary", markdown=(
        f"# ingest_batch\n\n{result['consumed']:,} messages consumed, {result['rows']:,} rows in "
        f"{result['files']:,} files, {result['dead_letters']:,} dead letters ({result['seconds']} s)."))
    return result


@retrying
def compact_lake(lake: str, older_than_hours: float) -> list[dict[str, Any]]:
    from smartcity.storage.compact import compact

    report = compact(Path(lake), older_than=timedelta(hours=older_than_hours))
    return [{"dataset": h.dataset, "date": h.date, "hour": h.hour, "files_before": h.files_before,
             "files_after": h.files_after} for h in report.hours]


@retrying
def density(lake: str) -> list[dict[str, Any]]:
    from smartcity.storage.file_density import file_density

    return [d.row() for d in file_density(Path(lake))]


@flow(name="maintenance", log_prints=True)
def maintenance(lake: str | None = None, older_than_hours: float = 2.0) -> dict[str, Any]:
    """Compact closed hours, then refresh the catalog; report files per partition-hour before and after."""
    lake = _lake(lake)
    before = {d["dataset"]: d for d in density(lake)}
    hours = compact_lake(lake, older_than_hours)
    after = density(lake)
    views = refresh_catalog(lake)
    if hours:
        create_table_artifact(key="maintenance-compaction", table=hours, description="Hours compacted")
    table = [{"dataset": d["dataset"], "partition_hours": d["partition_hours"],
              "files_before": before.get(d["dataset"], d)["files"], "files_after": d["files"],
              "files_per_partition_hour_before": before.get(d["dataset"], d)["files_per_partition_hour"],
              "files_per_partition_hour_after": d["files_per_partition_hour"]} for d in after]
    if table:
        create_table_artifact(key="maintenance-files", table=table,
                              description="Landed files per partition-hour (1.0: one file per partition and hour)")
    lines = [f"| {r['dataset']} | {r['partition_hours']:,} | {r['files_before']:,} | {r['files_after']:,} | "
             f"{r['files_per_partition_hour_after']} |" for r in table]
    create_markdown_artifact(key="maintenance-summary", markdown="\n".join([
        "# maintenance", "", f"Compacted {len(hours)} hours; catalog has {views} views.", "",
        "| dataset | partition-hours | files before | files after | files per partition-hour |",
        "| --- | --- | --- | --- | --- |", *lines]))
    return {"hours_compacted": len(hours), "views": views, "files": table}


FLOWS = {f.name: f for f in (air_quality, bus_operations, station_service, daily_report, ingest_batch, maintenance)}
