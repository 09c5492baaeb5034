from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AlertKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_KIND_UNSPECIFIED: _ClassVar[AlertKind]
    CROWDING: _ClassVar[AlertKind]
    AIR_QUALITY: _ClassVar[AlertKind]
    SERVICE_DELAY: _ClassVar[AlertKind]
    STATION_CROWDING: _ClassVar[AlertKind]
    SILENCE: _ClassVar[AlertKind]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    INFO: _ClassVar[Severity]
    WARNING: _ClassVar[Severity]
    CRITICAL: _ClassVar[Severity]

class AlertState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATE_UNSPECIFIED: _ClassVar[AlertState]
    OPEN: _ClassVar[AlertState]
    UPDATE: _ClassVar[AlertState]
    CLOSED: _ClassVar[AlertState]
ALERT_KIND_UNSPECIFIED: AlertKind
CROWDING: AlertKind
AIR_QUALITY: AlertKind
SERVICE_DELAY: AlertKind
STATION_CROWDING: AlertKind
SILENCE: AlertKind
SEVERITY_UNSPECIFIED: Severity
INFO: Severity
WARNING: Severity
CRITICAL: Severity
ALERT_STATE_UNSPECIFIED: AlertState
OPEN: AlertState
UPDATE: AlertState
CLOSED: AlertState

class Alert(_message.Message):
    __slots__ = ("alert_id", "kind", "severity", "state", "subject_id", "subject_type", "start_time_ms", "end_time_ms", "window_start_ms", "window_end_ms", "observed_value", "peak_value", "threshold", "unit", "message", "route_id", "event_time_ms")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_MS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_MS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_VALUE_FIELD_NUMBER: _ClassVar[int]
    PEAK_VALUE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    kind: AlertKind
    severity: Severity
    state: AlertState
    subject_id: str
    subject_type: str
    start_time_ms: int
    end_time_ms: int
    window_start_ms: int
    window_end_ms: int
    observed_value: float
    peak_value: float
    threshold: float
    unit: str
    message: str
    route_id: str
    event_time_ms: int
    def __init__(self, alert_id: _Optional[str] = ..., kind: _Optional[_Union[AlertKind, str]] = ..., severity: _Optional[_Union[Severity, str]] = ..., state: _Optional[_Union[AlertState, str]] = ..., subject_id: _Optional[str] = ..., subject_type: _Optional[str] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., window_start_ms: _Optional[int] = ..., window_end_ms: _Optional[int] = ..., observed_value: _Optional[float] = ..., peak_value: _Optional[float] = ..., threshold: _Optional[float] = ..., unit: _Optional[str] = ..., message: _Optional[str] = ..., route_id: _Optional[str] = ..., event_time_ms: _Optional[int] = ...) -> None: ...
