"""``smartcity samples``: the small simulated day committed in data/samples/."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from flows.cli.common import err, out

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
SAMPLE_DAY = date(2026, 3, 10)  # a Tuesday
SAMPLE_SEED = 7


def build_samples(target: Path, day: date = SAMPLE_DAY, seed: int = SAMPLE_SEED) -> dict[str, int]:
    """Simulate ``day`` of the default city into a fresh lake at ``target``; returns rows per dataset.

    Readings are sparser than the live defaults (a bus every 30 s, a sensor and a station count every
    5 min) so the day stays small enough to commit; files are reproducible byte for byte.
    """
    from ingest.sim import SimConfig, default_city, simulate
    from ingest.sim.config import to_ms
    from ingest.sim.to_lake import events_to_lake
    from storage.settings import LakeSettings

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
@click.option("--output", type=click.Path(path_type=Path, file_okay=False), default=SAMPLES, show_default=True,
              help="Lake folder to (re)create.")
def samples(output: Path) -> None:
    """Regenerate the committed sample day: one simulated day of the default city in the lake layout.

    \b
    Example:
      smartcity samples                      # rewrites data/samples/
      smartcity sql --lake data/samples "SELECT count(*) FROM bus_telemetry"
    """
    with err.status(f"simulating {SAMPLE_DAY} into {output} ..."):
        rows = build_samples(output)
    for dataset, n in sorted(rows.items()):
        out.print(f"{dataset}: {n:,} rows")
