"""``archive``: what one hourly cycle of the scheduled mart flows costs on lakes holding 1 week, 6 months
and 2 years of history (``smartcity.bench.archive_lake`` builds them compactly).

One cycle: the hour's new rows land (the same rows in every lake), then ``air_quality``,
``bus_operations`` and ``station_service`` each run as the Prefect flows do (``jobs.plan``, every mart
build, the catalog refresh), each in a fresh process. Reported per flow and history: seconds, rows,
partitions and bytes read, and peak RSS. A flow whose cost followed the archive would grow about
100-fold from 1 week to 2 years; the aim is at most 1.5-fold.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from smartcity.bench.archive_lake import Archive, derive, land_hour
from smartcity.bench.children import child_command, run_child
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.storage.catalog import refresh_catalog

NOW = date(2026, 3, 10)
HOUR = 9
FLOWS = ("air_quality", "bus_operations", "station_service")
CITY = {"buses": 500, "routes": 25, "stations": 12, "sensors": 50, "interval_s": 15, "air_interval_s": 60}
QUICK_CITY = {"buses": 20, "routes": 2, "stations": 4, "sensors": 3, "interval_s": 60, "air_interval_s": 900}


def cycle(flow: str, lake: str) -> dict[str, Any]:
    """One run of ``flow``'s marts on ``lake`` as the Prefect flow runs them (in this process)."""
    from smartcity.flows import jobs
    from smartcity.storage.catalog import refresh_if_stale

    marts = {"air_quality": jobs.AIR_QUALITY, "bus_operations": jobs.BUS_OPERATIONS,
             "station_service": jobs.STATION_SERVICE}[flow]
    began = time.perf_counter()
    runs = [jobs.build_mart(Path(lake), mart, day) for mart, day in jobs.plan(Path(lake), marts)]
    refresh_if_stale(Path(lake))  # as the hourly flows do
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "builds": [f"{r.mart} {r.date}" for r in runs],
            "rows_read": sum(r.read.rows for r in runs), "partitions_read": sum(r.read.partitions for r in runs),
            "bytes_read": sum(r.read.bytes for r in runs)}


def histories(quick: bool) -> dict[str, int]:
    """History lengths in days, by label."""
    return {"1 week": 7, "1 month": 30, "3 months": 91} if quick else {"1 week": 7, "6 months": 182,
                                                                       "2 years": 730}


def run(ctx: BenchContext) -> Result:
    city = QUICK_CITY if ctx.quick else CITY
    lengths = histories(ctx.quick)
    longest = max(lengths.values())
    base = ctx.scratch("archive")
    archive = Archive(base / "longest", NOW, HOUR, **city)
    began = time.perf_counter()
    counts = archive.build(longest, progress=ctx.log)
    built_s = time.perf_counter() - began
    new_hour = archive.new_hour()
    rows: list[dict[str, Any]] = []
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for label, days in lengths.items():
        lake = base / "longest" if days == longest else base / label.replace(" ", "-")
        if days != longest:
            derive(base / "longest", lake, NOW, days)
        refresh_catalog(lake)  # a lake in service has its catalog; the hourly runs keep it
        land_hour(lake, new_hour)
        for flow in FLOWS:
            ctx.log(f"archive: one hourly {flow} run with {label} of history")
            child = run_child(child_command("archive_cycle", flow=flow, lake=str(lake)))
            answer = child.answer
            found[flow, label] = {"seconds": answer["seconds"], "rss": child.peak_rss_mb, **answer}
            rows.append({"flow": flow, "history": label, "seconds": round(answer["seconds"], 2),
                         "rows read": answer["rows_read"], "partitions read": answer["partitions_read"],
                         "MB read": round(answer["bytes_read"] / 2**20, 1), "peak RSS MB": round(child.peak_rss_mb),
                         "marts built": len(answer["builds"])})
    first, last = next(iter(lengths)), list(lengths)[-1]
    headline: dict[str, Any] = {}
    for flow in FLOWS:
        a, b = found[flow, first], found[flow, last]
        headline[f"{flow}: time {last} / {first}"] = round(b["seconds"] / a["seconds"], 2)
        headline[f"{flow}: peak RSS {last} / {first}"] = round(b["rss"] / a["rss"], 2)
        headline[f"{flow}: rows read {last} / {first}"] = round(b["rows_read"] / max(1, a["rows_read"]), 2)
    town = ", ".join(f"{k} {v}" for k, v in city.items())
    notes = [
        f"City: {town}. The day before the run holds {counts['bus_telemetry']:,} bus telemetry, "
        f"{counts['station_events']:,} station event and {counts['air_readings']:,} air reading rows; the run "
        f"lands hour {HOUR:02d}:00 of {NOW} first. The {last} lake was built in {built_s:.0f} s; the shorter "
        "ones are its last days, hard-linked.",
        "History: air readings are real for every day (so air_daily_sums and air_monthly hold every day and "
        "month, and air_trends has them all); bus and station history are the day before's files hard-linked "
        "into each earlier day (their folders and file counts are real, their rows are not read by an hourly "
        "run); mart partitions of earlier days are the day before's, hard-linked.",
        "Each flow runs in a fresh process: seconds cover planning (which partitions changed), every mart "
        "build and the catalog refresh, not the interpreter start. Peak RSS is the process's high-water mark, "
        "imports included. Rows read are what the mart builds read (lake file metadata), not the catalog.",
    ]
    return Result("archive", f"One hourly cycle against {', '.join(lengths)} of history", rows, headline,
                  Chart(x="history", y="seconds", series="flow", kind="line", ylabel="seconds per hourly run"),
                  notes=notes)
