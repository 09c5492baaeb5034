"""``smartcity samples``: the small simulated day committed in data/samples/."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from smartcity.cli.common import err, out

SAMPLE_DAY = date(2026, 3, 10)  # a Tuesday
SAMPLE_SEED = 7


def build_samples(target: Path, day: date = SAMPLE_DAY, seed: int = SAMPLE_SEED) -> dict[str, int]:
    """Simulate ``day`` of the default city into a fresh lake at ``target``; returns rows per dataset.

    Readings are sparser than the live defaults (a bus every 30 s, a sensor and a station count every
    5 min) so the day stays small enough to commit; files are reproducible byte for byte.
    """
    from smartcity.simulator import SimConfig, default_city, simulate
    from smartcity.simulator.config import to_ms
    from smartcity.simulator.to_lake import events_to_lake
    from smartcity.storage.settings import LakeSettings

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    config = SimConfig(bus_interval_s=30, air_interval_s=300, station_count_interval_s=300)
    shutil.rmtree(target, ignore_errors=True)
    events = simulate(default_city(), start, timedelta(days=1), seed, config=config)
    end_ms = to_ms(start + timedelta(days=1))
    stats = events_to_lake(events, LakeSettings(path=target), to_ms(start), ingested_at_ms=end_ms)
    for leftover in ("_staging", "_state"):
        shutil.rmtree(target / leftover, ignore_errors=True)
    return stats.rows


@click.command()
@click.option("--output", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Lake folder to (re)create (the checkout's data/samples to refresh the committed day).")
def samples(output: Path) -> None:
    """Simulate the sample day: one day of the default city, sparse readings, in the lake layout.

    The installed package ships this day (``smartcity.data/samples``); ``make samples`` refreshes
    the committed copy in a checkout.

    \b
    Example:
      smartcity samples --output data/samples     # what `make samples` runs
      smartcity sql --lake data/samples "SELECT count(*) FROM bus_telemetry"
    """
    with err.status(f"simulating {SAMPLE_DAY} into {output} ..."):
        rows = build_samples(output)
    for dataset, n in sorted(rows.items()):
        out.print(f"{dataset}: {n:,} rows")
