from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StationEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATION_EVENT_KIND_UNSPECIFIED: _ClassVar[StationEventKind]
    ARRIVAL: _ClassVar[StationEventKind]
    DEPARTURE: _ClassVar[StationEventKind]
    PASSENGER_COUNT: _ClassVar[StationEventKind]
STATION_EVENT_KIND_UNSPECIFIED: StationEventKind
ARRIVAL: StationEventKind
DEPARTURE: StationEventKind
PASSENGER_COUNT: StationEventKind

class StationEvent(_message.Message):
    __slots__ = ("station_id", "event_time_ms", "kind", "bus_id", "route_id", "trip_id", "scheduled_time_ms", "actual_time_ms", "waiting_passengers", "boarded", "alighted", "dwell_s", "stop_sequence", "device_seq")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUS_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIP_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    WAITING_PASSENGERS_FIELD_NUMBER: _ClassVar[int]
    BOARDED_FIELD_NUMBER: _ClassVar[int]
    ALIGHTED_FIELD_NUMBER: _ClassVar[int]
    DWELL_S_FIELD_NUMBER: _ClassVar[int]
    STOP_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SEQ_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    event_time_ms: int
    kind: StationEventKind
    bus_id: str
    route_id: str
    trip_id: str
    scheduled_time_ms: int
    actual_time_ms: int
    waiting_passengers: int
    boarded: int
    alighted: int
    dwell_s: float
    stop_sequence: int
    device_seq: int
    def __init__(self, station_id: _Optional[str] = ..., event_time_ms: _Optional[int] = ..., kind: _Optional[_Union[StationEventKind, str]] = ..., bus_id: _Optional[str] = ..., route_id: _Optional[str] = ..., trip_id: _Optional[str] = ..., scheduled_time_ms: _Optional[int] = ..., actual_time_ms: _Optional[int] = ..., waiting_passengers: _Optional[int] = ..., boarded: _Optional[int] = ..., alighted: _Optional[int] = ..., dwell_s: _Optional[float] = ..., stop_sequence: _Optional[int] = ..., device_seq: _Optional[int] = ...) -> None: ...
