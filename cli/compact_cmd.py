"""``smartcity compact``: merge small files of closed hours."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from rich.progress import Progress
from rich.table import Table

from smartcity.cli.common import err, lake_option, out, settings_for
from smartcity.cli.params import SPAN


@click.command()
@lake_option
@click.option("--dataset", "datasets", multiple=True, help="Raw dataset to compact (repeatable) [default: all].")
@click.option("--older-than", type=SPAN, default="2h", show_default=True,
              help="Only hours that ended at least this long ago (closed hours).")
@click.pass_context
def compact(ctx: click.Context, lake: Path | None, datasets: tuple[str, ...], older_than: timedelta) -> None:
    """Merge the small files of closed hours into one file per topic-partition, without ever
    showing a reader duplicates or gaps; lineage columns are kept.

    \b
    Example:
      smartcity compact --lake ./lake --older-than 2h
    """
    from smartcity.storage.compact import closed_hours
    from smartcity.storage.compact import compact as run
    from smartcity.storage.datasets import DATASETS

    settings = settings_for(ctx, lake={"path": lake})
    root = settings.lake.root
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown:
        raise click.BadParameter(f"unknown dataset {unknown[0]!r}; known: {', '.join(DATASETS)}",
                                 param_hint="'--dataset'")
    if not root.exists():
        raise click.BadParameter(f"no lake at {root}", param_hint="'--lake'")
    import datetime as dt

    cutoff = dt.datetime.now(dt.UTC) - older_than
    total = sum(len(closed_hours(root, d, cutoff)) for d in (datasets or DATASETS) if (root / "raw" / d).exists())
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("compacting", total=total)
        report = run(root, list(datasets) or None, older_than, on_hour=lambda _r: progress.advance(task))
    table = Table(title=f"compacted {len(report.hours)} hours of {root}")
    for col in ("dataset", "date", "hour", "files before", "files after", "rows merged"):
        table.add_column(col)
    for h in report.hours:
        table.add_row(h.dataset, h.date, f"{h.hour:02d}", str(h.files_before), str(h.files_after), f"{h.rows:,}")
    out.print(table)
