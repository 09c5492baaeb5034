"""``analytics``: the marts (``smartcity.analysis.marts``, Polars) against the straightforward pandas baseline
(``smartcity.bench.baseline_pandas``) on synthetic lakes of two sizes: time and peak memory of each, each run in a
fresh process, and whether the two give the same table."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import TypedDict

import polars as pl
from polars.testing import assert_frame_equal

from smartcity.bench.children import child_command, run_child
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.lakes import synthetic_day

MARTS = ("bus_occupancy", "bus_headways", "air_quality_hourly")
ENGINES = {"polars": "marts (Polars)", "pandas": "pandas baseline"}
DAY = "2026-03-10"
READINGS_PER_BUS = 86_400 // 15  # a bus reports every 15 s


def agreement(ours: Path, baseline: Path) -> str:
    """``exact``, ``within 1e-9`` (relative) or ``DIFFERENT``: the baseline's table against the mart's."""
    expected, got = pl.read_parquet(ours), pl.read_parquet(baseline)
    for label, exact in (("exact", True), ("within 1e-9", False)):
        try:
            assert_frame_equal(got, expected, check_exact=exact, rel_tol=1e-9)
            return label
        except AssertionError:
            continue
    return "DIFFERENT"


class CityParams(TypedDict):
    """Size of a synthetic city (keyword arguments of :func:`~smartcity.bench.lakes.synthetic_day`)."""

    buses: int
    routes: int
    sensors: int


def city(bus_rows: int) -> CityParams:
    """Synthetic city parameters for about ``bus_rows`` telemetry rows a day; routes and sensors grow with it."""
    buses = max(1, round(bus_rows / READINGS_PER_BUS))
    return {"buses": buses, "routes": max(2, buses // 20), "sensors": max(4, buses // 5)}


def run(ctx: BenchContext) -> Result:
    sizes = (1_000_000, 5_000_000) if not ctx.quick else (20_000, 60_000)
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    found: dict[tuple[str, str, int], dict[str, float]] = {}
    agreed: list[str] = []
    for size in sizes:
        lake = ctx.scratch(f"lake-{size}")
        ctx.log(f"analytics: landing a synthetic day of about {size:,} bus telemetry rows")
        began = time.perf_counter()
        counts = synthetic_day(lake, day=date.fromisoformat(DAY), **city(size))
        town = ", ".join(f"{v} {k}" for k, v in city(size).items())
        notes.append(f"{counts['bus_telemetry']:,} bus telemetry, {counts['station_events']:,} station event and "
                     f"{counts['air_readings']:,} air reading rows ({town}) landed as Parquet in "
                     f"{time.perf_counter() - began:.1f} s.")
        bus = counts["bus_telemetry"]
        label = f"{bus / 1e6:.1f}M bus rows" if bus >= 1e6 else f"{bus / 1e3:.0f}k bus rows"
        for mart in MARTS:
            outputs = {}
            for engine, name in ENGINES.items():
                ctx.log(f"analytics: {mart} by {name}")
                out = lake / f"{mart}-{engine}.parquet"
                child = run_child(child_command("mart", engine=engine, mart=mart, lake=str(lake), day=DAY,
                                                out=str(out)))
                a = child.answer
                found[mart, engine, size] = {"seconds": a["seconds"], "memory": a["peak_rss_mb"] - a["rss_before_mb"]}
                outputs[engine] = out
                rows.append({"case": f"{mart}, {label}", "engine": name, "seconds": a["seconds"],
                             "peak RSS MB": round(a["peak_rss_mb"]), "RSS growth MB": round(a["peak_rss_mb"]
                                                                                           - a["rss_before_mb"]),
                             "rows out": a["rows"]})
            same = agreement(outputs["polars"], outputs["pandas"])
            agreed.append(same)
            rows[-1]["agree"] = rows[-2]["agree"] = same
    big = sizes[-1]

    def ratio(mart: str, key: str) -> float:
        return round(found[mart, "pandas", big][key] / found[mart, "polars", big][key], 1)

    headline: dict[str, object] = {f"pandas/marts time ({m})": ratio(m, "seconds") for m in MARTS}
    headline["pandas/marts RSS growth (bus_occupancy)"] = ratio("bus_occupancy", "memory")
    headline["results agree"] = f"{sum(a != 'DIFFERENT' for a in agreed)}/{len(agreed)}"
    return Result("analytics", "Marts (Polars) vs a pandas baseline", rows, headline,
                  Chart(x="case", y="seconds", series="engine", ylabel="seconds (log)", log=True),
                  notes=[*notes,
                         f"Ratios in the headline are at the larger size. Each mart is computed for {DAY} in a "
                         "fresh process; seconds cover reading the lake and computing (not the interpreter start "
                         "or imports). Peak RSS is the process's high-water mark (imports included); RSS growth "
                         "is that peak minus the memory after imports.",
                         "agree: the pandas table cast to the mart's schema, compared with "
                         "`polars.testing.assert_frame_equal`."])
