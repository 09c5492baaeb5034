"""``smartcity report``: the self-contained HTML daily report of one day of the lake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from smartcity.cli.common import lake_option, settings_for


@click.command()
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Day to report, in UTC [default: yesterday].")
@lake_option
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report here [default: <lake>/reports/smartcity-report-YYYY-MM-DD.html].")
@click.pass_context
def report(ctx: click.Context, day: datetime | None, lake: Path | None, output: Path | None) -> None:
    """Write the daily HTML report of a day and print its path: AQI map with hot spots, pollutant
    trends, AQI calendar, bus occupancy, headways and excess wait, on-time performance, station
    service and the day's alerts. One file with everything embedded; it opens offline and prints.

    Marts stored for the day are read; missing ones are computed for the report (not stored).

    \b
    Example:
      smartcity report --date 2026-03-10
      smartcity report --lake lake --output yesterday.html
    """
    from smartcity.report import build_report

    settings = settings_for(ctx, lake={"path": lake})
    root = settings.lake.root
    if not root.exists():
        raise click.BadParameter(f"no lake at {root} (run `smartcity demo` or `smartcity ingest` first)",
                                 param_hint="'--lake'")
    when = day.date() if day is not None else datetime.now(UTC).date() - timedelta(days=1)
    click.echo(build_report(root, when, output))
