"""Which device messages are replays, by their ``device_seq`` (pure, no I/O).

A device numbers its messages 1, 2, 3, ... (any increasing numbers will do). Per device we keep the
highest number seen and the *holes* below it: numbers skipped when a later one arrived first. A
number is new when it is above the highest or inside a hole (it arrived late: after a dropped link, a
go-back resend, a gateway restart); anything else is a replay. So messages that overtake each other
are never mistaken for replays, and a replay is caught however late it comes, except:

- holes further than ``window`` below the highest are given up (a message that late counts as a
  replay), and at most ``max_holes`` ranges are kept per device (the oldest go first);
- the first number seen of a device opens a hole of ``window`` below it, since what came before is
  unknown: a replay of a message from before that first one is taken as new. The gateway, whose marks
  live in memory, relies on the sink for those; the sink's marks are committed with the lake and see
  every device from its first message on.

The state is plain JSON: ``{device: [highest, [[low, high], ...]]}``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

WINDOW = 100_000
MAX_HOLES = 64


@dataclass(slots=True)
class DeviceSeq:
    """The highest number of one device and the holes below it (sorted, disjoint, inclusive ranges)."""

    highest: int
    holes: list[list[int]] = field(default_factory=list)

    def take(self, seq: int, window: int = WINDOW, max_holes: int = MAX_HOLES) -> bool:
        """True when ``seq`` is new (and remember it); False for a replay."""
        if seq > self.highest:
            if seq > self.highest + 1:
                self.holes.append([max(self.highest + 1, seq - window), seq - 1])
            self.highest = seq
            self._prune(window, max_holes)
            return True
        i = bisect.bisect_right(self.holes, [seq, float("inf")]) - 1
        if i < 0 or not self.holes[i][0] <= seq <= self.holes[i][1]:
            return False
        low, high = self.holes[i]
        pieces = [r for r in ([low, seq - 1], [seq + 1, high]) if r[0] <= r[1]]
        self.holes[i:i + 1] = pieces
        return True

    def copy(self) -> DeviceSeq:
        return DeviceSeq(self.highest, [list(h) for h in self.holes])

    def _prune(self, window: int, max_holes: int) -> None:
        floor = self.highest - window
        while self.holes and self.holes[0][1] < floor:
            self.holes.pop(0)
        if self.holes and self.holes[0][0] < floor:
            self.holes[0][0] = floor
        if len(self.holes) > max_holes:
            del self.holes[:len(self.holes) - max_holes]


@dataclass
class SeqMarks:
    """Replay marks of many devices."""

    devices: dict[str, DeviceSeq] = field(default_factory=dict)
    window: int = WINDOW

    def take(self, device: str, seq: int) -> bool:
        """True when message ``seq`` of ``device`` is new (and remember it); False for a replay."""
        mark = self.devices.get(device)
        if mark is None:
            self.devices[device] = DeviceSeq(seq, [[max(1, seq - self.window), seq - 1]] if seq > 1 else [])
            return True
        return mark.take(seq, self.window)

    def keep(self, devices: Iterable[str], seqs: Iterable[int | None]) -> tuple[list[bool], set[str]]:
        """For rows in order: whether each is new (unnumbered rows always are), and the devices touched."""
        kept: list[bool] = []
        touched: set[str] = set()
        for device, seq in zip(devices, seqs, strict=True):
            if seq is None:
                kept.append(True)
                continue
            touched.add(device)
            kept.append(self.take(device, seq))
        return kept, touched

    def to_json(self, devices: Iterable[str] | None = None) -> dict[str, Any]:
        names = self.devices if devices is None else devices
        return {d: [self.devices[d].highest, [list(h) for h in self.devices[d].holes]] for d in names}

    @classmethod
    def from_json(cls, data: dict[str, Any], window: int = WINDOW) -> SeqMarks:
        """Marks from :meth:`to_json` (a bare number is a device's highest with no holes); ValueError when malformed."""
        devices = {}
        for device, value in data.items():
            if isinstance(value, int) and not isinstance(value, bool):
                devices[str(device)] = DeviceSeq(value)
                continue
            highest, holes = value
            devices[str(device)] = DeviceSeq(int(highest), [[int(lo), int(hi)] for lo, hi in holes])
        return cls(devices, window)
