"""smartcity message schemas (``smartcity.v1``) and their Protobuf/JSON codecs.

The ``.proto`` sources live in ``proto/smartcity/v1/``; the generated modules beside them are
committed and regenerated with ``make proto``.
"""

from smartcity.proto.smartcity.v1.air_pb2 import AirQualityReading
from smartcity.proto.smartcity.v1.alert_pb2 import Alert, AlertKind, AlertState, Severity
from smartcity.proto.smartcity.v1.bus_pb2 import BusTelemetry, OccupancyStatus, VehicleStopStatus
from smartcity.proto.smartcity.v1.station_pb2 import StationEvent, StationEventKind
from smartcity.proto.smartcity.v1.window_pb2 import BusWindowStats

__all__ = [
    "AirQualityReading",
    "Alert",
    "AlertKind",
    "AlertState",
    "BusTelemetry",
    "BusWindowStats",
    "OccupancyStatus",
    "Severity",
    "StationEvent",
    "StationEventKind",
    "VehicleStopStatus",
]
