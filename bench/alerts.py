"""``alerts``: end-to-end latency from produce to alert and window output at 20k msgs/s, and the
highest input rate one `smartcity alerts` process sustains."""

from __future__ import annotations

from smartcity.bench.alert_latency import latency_benchmark, max_rate
from smartcity.bench.core import BenchContext, Chart, Result


def run(ctx: BenchContext) -> Result:
    settings = ctx.settings(partitions=4)
    seconds = 10 if ctx.quick else 60
    ctx.log(f"alerts: 20k msgs/s for {seconds} s")
    lat = latency_benchmark(settings, rate=20_000, seconds=seconds)
    ctx.log("alerts: sustained rate")
    rate = max_rate(ctx.settings(partitions=4), messages=ctx.size(2_000_000, 200_000))
    rows = []
    for what in ("alert_latency", "window_latency"):
        p = lat[what]
        rows.append({"output": what.split("_")[0], "p50 ms": p.get("p50_ms"), "p95 ms": p.get("p95_ms"),
                     "p99 ms": p.get("p99_ms"), "samples": p.get("count")})
    sustained = rate["sustained_rate_msgs_s"]
    return Result("alerts", "Alert latency at 20k msgs/s and sustained input rate", rows,
                  {"alert p50 ms": lat["alert_latency"].get("p50_ms"),
                   "alert p99 ms": lat["alert_latency"].get("p99_ms"),
                   "achieved input msgs/s": lat["achieved_rate_msgs_s"], "sustained msgs/s": sustained},
                  Chart(x="output", y="p99 ms", ylabel="p99 latency (ms)"),
                  notes=[f"Bus telemetry for {lat['buses']} buses on 4 partitions at {lat['target_rate_msgs_s']:,} "
                         f"msgs/s for {seconds} s; transactions every {lat['commit_interval_s']} s; latency from "
                         "the produce timestamp to receipt of the alert or window record (read_committed).",
                         f"Sustained rate: one process through a backlog of {rate['messages']:,} messages "
                         f"({rate['measured_messages']:,} measured after warm-up in {rate['seconds']} s)."])
