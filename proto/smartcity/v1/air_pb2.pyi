from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AirQualityReading(_message.Message):
    __slots__ = ("sensor_id", "event_time_ms", "latitude", "longitude", "pm25_ugm3", "pm10_ugm3", "no2_ppb", "o3_ppb", "so2_ppb", "co_ppm", "temperature_c", "humidity_pct", "wind_speed_mps", "wind_dir_deg", "device_seq")
    SENSOR_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    PM25_UGM3_FIELD_NUMBER: _ClassVar[int]
    PM10_UGM3_FIELD_NUMBER: _ClassVar[int]
    NO2_PPB_FIELD_NUMBER: _ClassVar[int]
    O3_PPB_FIELD_NUMBER: _ClassVar[int]
    SO2_PPB_FIELD_NUMBER: _ClassVar[int]
    CO_PPM_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    HUMIDITY_PCT_FIELD_NUMBER: _ClassVar[int]
    WIND_SPEED_MPS_FIELD_NUMBER: _ClassVar[int]
    WIND_DIR_DEG_FIELD_NUMBER: _ClassVar[int]
    DEVICE_SEQ_FIELD_NUMBER: _ClassVar[int]
    sensor_id: str
    event_time_ms: int
    latitude: float
    longitude: float
    pm25_ugm3: float
    pm10_ugm3: float
    no2_ppb: float
    o3_ppb: float
    so2_ppb: float
    co_ppm: float
    temperature_c: float
    humidity_pct: float
    wind_speed_mps: float
    wind_dir_deg: float
    device_seq: int
    def __init__(self, sensor_id: _Optional[str] = ..., event_time_ms: _Optional[int] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., pm25_ugm3: _Optional[float] = ..., pm10_ugm3: _Optional[float] = ..., no2_ppb: _Optional[float] = ..., o3_ppb: _Optional[float] = ..., so2_ppb: _Optional[float] = ..., co_ppm: _Optional[float] = ..., temperature_c: _Optional[float] = ..., humidity_pct: _Optional[float] = ..., wind_speed_mps: _Optional[float] = ..., wind_dir_deg: _Optional[float] = ..., device_seq: _Optional[int] = ...) -> None: ...
