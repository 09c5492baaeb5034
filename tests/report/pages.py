"""Reading a report back: its sections and embedded images, with the standard library's HTML parser."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

SECTION_IDS = ("aqi-map", "pollutant-trends", "aqi-calendar", "occupancy", "headways", "on-time", "stations",
               "alerts")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class SectionContent:
    heading: str = ""
    images: list[str] = field(default_factory=list)
    tables: int = 0
    rows: list[list[str]] = field(default_factory=list)
    empty_notes: list[str] = field(default_factory=list)
    text: str = ""


class ReportParser(HTMLParser):
    """Collects, per ``<section id>``, its ``<h2>``, image sources, tables, rows and text."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, SectionContent] = {}
        self._current: SectionContent | None = None
        self._tags: list[tuple[str, dict[str, str | None]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self._tags.append((tag, attributes))
        if tag == "section":
            self._current = self.sections.setdefault(str(attributes.get("id")), SectionContent())
        elif self._current is not None:
            if tag == "img":
                self._current.images.append(str(attributes.get("src")))
            elif tag == "table":
                self._current.tables += 1
            elif tag == "tr":
                self._row = []
            elif tag in ("td", "th"):
                self._cell = []

    def handle_endtag(self, tag: str) -> None:
        while self._tags and self._tags.pop()[0] != tag:
            pass
        if tag == "section":
            self._current = None
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._current is not None and self._row is not None:
            self._current.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._current is None:
            return
        self._current.text += data
        if self._cell is not None:
            self._cell.append(data)
        open_tag, attributes = self._tags[-1] if self._tags else ("", {})
        if open_tag == "h2":
            self._current.heading += data
        if open_tag == "p" and attributes.get("class") == "empty":
            self._current.empty_notes.append(data)


def parse_report(html: str) -> dict[str, SectionContent]:
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    return parser.sections


def png_bytes(uri: str) -> bytes:
    """The bytes of a ``data:image/png;base64,`` URI (``AssertionError`` for anything else)."""
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix), uri[:60]
    return base64.b64decode(uri.removeprefix(prefix), validate=True)


EXTERNAL = [
    re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:|//|file:|ftp:)""", re.I),
    re.compile(r"<link\b", re.I),
    re.compile(r"<script\b", re.I),
    re.compile(r"<iframe\b|<object\b|<embed\b", re.I),
    re.compile(r"@import|url\(", re.I),
]


def external_references(html: str) -> list[str]:
    """Every fragment of ``html`` that would load something from outside the file."""
    return [m.group(0) for pattern in EXTERNAL for m in pattern.finditer(html)]
