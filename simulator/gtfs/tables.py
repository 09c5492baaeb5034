"""Reading a GTFS feed's CSV files (a folder or a ``.zip``), with errors that name the file and row.

Every row comes back as a dict of stripped strings with its 1-based line number in the file
(the header is line 1), so a later check can say exactly where a bad value is.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from smartcity.core.errors import FeedError


@dataclass(frozen=True, slots=True)
class Row:
    """One CSV row: its values by column and its line in the file."""

    file: str
    line: int
    values: dict[str, str]

    def get(self, column: str, default: str = "") -> str:
        return self.values.get(column) or default

    def need(self, column: str) -> str:
        """The column's value; a ``FeedError`` naming file, line and column when it is empty."""
        value = self.values.get(column, "")
        if not value:
            raise self.error(f"{column} is empty")
        return value

    def number(self, column: str, kind: type[int | float] = float, default: float | None = None) -> float:
        text = self.values.get(column, "")
        if not text:
            if default is None:
                raise self.error(f"{column} is empty")
            return default
        try:
            return kind(text)
        except ValueError:
            raise self.error(f"{column} is not a number: {text[:40]!r}") from None

    def error(self, what: str) -> FeedError:
        return FeedError(f"{self.file} line {self.line}: {what}")


class FeedFiles:
    """The files of a feed, from a folder or a zip archive (also one whose files sit in a subfolder)."""

    def __init__(self, source: str | Path) -> None:
        self.source = Path(source)
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}
        if self.source.is_dir():
            self._names = {p.name: str(p) for p in self.source.iterdir() if p.suffix == ".txt"}
        elif zipfile.is_zipfile(self.source):
            self._zip = zipfile.ZipFile(self.source)
            for name in self._zip.namelist():
                if name.endswith(".txt") and not name.startswith("__MACOSX"):
                    self._names.setdefault(PurePosixPath(name).name, name)
        elif self.source.exists():
            raise FeedError(f"{self.source} is neither a folder nor a zip archive of a GTFS feed")
        else:
            raise FeedError(f"{self.source} does not exist")

    @property
    def name(self) -> str:
        return self.source.stem if self._zip is not None else self.source.name

    def has(self, name: str) -> bool:
        return name in self._names

    def rows(self, name: str, *, required: bool = True, columns: tuple[str, ...] = ()) -> Iterator[Row]:
        """The rows of ``name``; a ``FeedError`` when a required file or one of ``columns`` is missing."""
        if name not in self._names:
            if required:
                raise FeedError(f"the GTFS feed {self.source} has no {name}")
            return
        raw = self._zip.read(self._names[name]) if self._zip is not None else Path(self._names[name]).read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedError(f"{name}: not UTF-8 text (byte {exc.start})") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in columns if c not in header]
        if missing:
            raise FeedError(f"{name}: no column {', '.join(missing)} (its header is {','.join(header)[:200]})")
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield Row(name, reader.line_num, {k: v.strip() for k, v in zip(header, values, strict=False) if k})
        except csv.Error as exc:
            raise FeedError(f"{name} line {reader.line_num}: {exc}") from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
