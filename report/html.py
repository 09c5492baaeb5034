"""Small HTML builders: escaped text, number formats, tables and embedded images."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from smartcity.report.charts import Chart

DASH = "—"


def num(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals and thin thousands separators; a dash for null."""
    return DASH if value is None else f"{value:,.{digits}f}".replace(",", "\u202f")


def pct(value: float | None, digits: int = 0) -> str:
    """A share (0–1) as a percentage; a dash for null."""
    return DASH if value is None else f"{value * 100:.{digits}f}\u202f%"


def hhmm(value: datetime | None) -> str:
    """A UTC instant as ``HH:MM``; a dash for null."""
    return DASH if value is None else value.strftime("%H:%M")


def clock(value: datetime | None, day: date) -> str:
    """A UTC instant as ``HH:MM`` on ``day``, with its date on another day; a dash for null."""
    if value is None:
        return DASH
    return value.strftime("%H:%M" if value.date() == day else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Column:
    """A table column: its heading, how a row renders in it (escaped later) and whether it is numeric."""

    title: str
    cell: Callable[[Mapping[str, Any]], str]
    numeric: bool = False


def table(columns: list[Column], rows: Iterable[Mapping[str, Any]], caption: str | None = None) -> str:
    """An HTML table; every cell is escaped."""
    head = "".join(f'<th{" class=num" if c.numeric else ""}>{escape(c.title)}</th>' for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f'<td{" class=num" if c.numeric else ""}>{escape(c.cell(row))}</td>' for c in columns)
        + "</tr>"
        for row in rows
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def figure(chart: Chart, caption: str | None = None) -> str:
    """An embedded PNG at its natural width (scaled down on narrow screens)."""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="{chart.uri}" alt="{escape(chart.alt)}" '
            f'style="width:{chart.width_px}px">{cap}</figure>')


def paragraph(text: str, css: str | None = None) -> str:
    return f'<p{f" class={css}" if css else ""}>{escape(text)}</p>'


def empty(text: str) -> str:
    """The placeholder of a section without data."""
    return paragraph(text, "empty")
