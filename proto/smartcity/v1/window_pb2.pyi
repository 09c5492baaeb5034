from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class BusWindowStats(_message.Message):
    __slots__ = ("bus_id", "route_id", "window_start_ms", "window_end_ms", "event_time_ms", "readings", "passengers_min", "passengers_max", "passengers_mean", "capacity", "fleet_buses", "fleet_passengers_mean", "closed_on_idle")
    BUS_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTE_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_MS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_MS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    READINGS_FIELD_NUMBER: _ClassVar[int]
    PASSENGERS_MIN_FIELD_NUMBER: _ClassVar[int]
    PASSENGERS_MAX_FIELD_NUMBER: _ClassVar[int]
    PASSENGERS_MEAN_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    FLEET_BUSES_FIELD_NUMBER: _ClassVar[int]
    FLEET_PASSENGERS_MEAN_FIELD_NUMBER: _ClassVar[int]
    CLOSED_ON_IDLE_FIELD_NUMBER: _ClassVar[int]
    bus_id: str
    route_id: str
    window_start_ms: int
    window_end_ms: int
    event_time_ms: int
    readings: int
    passengers_min: int
    passengers_max: int
    passengers_mean: float
    capacity: int
    fleet_buses: int
    fleet_passengers_mean: float
    closed_on_idle: bool
    def __init__(self, bus_id: _Optional[str] = ..., route_id: _Optional[str] = ..., window_start_ms: _Optional[int] = ..., window_end_ms: _Optional[int] = ..., event_time_ms: _Optional[int] = ..., readings: _Optional[int] = ..., passengers_min: _Optional[int] = ..., passengers_max: _Optional[int] = ..., passengers_mean: _Optional[float] = ..., capacity: _Optional[int] = ..., fleet_buses: _Optional[int] = ..., fleet_passengers_mean: _Optional[float] = ..., closed_on_idle: _Optional[bool] = ...) -> None: ...
