"""Synthetic bus telemetry for the alert benchmarks: a fleet whose crowding cycles keep alerts opening and closing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from smartcity.proto import BusTelemetry

CAPACITY = 100
CYCLE = 40           # readings per crowding cycle of a cycling bus
CROWDED = 12         # crowded readings per cycle
CYCLING_SHARE = 10   # one bus in this many cycles between crowded and calm


@dataclass
class Fleet:
    """Synthetic buses: ``next(t_ms)`` encodes the next reading, round robin over the fleet."""

    buses: int
    cursor: int = 0

    def __post_init__(self) -> None:
        self.ids = [f"BB{i:05d}" for i in range(self.buses)]
        self.keys = [i.encode() for i in self.ids]
        self.readings = [0] * self.buses

    def passengers(self, bus: int) -> int:
        k = self.readings[bus]
        if bus % CYCLING_SHARE == 0 and (k + bus) % CYCLE < CROWDED:
            return 90
        return 20 + (k * 7 + bus) % 30

    def next(self, t_ms: int) -> tuple[bytes, bytes]:
        b = self.cursor
        self.cursor = (b + 1) % self.buses
        message = BusTelemetry(bus_id=self.ids[b], route_id=f"R{b % 20:02d}", trip_id="T1", event_time_ms=t_ms,
                               latitude=47.37, longitude=8.54, speed_mps=8.0, passengers=self.passengers(b),
                               capacity=CAPACITY, seated_capacity=40, next_stop_id="S1", stop_sequence=1)
        self.readings[b] += 1
        return self.keys[b], message.SerializeToString()


def backlog(fleet: Fleet, messages: int, event_rate: float, start_ms: int) -> Iterator[tuple[bytes, bytes]]:
    """``messages`` readings of ``fleet`` as ``(key, value)``, ``event_rate`` per second of event time from
    ``start_ms`` on."""
    for i in range(messages):
        yield fleet.next(start_ms + int(i * 1000 / event_rate))
