"""The alert engine's data types: its output records, its counters, and its state per stream and input partition."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from smartcity.ingest.alerts.state import Agg, Entity
from smartcity.ingest.alerts.windows import KeyedWindows, StreamClock
from smartcity.proto import Alert, BusWindowStats

STREAMS = ("bus", "air", "station")
SUBJECT_TYPES = {"bus": "bus", "air": "sensor", "station": "station"}


@dataclass(frozen=True, slots=True)
class Output:
    """A record for an output topic: ``topic_kind`` is ``alerts`` or ``bus_windows``."""

    topic_kind: str
    key: str
    message: Alert | BusWindowStats


@dataclass
class EngineStats:
    readings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    late: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    windows: int = 0
    idle_closes: int = 0
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, state) -> count
    last_late: dict[str, str] = field(default_factory=dict)  # stream -> its latest late event


@dataclass
class PartitionState:
    """Everything one input partition contributes: its devices and their open windows."""

    kind: str
    partition: int
    windows: KeyedWindows[Agg] | None
    entities: dict[str, Entity] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    meta_dirty: bool = True


@dataclass
class StreamState:
    kind: str
    clock: StreamClock
    parts: dict[int, PartitionState] = field(default_factory=dict)
    checked_clock: int | None = None
    checked_at: float = -math.inf
