"""Settings of the alerting daemon (``[alerts]`` in smartcity.toml, ``SMARTCITY_ALERTS_*``).

Durations take seconds (``90``, ``0.5``) or a number with a unit: ``250ms``, ``20s``, ``20m``,
``1h``, ``1d``. Thresholds come in pairs: an alert opens at the first and closes only below the
second (hysteresis), after the stated number of consecutive readings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from smartcity.core.durations import parse_duration

StreamKind = Literal["bus", "air", "station"]
STREAM_KINDS: tuple[StreamKind, ...] = ("bus", "air", "station")


Duration = Annotated[float, BeforeValidator(parse_duration)]


class AlertSettings(BaseModel):
    """Windows, thresholds and delivery of the live alerting consumer."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    group: str = Field(default="smartcity-alerts", min_length=1, description="consumer group id")
    instance_id: str | None = Field(
        default=None, description="static member id (e.g. the host name): a restarted member takes its partitions "
        "back at once and aborts its predecessor's open transaction; two live members must not share it")
    streams: list[StreamKind] = Field(default_factory=lambda: list(STREAM_KINDS),
                                      description="input topic kinds to read: bus, air, station")

    window: Duration = Field(default=1200.0, gt=0, le=86_400, description="tumbling window of bus statistics")
    grace: Duration = Field(default=30.0, ge=0, le=86_400, description="late events within this are still counted")
    idle_timeout: Duration = Field(default=60.0, gt=0, le=86_400,
                                   description="wall-clock time without a watermark advance that closes open windows")
    commit_interval: Duration = Field(default=0.1, ge=0.001, le=60,
                                      description="longest time a transaction (outputs, state, offsets) stays open")

    crowding_ratio: float = Field(default=0.8, gt=0, le=5, description="occupancy (passengers / capacity) above "
                                  "which a reading is crowded")
    crowding_close_ratio: float | None = Field(default=None, gt=0, le=5, description="occupancy below which a "
                                               "reading is calm [default: crowding_ratio - 0.1]")
    crowding_readings: int = Field(default=3, ge=1, le=10_000, description="consecutive crowded readings to open")
    crowding_calm_readings: int = Field(default=3, ge=1, le=10_000, description="consecutive calm readings to close")
    crowding_critical_ratio: float = Field(default=1.0, gt=0, le=5, description="occupancy that makes it critical")

    air_bucket: Duration = Field(default=3600.0, gt=0, le=86_400,
                                 description="averaging period of the NowCast and the NO2/O3 means (EPA: 1h)")
    aqi_level: int = Field(default=151, ge=1, le=1000, description="PM NowCast AQI at or above which a sensor alerts")
    aqi_close_level: int | None = Field(default=None, ge=0, le=1000,
                                        description="AQI below which the alert closes [default: aqi_level - 10]")
    aqi_critical_level: int = Field(default=201, ge=1, le=1000, description="AQI that makes it critical")
    no2_ppb: float = Field(default=361.0, gt=0, description="hourly NO2 at or above which a sensor alerts (AQI 151)")
    o3_ppb: float = Field(default=165.0, gt=0, description="hourly O3 at or above which a sensor alerts (1-h AQI 151)")
    air_close_ratio: float = Field(default=0.9, gt=0, le=1,
                                   description="NO2/O3 alerts close below this fraction of their threshold")
    air_calm_buckets: int = Field(default=1, ge=1, le=1000, description="consecutive calm buckets to close")

    delay_s: float = Field(default=300.0, gt=0, description="departure delay above which a departure is late (s)")
    delay_close_s: float | None = Field(default=None, ge=0, description="delay below which a departure is on "
                                        "time (s) [default: 0.6 x delay_s]")
    delay_calm_departures: int = Field(default=2, ge=1, le=1000,
                                       description="consecutive on-time departures (per station and route) to close")
    waiting_passengers: int = Field(default=150, ge=1, description="waiting passengers above which a station alerts")
    waiting_close_passengers: int | None = Field(default=None, ge=0, description="waiting passengers below which "
                                                 "it is calm [default: 2/3 of waiting_passengers]")
    waiting_calm_events: int = Field(default=2, ge=1, le=1000, description="consecutive calm station events to close")

    silence_after: Duration = Field(default=600.0, gt=0, le=30 * 86_400,
                                    description="event time without data after which a device is silent")
    silence_streams: list[StreamKind] = Field(default_factory=lambda: list(STREAM_KINDS[1:]),
                                              description="kinds of device watched for silence (buses leave service, "
                                              "so they are not watched by default)")

    metrics_port: int | None = Field(default=None, ge=0, le=65535, description="Prometheus /metrics port")
    metrics_host: str = Field(default="127.0.0.1", min_length=1,
                              description="address the /metrics port binds (0.0.0.0: every interface, "
                              "e.g. inside a container)")
    log_format: str = Field(default="text", pattern="^(text|json)$", description="text or json (structured)")

    @model_validator(mode="after")
    def _check_pairs(self) -> AlertSettings:
        pairs = [
            ("crowding_close_ratio", "crowding_ratio"),
            ("aqi_close_level", "aqi_level"),
            ("delay_close_s", "delay_s"),
            ("waiting_close_passengers", "waiting_passengers"),
        ]
        for low, high in pairs:
            value = getattr(self, low)
            if value is not None and value > getattr(self, high):
                raise ValueError(f"{low} ({value}) must not be above {high} ({getattr(self, high)})")
        for name in ("window", "air_bucket", "grace", "silence_after"):
            ms = getattr(self, name) * 1000
            if abs(ms - round(ms)) > 1e-6:
                raise ValueError(f"{name} must be a whole number of milliseconds, got {getattr(self, name)} s")
        return self

    @property
    def crowding_close(self) -> float:
        """Occupancy below which a reading is calm."""
        if self.crowding_close_ratio is not None:
            return self.crowding_close_ratio
        return max(0.0, round(self.crowding_ratio - 0.1, 6))

    @property
    def aqi_close(self) -> int:
        return self.aqi_close_level if self.aqi_close_level is not None else max(0, self.aqi_level - 10)

    @property
    def delay_close(self) -> float:
        return self.delay_close_s if self.delay_close_s is not None else 0.6 * self.delay_s

    @property
    def waiting_close(self) -> int:
        if self.waiting_close_passengers is not None:
            return self.waiting_close_passengers
        return round(self.waiting_passengers * 2 / 3)

    @property
    def window_ms(self) -> int:
        return round(self.window * 1000)

    @property
    def grace_ms(self) -> int:
        return round(self.grace * 1000)

    @property
    def air_bucket_ms(self) -> int:
        return round(self.air_bucket * 1000)

    @property
    def silence_after_ms(self) -> int:
        return round(self.silence_after * 1000)
