"""Device marks of a topic-partition: per device, the highest ``device_seq`` landed and the holes below it
(:mod:`smartcity.ingest.device_seq`), as JSON ``{device: [highest, [[low, high], ...]]}``.

A device that numbers its messages (``device_seq``, counting up from 1; the device is the message key)
can reach a partition twice with the same message; the sink drops a message its device's marks have seen
(``smartcity.ingest.sink.replays``). The marks are kept under the key ``device_seq`` of
the partition's offsets record (``_state/offsets/<topic>+<partition>``), so one atomic replace records
a batch's last offset and its marks together: whatever a crash leaves, they agree
(:mod:`smartcity.storage.commit`).

A lake whose offsets record is lost gets both back from its landed files: the offset from their names
(``Committer.scan_landed_offset``), the marks from their rows (:func:`scan_marks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from smartcity.core.errors import CorruptStateError
from smartcity.ingest.device_seq import SeqMarks
from smartcity.storage.datasets import DATASETS
from smartcity.storage.formats import EXTENSIONS, FORMATS
from smartcity.storage.layout import data_files, parse_file_name

Marks = dict[str, Any]
DEVICE_SEQ = "device_seq"
"""The column of numbered messages, and the key of the marks in a partition's offsets record."""


@dataclass(frozen=True)
class LandedMarks:
    """A partition's device marks and the landed offset they were recorded with (``None``: nothing landed)."""

    landed: int | None
    marks: Marks


def parse_marks(value: object) -> Marks:
    """``value`` (from JSON) as marks (a bare integer is a highest number without holes); ``ValueError``
    when it is anything else."""
    if not isinstance(value, dict):
        raise ValueError(f"device marks must be an object, not {type(value).__name__}")
    for device, mark in value.items():
        if not isinstance(device, str) or isinstance(mark, bool):
            raise ValueError(f"device mark {device!r}: {mark!r} is not a mark")
    try:
        return SeqMarks.from_json(value).to_json()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"device marks are not [highest, [[low, high], ...]] per device: {exc}") from None


def marks_of(record: Mapping[str, Any] | None, path: Path, topic: str, partition: int) -> Marks:
    """The marks in a partition's offsets record read from ``path`` (none when it has none)."""
    if record is None or DEVICE_SEQ not in record:
        return {}
    try:
        return parse_marks(record[DEVICE_SEQ])
    except ValueError:
        raise CorruptStateError(
            f"cannot read the device_seq marks of {topic}[{partition}] from {path}: "
            f"{str(record[DEVICE_SEQ])[:80]!r}; remove the file and the sink rebuilds it, landed offset and "
            "marks, from the landed files") from None


def merge_marks(current: Mapping[str, Any], new: Mapping[str, Any]) -> Marks:
    """``current`` with the devices of ``new`` replaced: a batch's marks were computed from the marks of the
    landed offset it was fenced on (so they include everything ``current`` knew of those devices)."""
    return {**current, **new}


def scan_marks(root: Path, topic: str, partition: int) -> Marks:
    """The marks of a topic-partition rebuilt from the rows of its landed files, taken in offset order (a
    recovery path: it reads every file of the partition of every dataset with a ``device_seq`` column)."""
    tables = []
    for name, dataset in DATASETS.items():
        if DEVICE_SEQ not in dataset.schema.names:
            continue
        for path in data_files(root, name):
            parsed = parse_file_name(path.name)
            if parsed is None or parsed.topic != topic or parsed.partition != partition or \
                    parsed.ext not in EXTENSIONS:
                continue
            table = FORMATS[EXTENSIONS[parsed.ext]].read(path, dataset.schema)
            table = table.select([dataset.key_field, DEVICE_SEQ, "_offset"]).rename_columns(["device", "seq", "off"])
            tables.append(table.filter(pc.and_(pc.is_valid(table["seq"]), pc.is_valid(table["device"]))))
    marks = SeqMarks()
    if tables:
        rows = pa.concat_tables(tables).sort_by("off")
        marks.keep(rows["device"].to_pylist(), rows["seq"].to_pylist())
    return marks.to_json()
