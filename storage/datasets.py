"""Raw datasets of the lake: name, message type, and the Arrow schema of their rows.

A raw row is the message's fields (proto names; enums as their names; proto3 optional fields
nullable), then the columns the sink derives for the dataset (``Dataset.derived``), then
``event_time`` (timestamp, UTC, from ``event_time_ms``), then the lineage columns ``_topic``,
``_partition``, ``_offset`` and ``_ingested_at``.

Schemas evolve by adding nullable columns only: a file written before a column existed reads
back with that column null (every format, ``smartcity.storage.scan`` and the catalog).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from smartcity.proto import AirQualityReading, Alert, BusTelemetry, BusWindowStats, StationEvent

TIMESTAMP = pa.timestamp("ms", tz="UTC")
LINEAGE = pa.schema([
    pa.field("_topic", pa.string(), nullable=False),
    pa.field("_partition", pa.int32(), nullable=False),
    pa.field("_offset", pa.int64(), nullable=False),
    pa.field("_ingested_at", TIMESTAMP, nullable=False),
])

_ARROW_TYPES = {
    FieldDescriptor.TYPE_STRING: pa.string(),
    FieldDescriptor.TYPE_BYTES: pa.binary(),
    FieldDescriptor.TYPE_DOUBLE: pa.float64(),
    FieldDescriptor.TYPE_FLOAT: pa.float32(),
    FieldDescriptor.TYPE_INT64: pa.int64(),
    FieldDescriptor.TYPE_SINT64: pa.int64(),
    FieldDescriptor.TYPE_SFIXED64: pa.int64(),
    FieldDescriptor.TYPE_UINT64: pa.uint64(),
    FieldDescriptor.TYPE_FIXED64: pa.uint64(),
    FieldDescriptor.TYPE_INT32: pa.int32(),
    FieldDescriptor.TYPE_SINT32: pa.int32(),
    FieldDescriptor.TYPE_SFIXED32: pa.int32(),
    FieldDescriptor.TYPE_UINT32: pa.uint32(),
    FieldDescriptor.TYPE_FIXED32: pa.uint32(),
    FieldDescriptor.TYPE_BOOL: pa.bool_(),
    FieldDescriptor.TYPE_ENUM: pa.string(),
}


# Optional fields whose absence has a meaning: stored as that value, never null.
ABSENT_AS: dict[str, str] = {
    "smartcity.v1.BusTelemetry.current_status": "IN_TRANSIT_TO",  # GTFS-Realtime: absent means IN_TRANSIT_TO
}


def is_optional(field: FieldDescriptor) -> bool:
    """True for proto3 ``optional`` fields (they have presence; absent means null)."""
    return field.has_presence and field.containing_oneof is not None and field.containing_oneof.name.startswith("_")


def message_schema(descriptor: Descriptor) -> pa.Schema:
    """Arrow schema of a flat message: one column per field, in field-number order."""
    fields = []
    for f in sorted(descriptor.fields, key=lambda f: f.number):
        if f.is_repeated or f.type == FieldDescriptor.TYPE_MESSAGE:
            raise TypeError(f"{descriptor.full_name}.{f.name}: only flat scalar messages can be landed")
        nullable = is_optional(f) and f.full_name not in ABSENT_AS
        fields.append(pa.field(f.name, _ARROW_TYPES[f.type], nullable=nullable))
    return pa.schema(fields)


QUALITY_FLAGS = pa.field("quality_flags", pa.string(), nullable=True)
"""Why values of the message were nulled at landing, e.g. ``no2_ppb<0`` (``; `` between several); null
when every value passed (``smartcity.ingest.decode.validate.VALUE_RULES``)."""
AVERAGING_HOUR = pa.field("averaging_hour", TIMESTAMP, nullable=True)
"""Start of the UTC hour whose average the reading counts towards: the hour of ``event_time`` when event
times mark the start of the averaging interval (``[ingest] air_time_marks = "start"``), the hour of
``event_time`` - 1 ms when they mark its end. The reading's partition is this hour. Null only in files
landed before the column existed; readers then use the hour of ``event_time``."""


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str  # topic kind in KafkaSettings: bus, air, station, alerts, bus_windows
    message_type: type[Message]
    derived: tuple[pa.Field, ...] = ()  # columns the sink adds to the message's (nullable: schema evolution)
    partition_by: str = "event_time"  # the timestamp column whose UTC date and hour name a row's partition

    @property
    def descriptor(self) -> Descriptor:
        descriptor = self.message_type.DESCRIPTOR
        # The stubs also allow upb's C descriptor class; at runtime it passes this check (the
        # metaclass of ``Descriptor`` accepts it), so this only narrows the type.
        assert isinstance(descriptor, Descriptor)
        return descriptor

    @cached_property
    def message_schema(self) -> pa.Schema:
        return message_schema(self.descriptor)

    @cached_property
    def schema(self) -> pa.Schema:
        """Full row schema: message fields, derived columns, ``event_time``, lineage."""
        fields = [*self.message_schema, *self.derived, pa.field("event_time", TIMESTAMP, nullable=False), *LINEAGE]
        return pa.schema(fields)

    @property
    def key_field(self) -> str:
        return self.descriptor.fields[0].name


BUS_TELEMETRY = Dataset("bus_telemetry", "bus", BusTelemetry)
AIR_READINGS = Dataset("air_readings", "air", AirQualityReading, derived=(QUALITY_FLAGS, AVERAGING_HOUR),
                       partition_by=AVERAGING_HOUR.name)
POLLUTANT_COLUMNS: dict[str, str] = {
    "pm25": "pm25_ugm3",
    "pm10": "pm10_ugm3",
    "no2": "no2_ppb",
    "o3": "o3_ppb",
    "so2": "so2_ppb",
    "co": "co_ppm",
}
"""Pollutant -> its column in ``air_readings`` (the unit is in the name)."""
STATION_EVENTS = Dataset("station_events", "station", StationEvent)
ALERTS = Dataset("alerts", "alerts", Alert)
BUS_WINDOWS = Dataset("bus_windows", "bus_windows", BusWindowStats)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (BUS_TELEMETRY, AIR_READINGS, STATION_EVENTS, ALERTS, BUS_WINDOWS)
}
BY_KIND: dict[str, Dataset] = {d.kind: d for d in DATASETS.values()}


def dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None
