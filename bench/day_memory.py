"""``day_memory``: peak memory of every mart over one day of a big city, in each lake format.

The same synthetic day (:func:`smartcity.bench.lakes.synthetic_day`) is landed as Parquet, HDF5 and CSV at
two sizes; each mart is then computed for that day in a fresh process (the ``mart`` child task), which
reports its high-water mark. Parquet is scanned by Polars in streaming batches; HDF5 and CSV go through
:mod:`smartcity.storage.stream`, so a day four times as big should cost about the same memory in every
format."""

from __future__ import annotations

import shutil
import time
from datetime import date

from smartcity.analysis.marts import MARTS
from smartcity.bench.analytics import DAY, city
from smartcity.bench.children import child_command, run_child
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.lakes import synthetic_day
from smartcity.storage.settings import LakeFormat

FORMATS: tuple[LakeFormat, ...] = ("parquet", "hdf5", "csv")
QUICK_MARTS = ("air_quality_hourly", "bus_occupancy", "station_service")  # one per raw dataset, for smoke runs


def run(ctx: BenchContext) -> Result:
    sizes = (5_000_000, 20_000_000) if not ctx.quick else (20_000, 80_000)
    marts = list(QUICK_MARTS if ctx.quick else MARTS)
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    peak: dict[tuple[str, int, str], float] = {}
    for size in sizes:
        label = f"{size / 1e6:.0f}M" if size >= 1e6 else f"{size / 1e3:.0f}k"
        for fmt in FORMATS:
            lake = ctx.scratch(f"lake-{fmt}-{size}")
            ctx.log(f"day_memory: landing a day of about {size:,} bus telemetry rows as {fmt}")
            began = time.perf_counter()
            counts = synthetic_day(lake, fmt, day=date.fromisoformat(DAY), **city(size))
            if fmt == FORMATS[0]:
                notes.append(f"{label}: {counts['bus_telemetry']:,} bus telemetry, {counts['station_events']:,} "
                             f"station event and {counts['air_readings']:,} air reading rows "
                             f"(landed as {fmt} in {time.perf_counter() - began:.0f} s).")
            for i, mart in enumerate(marts, 1):
                ctx.log(f"day_memory: {fmt} {label}: {mart} ({i}/{len(marts)})")
                child = run_child(child_command("mart", engine="polars", mart=mart, lake=str(lake), day=DAY,
                                                out=str(lake / f"{mart}.parquet")), timeout=1800)
                a = child.answer
                peak[fmt, size, mart] = child.peak_rss_mb
                rows.append({"mart": mart, "case": f"{fmt}, {label} bus rows", "format": fmt, "bus rows": label,
                             "peak RSS MB": round(child.peak_rss_mb), "seconds": round(a["seconds"], 2),
                             "rows out": a["rows"]})
            shutil.rmtree(lake, ignore_errors=True)  # the 20M-row CSV day alone takes gigabytes
    small, big = sizes
    headline: dict[str, object] = {}
    for fmt in FORMATS:
        worst = max(marts, key=lambda m: peak[fmt, big, m])
        headline[f"{fmt} worst peak RSS MB"] = f"{round(peak[fmt, big, worst])} ({worst})"
        headline[f"{fmt} peak RSS {big // small}x day / 1x day (worst)"] = round(
            max(peak[fmt, big, m] / peak[fmt, small, m] for m in marts), 2)
    for fmt in FORMATS[1:]:
        headline[f"{fmt}/parquet peak RSS (worst mart)"] = round(
            max(peak[fmt, big, m] / peak["parquet", big, m] for m in marts), 2)
    return Result("day_memory", "Peak memory of every mart over one big day, per lake format", rows, headline,
                  Chart(x="mart", y="peak RSS MB", series="case", ylabel="peak RSS (MB)"),
                  notes=[*notes,
                         f"{'Every mart of the registry' if not ctx.quick else 'One mart per raw dataset'} computed "
                         f"for {DAY} by `compute_mart` (upstream marts computed "
                         "on the way, as a flow's first run does) in a fresh process; peak RSS is its high-water "
                         "mark (VmHWM), imports included (about 250 MB). Seconds: reading and computing.",
                         "Ratios in the headline take, over all marts, the largest ratio: the bigger day against "
                         "the smaller in the same format, and each format against Parquet at the bigger day."])
