"""Write a simulator stream to files, one per domain, and read them back.

Two formats:

* ``ndjson``: one JSON object per line, the ``smartcity.proto.codec`` JSON encoding (proto field names,
  enums by name); files ``<dataset>.ndjson``.
* ``protobuf``: length-delimited Protobuf, each message preceded by its size as a base-128
  varint (the ``writeDelimitedTo`` / ``parseDelimitedFrom`` format); files ``<dataset>.pb``.

Datasets are named as in the lake: ``bus_telemetry``, ``air_readings``, ``station_events``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from google.protobuf.message import Message

from smartcity.simulator.events import SimEvent
from smartcity.simulator.records import CODECS

FileFormat = Literal["ndjson", "protobuf"]
DATASETS: dict[str, str] = {"bus": "bus_telemetry", "air": "air_readings", "station": "station_events"}
EXTENSIONS: dict[str, str] = {"ndjson": ".ndjson", "protobuf": ".pb"}
_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class WrittenFile:
    domain: str
    path: Path
    messages: int


def encode_varint(n: int) -> bytes:
    """Base-128 varint of a non-negative integer (least significant group first)."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(fh: BinaryIO) -> int | None:
    shift = result = 0
    while True:
        b = fh.read(1)
        if not b:
            if shift:
                raise ValueError("truncated varint at the end of the file")
            return None
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def path_for(folder: str | Path, domain: str, fmt: FileFormat) -> Path:
    return Path(folder) / f"{DATASETS[domain]}{EXTENSIONS[fmt]}"


def write_stream(events: Iterable[SimEvent], folder: str | Path,
                 fmt: FileFormat = "ndjson") -> dict[str, WrittenFile]:
    """Write every event to its domain's file in ``folder`` (created); returns what was written."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown format {fmt!r}; use ndjson or protobuf")
    from smartcity.simulator.records import TOPICS, to_records

    records = to_records(events, "json" if fmt == "ndjson" else "protobuf")
    return write_records(records, folder, fmt, {topic: domain for domain, topic in TOPICS.items()})


def read_ndjson(path: str | Path, domain: str) -> Iterator[Message]:
    """Messages of ``domain`` from an NDJSON file (blank lines are skipped)."""
    codec = CODECS[domain]
    with Path(path).open("rb") as fh:
        for line in fh:
            if line.strip():
                yield codec.decode_as(line, "json")


def read_delimited(path: str | Path, domain: str) -> Iterator[Message]:
    """Messages of ``domain`` from a length-delimited Protobuf file."""
    codec = CODECS[domain]
    with Path(path).open("rb", buffering=_BUFFER) as fh:
        while (size := read_varint(fh)) is not None:
            data = fh.read(size)
            if len(data) != size:
                raise ValueError(f"truncated message at the end of {path}")
            yield codec.decode_as(data, "protobuf")


def read_file(path: str | Path) -> Iterator[Message]:
    """Messages from a file written by :func:`write_stream`; domain and format come from its name."""
    p = Path(path)
    domain = next((d for d, name in DATASETS.items() if p.name.startswith(name)), None)
    if domain is None:
        raise ValueError(f"cannot tell the domain of {p.name}; expected one of {sorted(DATASETS.values())}")
    if p.suffix == EXTENSIONS["ndjson"]:
        return read_ndjson(p, domain)
    if p.suffix == EXTENSIONS["protobuf"]:
        return read_delimited(p, domain)
    raise ValueError(f"unknown file type {p.suffix!r}; expected .ndjson or .pb")


def write_records(records: Iterable[tuple[str, bytes, bytes, list[tuple[str, bytes]], int]], folder: str | Path,
                  fmt: FileFormat, domain_of: dict[str, str]) -> dict[str, WrittenFile]:
    """Write already-encoded records (faults included) as they are: one JSON value per line for
    ``ndjson`` (encode the records as JSON), varint-length-prefixed values for ``protobuf``."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown format {fmt!r}; use ndjson or protobuf")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        handles: dict[str, BinaryIO] = {}
        for topic, _key, value, _headers, _t in records:
            domain = domain_of[topic]
            fh = handles.get(domain)
            if fh is None:
                fh = stack.enter_context(path_for(out, domain, fmt).open("wb", buffering=_BUFFER))
                handles[domain] = fh
                counts[domain] = 0
            if fmt == "ndjson":
                fh.write(value.replace(b"\n", b" "))
                fh.write(b"\n")
            else:
                fh.write(encode_varint(len(value)))
                fh.write(value)
            counts[domain] += 1
    return {d: WrittenFile(d, path_for(out, d, fmt), n) for d, n in counts.items()}
