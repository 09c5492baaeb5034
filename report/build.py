"""``build_report``: gather the day, draw, render and write the HTML file atomically."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from datetime import date as Date
from pathlib import Path

from smartcity.core.errors import ReportError
from smartcity.report.data import gather
from smartcity.report.lake import describe_dates, lake_dates
from smartcity.report.sections import build_sections
from smartcity.report.summary import key_figures
from smartcity.report.template import page
from smartcity.storage.commit import fsync_dir

REPORTS = "reports"


def as_day(value: str | Date) -> Date:
    """A ``date`` (a ``datetime`` gives its date) or ``YYYY-MM-DD`` text as a date; ``ReportError`` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, Date):
        return value
    try:
        return Date.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"a report date is YYYY-MM-DD, got {value!r}") from None


def report_path(root: Path, day: Date) -> Path:
    """Where the report of ``day`` goes by default: ``<lake>/reports/smartcity-report-YYYY-MM-DD.html``."""
    return Path(root) / REPORTS / f"smartcity-report-{day.isoformat()}.html"


def render_report(root: Path, day: Date, *, history_months: int = 3, now: datetime | None = None) -> str:
    """The report of ``day`` as an HTML document; ``ReportError`` when the lake has no data for it."""
    dates = lake_dates(root)
    if day not in dates:
        raise ReportError(f"no data for {day.isoformat()} in {root}: {describe_dates(dates)}")
    data = gather(root, day, history_months)
    generated = (now or datetime.now(UTC)).astimezone(UTC)
    meta = f"Lake {root} · generated {generated:%Y-%m-%d %H:%M} UTC · all times UTC"
    footer = "Figures come from the lake's marts for the day and its raw alerts."
    if data.computed:
        footer += f" Computed for this report (not stored): {', '.join(data.computed)}."
    return page(
        title=f"smartcity daily report {day.isoformat()}",
        day_long=f"{day:%A} {day.day} {day:%B %Y}",
        meta=meta,
        figures=key_figures(data),
        sections=build_sections(data),
        footer=footer,
    )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def build_report(root: Path, date: str | Date, output: Path | None = None, *, history_months: int = 3) -> Path:
    """Write the daily HTML report of ``date`` for the lake at ``root`` and return its path.

    The file is self-contained (inline CSS, charts as embedded PNG) and goes to ``output``, by
    default ``<lake>/reports/smartcity-report-YYYY-MM-DD.html``. Marts stored for the day are read;
    missing ones are computed on the fly and not written. The AQI calendar and the pollutant lines
    cover the calendar month of ``date`` and the ``history_months - 1`` months before it.
    ``ReportError`` when the lake has no data for the date.
    """
    root = Path(root).resolve()
    day = as_day(date)
    html = render_report(root, day, history_months=history_months)
    target = Path(output) if output is not None else report_path(root, day)
    write_atomic(target, html)
    return target
