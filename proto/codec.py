"""Encode and decode smartcity messages as Protobuf or JSON.

A Kafka message says its encoding in a ``content-type`` header; a message without one is
Protobuf. JSON uses the proto field names (snake_case), numbers for 64-bit integers and enum
names for enums; it is valid proto3 JSON, so any proto3 JSON parser reads it too.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Literal, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError as _PbDecodeError
from google.protobuf.message import Message

from smartcity.core.errors import DecodeError, EncodeError
from smartcity.proto import AirQualityReading, Alert, BusTelemetry, BusWindowStats, StationEvent

Encoding = Literal["protobuf", "json"]
ENCODINGS: tuple[Encoding, ...] = ("protobuf", "json")

CONTENT_TYPE_HEADER = "content-type"
MESSAGE_TYPE_HEADER = "smartcity-type"
CONTENT_TYPES: dict[Encoding, str] = {
    "protobuf": "application/x-protobuf",
    "json": "application/json",
}
_ENCODING_BY_CONTENT_TYPE = {v: k for k, v in CONTENT_TYPES.items()}

Headers = Sequence[tuple[str, bytes | str | None]] | None
M = TypeVar("M", bound=Message)


def encoding_from_headers(headers: Headers) -> Encoding:
    """The encoding a message's headers announce; Protobuf when there is no ``content-type``."""
    if not headers:
        return "protobuf"
    for key, value in headers:
        if key.lower() != CONTENT_TYPE_HEADER or value is None:
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        media = text.split(";", 1)[0].strip().lower()
        if media in _ENCODING_BY_CONTENT_TYPE:
            return _ENCODING_BY_CONTENT_TYPE[media]
        if media.endswith("json"):
            return "json"
        if "protobuf" in media:
            return "protobuf"
        raise DecodeError("message", f"unsupported content-type {text!r}")
    return "protobuf"


@cache
def enum_names(field: FieldDescriptor) -> dict[int, str]:
    """Number -> name of an enum field's values, in declaration order."""
    enum = field.enum_type
    if enum is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return {v.number: v.name for v in enum.values}


def _plain_value(field: FieldDescriptor, value: object) -> object:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_names(field).get(value, value) if isinstance(value, int) else value
    if field.type == FieldDescriptor.TYPE_FLOAT:
        return _shortest_float32(value)  # type: ignore[arg-type]
    return value


FLOAT32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]


def _shortest_float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32 (8.25, not 8.25000011920929)."""
    if not math.isfinite(value):
        return value
    want = struct.pack("<f", value)
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        # a decimal that rounds to the largest float32 may itself exceed it, which JSON parsers reject
        if abs(candidate) <= FLOAT32_MAX and struct.pack("<f", candidate) == want:
            return candidate
    return value


@dataclass(frozen=True)
class Codec(Generic[M]):
    """Encoder/decoder for one message type."""

    message_type: type[M]

    @property
    def name(self) -> str:
        return self.message_type.DESCRIPTOR.full_name

    def headers(self, encoding: Encoding) -> list[tuple[str, bytes]]:
        """Kafka headers that announce ``encoding`` and this message type."""
        return [
            (CONTENT_TYPE_HEADER, CONTENT_TYPES[encoding].encode()),
            (MESSAGE_TYPE_HEADER, self.name.encode()),
        ]

    def to_dict(self, message: M) -> dict[str, object]:
        """Plain dict of the fields that are set (scalars at their value, enums by name)."""
        out: dict[str, object] = {}
        for field, value in message.ListFields():
            out[field.name] = _plain_value(field, value)
        return out

    def encode(self, message: M, encoding: Encoding = "protobuf") -> bytes:
        if not isinstance(message, self.message_type):
            raise EncodeError(f"expected {self.name}, got {type(message).__name__}")
        if encoding == "protobuf":
            return message.SerializeToString()
        if encoding == "json":
            return json.dumps(self.to_dict(message), separators=(",", ":")).encode()
        raise EncodeError(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")

    def decode(self, data: bytes | None, headers: Headers = None) -> M:
        """Decode one message; raise :class:`DecodeError` naming the type and the reason."""
        return self.decode_as(data, encoding_from_headers(headers) if headers else "protobuf")

    def decode_as(self, data: bytes | None, encoding: Encoding) -> M:
        if data is None:
            raise DecodeError(self.name, "empty message (null value)")
        message = self.message_type()
        if encoding == "protobuf":
            try:
                message.ParseFromString(data)
            except _PbDecodeError as exc:
                raise DecodeError(self.name, f"invalid Protobuf: {exc}") from exc
            return message
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecodeError(self.name, f"invalid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise DecodeError(self.name, f"JSON value is a {type(obj).__name__}, expected an object")
        try:
            json_format.ParseDict(obj, message, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise DecodeError(self.name, str(exc)) from exc
        return message

    def decode_many(self, items: Iterable[tuple[bytes | None, Headers]]) -> list[M]:
        return [self.decode(data, headers) for data, headers in items]


BUS = Codec(BusTelemetry)
AIR = Codec(AirQualityReading)
STATION = Codec(StationEvent)
ALERT = Codec(Alert)
BUS_WINDOW = Codec(BusWindowStats)

DOMAIN_CODECS: dict[str, Codec[Any]] = {"bus": BUS, "air": AIR, "station": STATION}
"""The device message of each domain (Any: one message type per domain)."""

CODECS: dict[str, Codec[Message]] = {c.name: c for c in (BUS, AIR, STATION, ALERT, BUS_WINDOW)}  # type: ignore[misc]


def codec_for(message_type: str | type[Message]) -> Codec[Message]:
    """The codec of a message type, by class or by full name (``smartcity.v1.BusTelemetry``)."""
    name = message_type if isinstance(message_type, str) else message_type.DESCRIPTOR.full_name
    try:
        return CODECS[name]
    except KeyError:
        raise EncodeError(f"unknown message type {name!r}; known: {', '.join(sorted(CODECS))}") from None
