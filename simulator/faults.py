"""Fault injection over a stream of encoded records, for testing consumers.

A record is ``(topic, key, value, headers, event_time_ms)``. Each record independently, with
the given probabilities, is

* **malformed**, one of three kinds chosen evenly:
  - *corrupt*: bytes that no decoder accepts (a truncated value followed by an invalid varint
    for Protobuf; truncated text and invalid UTF-8 for JSON);
  - *schema*: wrong types (a string where a number belongs) or missing identity and event-time
    fields (JSON), missing identity and event-time fields (Protobuf);
  - *impossible*: a decodable message with values no device can produce: negative counts or
    concentrations, coordinates off the planet, event times before 1970 or centuries ahead (the sink
    dead-letters these messages, except that it lands a reading with a negative concentration with
    that value nulled and flagged);
* **duplicated**: emitted twice in a row (a producer retry);
* **late**: held back and emitted only after a record at least ``late_by`` newer in event time
  has gone out (or at the end of the stream).

The record tuple's own ``event_time_ms`` is left unchanged. :class:`FaultCounts` reports what
was injected.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from smartcity.core.errors import SmartcityError
from smartcity.ingest.producer import Record
from smartcity.proto.codec import AIR as AIR_CODEC
from smartcity.proto.codec import BUS, MESSAGE_TYPE_HEADER, STATION, Codec, Encoding, codec_for, encoding_from_headers

YEAR_2000_MS = 946_684_800_000
FAR_FUTURE_MS = 7_258_118_400_000  # 2200-01-01
_IDENTITY_FIELDS = ("bus_id", "sensor_id", "station_id", "event_time_ms")
_NUMERIC_FIELDS = ("passengers", "event_time_ms", "latitude", "no2_ppb", "boarded", "waiting_passengers",
                   "speed_mps", "pm25_ugm3")


@dataclass
class FaultCounts:
    """What the injector did so far."""

    seen: int = 0  # records read from the source
    emitted: int = 0  # records written out (duplicates included)
    corrupt: int = 0
    schema: int = 0
    impossible: int = 0
    duplicates: int = 0
    late: int = 0

    @property
    def malformed(self) -> int:
        return self.corrupt + self.schema + self.impossible


def _codec(topic: str, headers: list[tuple[str, bytes]]) -> Codec[Any] | None:
    """The record's codec (any of the message types, hence ``Any``), from its headers or its topic."""
    for k, v in headers:
        if k == MESSAGE_TYPE_HEADER:
            try:
                return codec_for(v.decode())
            except (SmartcityError, UnicodeDecodeError):
                return None
    for word, codec in (("bus", BUS), ("air", AIR_CODEC), ("station", STATION)):
        if word in topic:
            return codec
    return None


class FaultInjector:
    """Iterate to get the faulty stream; :attr:`counts` says what was injected."""

    def __init__(self, records: Iterable[Record], *, seed: int = 0, malformed: float = 0.0,
                 duplicates: float = 0.0, late: float = 0.0,
                 late_by: timedelta = timedelta(minutes=5)) -> None:
        for name, p in (("malformed", malformed), ("duplicates", duplicates), ("late", late)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"`{name}` must be a probability in [0, 1], got {p}")
        self._records = records
        self._rng = random.Random(f"faults:{seed}")
        self.malformed = malformed
        self.duplicates = duplicates
        self.late = late
        self.late_by_ms = round(late_by.total_seconds() * 1000)
        self.counts = FaultCounts()

    def __iter__(self) -> Iterator[Record]:
        rng = self._rng
        held: list[tuple[int, int, list[Record]]] = []
        order = 0
        for record in self._records:
            self.counts.seen += 1
            if self.malformed and rng.random() < self.malformed:
                record = self._malform(record)
            batch = [record]
            if self.duplicates and rng.random() < self.duplicates:
                batch.append(record)
                self.counts.duplicates += 1
            if self.late and rng.random() < self.late:
                order += 1
                heapq.heappush(held, (record[4] + self.late_by_ms, order, batch))
                self.counts.late += 1
                continue
            yield from self._emit(batch)
            while held and held[0][0] <= record[4]:
                yield from self._emit(heapq.heappop(held)[2])
        while held:
            yield from self._emit(heapq.heappop(held)[2])

    def _emit(self, batch: list[Record]) -> Iterator[Record]:
        for record in batch:
            self.counts.emitted += 1
            yield record

    def _malform(self, record: Record) -> Record:
        topic, key, value, headers, t = record
        kind = self._rng.choice(("corrupt", "schema", "impossible"))
        codec = _codec(topic, headers)
        try:
            encoding = encoding_from_headers(headers)
        except SmartcityError:
            encoding = "protobuf"
        new_value = None
        if kind == "schema" and codec is not None:
            new_value = self._schema(codec, value, encoding)
        elif kind == "impossible" and codec is not None:
            new_value = self._impossible(codec, value, encoding)
        if new_value is None:
            kind, new_value = "corrupt", self._corrupt(value, encoding)
        setattr(self.counts, kind, getattr(self.counts, kind) + 1)
        return topic, key, new_value, headers, t

    def _corrupt(self, value: bytes, encoding: Encoding) -> bytes:
        cut = self._rng.randrange(0, max(1, len(value)))
        if encoding == "json":
            return value[:cut] + b"\xff\xfe{"
        return value[:cut] + b"\xff" * 11

    def _schema(self, codec: Codec[Any], value: bytes, encoding: Encoding) -> bytes | None:
        try:
            message = codec.decode_as(value, encoding)
        except SmartcityError:
            return None
        if encoding == "json":
            obj = json.loads(value)
            if self._rng.random() < 0.5:
                fields = [f for f in _NUMERIC_FIELDS if f in obj] or ["event_time_ms"]
                obj[self._rng.choice(fields)] = self._rng.choice(["many", "n/a", "12,5", [1, 2], {"v": 1}])
            else:
                for f in _IDENTITY_FIELDS:
                    obj.pop(f, None)
            return json.dumps(obj, separators=(",", ":")).encode()
        for f in _IDENTITY_FIELDS:
            if f in message.DESCRIPTOR.fields_by_name:
                message.ClearField(f)
        return codec.encode(message, "protobuf")

    def _impossible(self, codec: Codec[Any], value: bytes, encoding: Encoding) -> bytes | None:
        try:
            message = codec.decode_as(value, encoding)
        except SmartcityError:
            return None
        rng = self._rng
        fields = message.DESCRIPTOR.fields_by_name
        choices = ["time", "coords"] if "latitude" in fields else ["time"]
        for name in ("passengers", "boarded", "waiting_passengers", "pm25_ugm3", "no2_ppb"):
            if name in fields:
                choices.append(name)
        what = rng.choice(choices)
        if what == "time":
            message.event_time_ms = (-rng.randrange(1, 10**12) if rng.random() < 0.5  # before 1970
                                     else FAR_FUTURE_MS + rng.randrange(0, 10**12))
        elif what == "coords":
            message.latitude = rng.choice([1.0, -1.0]) * rng.uniform(91.0, 400.0)
            message.longitude = rng.choice([1.0, -1.0]) * rng.uniform(181.0, 999.0)
        elif fields[what].type in (fields[what].TYPE_DOUBLE, fields[what].TYPE_FLOAT):
            setattr(message, what, -rng.uniform(1.0, 500.0))
        else:
            setattr(message, what, -rng.randrange(1, 500))
        return codec.encode(message, encoding)


def inject_faults(records: Iterable[Record], *, seed: int = 0, malformed: float = 0.0,
                  duplicates: float = 0.0, late: float = 0.0,
                  late_by: timedelta = timedelta(minutes=5)) -> FaultInjector:
    """Wrap ``records``; see the module docstring. Iterate the result; read ``.counts`` after."""
    return FaultInjector(records, seed=seed, malformed=malformed, duplicates=duplicates, late=late,
                         late_by=late_by)
