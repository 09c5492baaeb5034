"""Where things live in the lake; names are pure functions of what a file holds.

    <lake>/raw/<dataset>/date=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first offset>+<last offset>.<ext>
    <lake>/marts/<mart>/date=YYYY-MM-DD/<file>.parquet
    <lake>/smartcity.duckdb
    <lake>/_staging/   batches being landed (never read)
    <lake>/_state/     landed offsets per topic-partition, the lake lock
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartcity.core.errors import UnsafePathError

RAW = "raw"
MARTS = "marts"
STAGING = "_staging"
STATE = "_state"
CATALOG = "smartcity.duckdb"
HOUR_MS = 3_600_000

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DATE_DIR = re.compile(r"^date=\d{4}-\d{2}-\d{2}$")
HOUR_DIR = re.compile(r"^hour=\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_RE = re.compile(
    r"^(?P<topic>[A-Za-z0-9._-]+)\+(?P<partition>\d+)\+(?P<first>\d+)\+(?P<last>\d+)\.(?P<ext>[a-z0-9]+)$"
)


def check_topic(topic: str) -> str:
    if not _TOPIC.match(topic) or topic in (".", ".."):
        raise UnsafePathError(f"illegal topic name {topic!r}")
    return topic


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UnsafePathError(f"illegal dataset or mart name {name!r}")
    return name


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved, refusing anything outside ``root``."""
    root_r = root.resolve()
    resolved = path.resolve()
    if resolved != root_r and root_r not in resolved.parents:
        raise UnsafePathError(f"{path} is outside the lake {root_r}")
    return resolved


def hour_bucket(event_time_ms: int) -> tuple[str, int]:
    """(``YYYY-MM-DD``, hour) of an event time in UTC."""
    t = datetime.fromtimestamp(event_time_ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%d"), t.hour


def hour_end(date: str, hour: int) -> datetime:
    """The UTC instant the hour ``hour`` of ``date`` (``YYYY-MM-DD``) ends: when its partition closes."""
    return datetime.fromisoformat(date).replace(tzinfo=UTC) + timedelta(hours=hour + 1)


def bucket_of_hour_index(hour_index: int) -> tuple[str, int]:
    """(date, hour) of ``event_time_ms // HOUR_MS``."""
    return hour_bucket(hour_index * HOUR_MS)


def dataset_dir(root: Path, dataset: str) -> Path:
    return root / RAW / check_name(dataset)


def partition_dir(root: Path, dataset: str, date: str, hour: int) -> Path:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) or not 0 <= hour <= 23:
        raise UnsafePathError(f"illegal partition date={date!r} hour={hour!r}")
    return dataset_dir(root, dataset) / f"date={date}" / f"hour={hour:02d}"


def file_name(topic: str, partition: int, first: int, last: int, ext: str) -> str:
    return f"{check_topic(topic)}+{int(partition)}+{int(first)}+{int(last)}.{ext}"


@dataclass(frozen=True)
class FileName:
    topic: str
    partition: int
    first: int
    last: int
    ext: str


def parse_file_name(name: str) -> FileName | None:
    m = FILE_RE.match(name)
    if not m:
        return None
    return FileName(m["topic"], int(m["partition"]), int(m["first"]), int(m["last"]), m["ext"])


def mart_dir(root: Path, mart: str) -> Path:
    return root / MARTS / check_name(mart)


def data_files(root: Path, dataset: str, ext: str | None = None, dates: Iterable[str] | None = None) -> list[Path]:
    """Every landed file of a raw dataset (optionally of one extension, of ``dates`` YYYY-MM-DD only),
    sorted by path. With ``dates``, only those days' folders are listed, however long the history."""
    base = dataset_dir(root, dataset)
    if not base.exists():
        return []
    pattern = f"*.{ext}" if ext else "*.*"
    days = ["date=*"] if dates is None else sorted(f"date={d}" for d in set(dates) if _DAY.match(d))
    return sorted(p for day in days for p in base.glob(f"{day}/hour=*/{pattern}")
                  if parse_file_name(p.name) and HOUR_DIR.match(p.parent.name) and DATE_DIR.match(p.parent.parent.name))


def partition_of(path: Path) -> tuple[str, int]:
    """(date, hour) from a landed file's path."""
    return path.parent.parent.name.removeprefix("date="), int(path.parent.name.removeprefix("hour="))
