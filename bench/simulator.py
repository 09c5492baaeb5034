"""Measure the simulator's generation rate and peak memory.

``python -m smartcity.bench.simulator --hours 2`` runs the default city from a weekday 07:00 local
time and prints messages per second per domain and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from smartcity.simulator.cityio import default_city
from smartcity.simulator.events import DOMAINS
from smartcity.simulator.simulate import simulate

DEFAULT_START = datetime(2025, 3, 11, 6, 0, tzinfo=UTC)  # Tuesday 07:00 in Zurich


def measure(hours: float, seed: int = 1, serialise: bool = False,
            domains: tuple[str, ...] = DOMAINS) -> dict[str, float]:
    """Run the default city for ``hours``; counts per domain, seconds, messages/s and peak RSS (MiB)."""
    city = default_city()
    counts: Counter[str] = Counter()
    nbytes = 0
    tic = time.perf_counter()
    for ev in simulate(city, DEFAULT_START, timedelta(hours=hours), seed, domains=domains):
        counts[ev.domain] += 1
        if serialise:
            nbytes += len(ev.message.SerializeToString())
    seconds = time.perf_counter() - tic
    total = sum(counts.values())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {**{f"{d}_messages": float(n) for d, n in counts.items()}, "messages": float(total),
            "seconds": seconds, "messages_per_s": total / seconds, "bytes": float(nbytes),
            "peak_rss_mib": peak_kib / 1024.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serialise", action="store_true", help="also serialise every message to bytes")
    args = parser.parse_args(argv)
    result = measure(args.hours, args.seed, args.serialise)
    for key, value in result.items():
        print(f"{key:>20}: {value:,.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
