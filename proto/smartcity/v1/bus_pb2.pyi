from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VehicleStopStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCOMING_AT: _ClassVar[VehicleStopStatus]
    STOPPED_AT: _ClassVar[VehicleStopStatus]
    IN_TRANSIT_TO: _ClassVar[VehicleStopStatus]

class OccupancyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMPTY: _ClassVar[OccupancyStatus]
    MANY_SEATS_AVAILABLE: _ClassVar[OccupancyStatus]
    FEW_SEATS_AVAILABLE: _ClassVar[OccupancyStatus]
    STANDING_ROOM_ONLY: _ClassVar[OccupancyStatus]
    CRUSHED_STANDING_ROOM_ONLY: _ClassVar[OccupancyStatus]
    FULL: _ClassVar[OccupancyStatus]
    NOT_ACCEPTING_PASSENGERS: _ClassVar[OccupancyStatus]
    NO_DATA_AVAILABLE: _ClassVar[OccupancyStatus]
    NOT_BOARDABLE: _ClassVar[OccupancyStatus]
INCOMING_AT: VehicleStopStatus
STOPPED_AT: VehicleStopStatus
IN_TRANSIT_TO: VehicleStopStatus
EMPTY: OccupancyStatus
MANY_SEATS_AVAILABLE: OccupancyStatus
FEW_SEATS_AVAILABLE: OccupancyStatus
STANDING_ROOM_ONLY: OccupancyStatus
CRUSHED_STANDING_ROOM_ONLY: OccupancyStatus
FULL: OccupancyStatus
NOT_ACCEPTING_PASSENGERS: OccupancyStatus
NO_DATA_AVAILABLE: OccupancyStatus
NOT_BOARDABLE: OccupancyStatus

class BusTelemetry(_message.Message):
    __slots__ = ("bus_id", "route_id", "trip_id", "event_time_ms", "latitude", "longitude", "speed_mps", "bearing_deg", "passengers", "capacity", "seated_capacity", "next_stop_id", "stop_sequence", "current_status", "occupancy_status", "occupancy_percentage", "delay_s", "odometer_m", "bus_id_source", "device_seq")
    BUS_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTE_ID_FIELD_NUMBER: _ClassVar[int]
    TRIP_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    SPEED_MPS_FIELD_NUMBER: _ClassVar[int]
    BEARING_DEG_FIELD_NUMBER: _ClassVar[int]
    PASSENGERS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    SEATED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    NEXT_STOP_ID_FIELD_NUMBER: _ClassVar[int]
    STOP_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_STATUS_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    DELAY_S_FIELD_NUMBER: _ClassVar[int]
    ODOMETER_M_FIELD_NUMBER: _ClassVar[int]
    BUS_ID_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SEQ_FIELD_NUMBER: _ClassVar[int]
    bus_id: str
    route_id: str
    trip_id: str
    event_time_ms: int
    latitude: float
    longitude: float
    speed_mps: float
    bearing_deg: float
    passengers: int
    capacity: int
    seated_capacity: int
    next_stop_id: str
    stop_sequence: int
    current_status: VehicleStopStatus
    occupancy_status: OccupancyStatus
    occupancy_percentage: int
    delay_s: int
    odometer_m: float
    bus_id_source: str
    device_seq: int
    def __init__(self, bus_id: _Optional[str] = ..., route_id: _Optional[str] = ..., trip_id: _Optional[str] = ..., event_time_ms: _Optional[int] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., speed_mps: _Optional[float] = ..., bearing_deg: _Optional[float] = ..., passengers: _Optional[int] = ..., capacity: _Optional[int] = ..., seated_capacity: _Optional[int] = ..., next_stop_id: _Optional[str] = ..., stop_sequence: _Optional[int] = ..., current_status: _Optional[_Union[VehicleStopStatus, str]] = ..., occupancy_status: _Optional[_Union[OccupancyStatus, str]] = ..., occupancy_percentage: _Optional[int] = ..., delay_s: _Optional[int] = ..., odometer_m: _Optional[float] = ..., bus_id_source: _Optional[str] = ..., device_seq: _Optional[int] = ...) -> None: ...
