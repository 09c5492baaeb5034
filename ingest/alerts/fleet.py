"""Fleet figures of a bus window, merged by window from the per-bus window records (pure).

A member of ``smartcity alerts`` owns some partitions of the bus topic, so it sees some of the
buses: fleet figures computed there would be one number per member, each for a slice of the fleet.
So the daemon publishes per-bus window records only (``BusWindowStats.fleet_*`` stay unset), and
the fleet figures are a second stage keyed by window start, computed wherever every record of a
window is seen: :class:`FleetWindows` in the live view (updated as the records arrive, whichever
member sent them) and the ``bus_window_stats`` mart (from the lake). Both follow one definition,
the mart's: ``buses`` reporting in the window, and the mean passengers over every reading of every
bus (Σ passengers / Σ readings, from integer sums, so the order of arrival does not matter). A bus's
record seen twice (a replay) counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smartcity.proto.smartcity.v1.window_pb2 import BusWindowStats


@dataclass(frozen=True)
class FleetFigures:
    window_start_ms: int
    window_end_ms: int
    buses: int
    passengers_mean: float


def passengers_total(m: BusWindowStats) -> int:
    """Σ passengers of the bus's readings in the window: the record's mean times its readings (the
    mean is that integer sum divided by the count, so rounding recovers the sum exactly)."""
    return round(m.passengers_mean * m.readings)


@dataclass
class _Window:
    end_ms: int
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)  # bus -> (readings, Σ passengers)

    def figures(self, start_ms: int) -> FleetFigures:
        readings = sum(r for r, _ in self.parts.values())
        total = sum(t for _, t in self.parts.values())
        return FleetFigures(start_ms, self.end_ms, len(self.parts), total / readings if readings else 0.0)


@dataclass
class FleetWindows:
    """The per-bus parts of the newest ``keep`` windows, keyed by window start."""

    keep: int = 3
    windows: dict[int, _Window] = field(default_factory=dict)

    def add(self, m: BusWindowStats) -> FleetFigures | None:
        """Count one bus window; the figures of its window, or None for a window older than those kept."""
        start = m.window_start_ms
        if start not in self.windows:
            if len(self.windows) >= self.keep and start < min(self.windows):
                return None
            self.windows[start] = _Window(m.window_end_ms)
            for old in sorted(self.windows)[:-self.keep]:
                del self.windows[old]
        window = self.windows[start]
        window.parts[m.bus_id] = (m.readings, passengers_total(m))
        return window.figures(start)

    def latest(self) -> FleetFigures | None:
        if not self.windows:
            return None
        start = max(self.windows)
        return self.windows[start].figures(start)

    def dump(self) -> list[Any]:
        """A JSON-ready form (kept with the live view's fleet record, so a restart goes on counting)."""
        return [[start, w.end_ms, [[bus, r, t] for bus, (r, t) in sorted(w.parts.items())]]
                for start, w in sorted(self.windows.items())]

    @classmethod
    def load(cls, dumped: Iterable[Any], keep: int = 3) -> FleetWindows:
        return cls(keep, {int(start): _Window(int(end), {str(bus): (int(r), int(t)) for bus, r, t in parts})
                          for start, end, parts in dumped})


def fleet_by_window(records: Iterable[BusWindowStats]) -> dict[int, FleetFigures]:
    """Fleet figures of every window in ``records`` (however many members produced them)."""
    merged = FleetWindows(keep=1 << 62)
    for m in records:
        merged.add(m)
    return {start: w.figures(start) for start, w in merged.windows.items()}
