"""Small HTML builders: escaped text, number formats, tables and embedded images."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from smartcity.report.charts import Chart

DASH = "—"
#: Control characters HTML does not allow in text (tab, line feed and carriage return are fine), as U+FFFD.
CONTROLS = dict.fromkeys([c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + [*range(0x7F, 0xA0)], "\ufffd")


def text(value: object) -> str:
    """Any value (ids and messages from the wire included) as HTML text, also safe in a quoted attribute:
    ``& < > " '`` escaped, control characters shown as U+FFFD."""
    return escape(str(value).translate(CONTROLS), quote=True)


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
    """A table column: its heading, how a row renders in it (plain text, escaped by ``table``) and whether it
    is numeric."""

    title: str
    cell: Callable[[Mapping[str, Any]], str]
    numeric: bool = False


def table(columns: list[Column], rows: Iterable[Mapping[str, Any]], caption: str | None = None) -> str:
    """An HTML table; every cell is escaped."""
    head = "".join(f'<th{" class=num" if c.numeric else ""}>{text(c.title)}</th>' for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f'<td{" class=num" if c.numeric else ""}>{text(c.cell(row))}</td>' for c in columns)
        + "</tr>"
        for row in rows
    )
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def figure(chart: Chart, caption: str | None = None) -> str:
    """An embedded PNG at its natural width (scaled down on narrow screens)."""
    cap = f"<figcaption>{text(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="{text(chart.uri)}" alt="{text(chart.alt)}" '
            f'style="width:{int(chart.width_px)}px">{cap}</figure>')


def paragraph(content: str, css: str | None = None) -> str:
    """A paragraph of plain text."""
    attribute = f' class="{text(css)}"' if css else ""
    return f"<p{attribute}>{text(content)}</p>"


def empty(content: str) -> str:
    """The placeholder of a section without data."""
    return paragraph(content, "empty")
