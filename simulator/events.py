"""The unit every simulator stream yields."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

DOMAINS: tuple[str, ...] = ("bus", "air", "station")


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One simulated message with its routing key and event time (ms since epoch, UTC)."""

    domain: str  # "bus" | "air" | "station"
    key: str  # bus_id | sensor_id | station_id
    event_time_ms: int
    message: Message  # BusTelemetry | AirQualityReading | StationEvent
