"""Event-time tumbling windows, per-partition watermarks and idle detection (pure, no I/O).

Windows are ``[start, start + size)`` with ``start`` a multiple of ``size`` since the Unix epoch, one
per key (bus, sensor). Time is tracked per input partition: a partition's watermark is the largest
event time it has carried. A stream's watermark is the smallest watermark of its *active*
partitions, where a partition is active until it has gone ``idle_timeout`` of wall-clock time
without advancing; a partition that has carried nothing yet holds the stream back until then. A
partition with messages still waiting in its log is never idle (:meth:`StreamClock.hold`), however
long the consumer takes to reach them. So one partition racing ahead (a consumer catching up
unevenly, or busy with another partition's backlog) does not make the others' events late, and one
quiet partition does not stop the clock.

A window closes, for good, when the stream watermark reaches ``end + grace``; events for a closed
window are *late*: counted and dropped, never reopening it. When every partition of the stream is
idle, no watermark will close the open windows, so they all close on the wall clock (the
idle close Quix Streams lacks); their events are late from then on as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

A = TypeVar("A")

NEVER = -(2**62)


def window_start(t_ms: int, size_ms: int) -> int:
    """Start of the window holding ``t_ms`` (aligned to the epoch, so to midnight UTC when it divides a day)."""
    return t_ms - t_ms % size_ms


@dataclass(slots=True)
class PartitionClock:
    """Event time of one input partition: its watermark, and when (wall clock) it last advanced."""

    watermark: int | None = None
    advanced_at: float = 0.0

    def observe(self, t_ms: int, now: float) -> bool:
        """Take an event time; True when it advanced the watermark."""
        if self.watermark is None or t_ms > self.watermark:
            self.watermark = t_ms
            self.advanced_at = now
            return True
        return False


@dataclass
class StreamClock:
    """The watermark of one stream (topic) over the partitions this member owns."""

    idle_timeout_s: float
    partitions: dict[int, PartitionClock] = field(default_factory=dict)

    def assign(self, partition: int, watermark: int | None, now: float) -> None:
        """Track ``partition`` from ``now`` on; ``watermark`` is its restored one (None when new)."""
        self.partitions[partition] = PartitionClock(watermark, now)

    def revoke(self, partition: int) -> None:
        self.partitions.pop(partition, None)

    def observe(self, partition: int, t_ms: int, now: float) -> bool:
        clock = self.partitions.get(partition)
        if clock is None:
            clock = self.partitions[partition] = PartitionClock(None, now)
        return clock.observe(t_ms, now)

    def hold(self, partition: int, now: float) -> None:
        """``partition`` has messages waiting in its log: it is not idle, whatever its event time."""
        clock = self.partitions.get(partition)
        if clock is not None:
            clock.advanced_at = now

    def _active(self, now: float) -> list[PartitionClock]:
        return [c for c in self.partitions.values() if now - c.advanced_at < self.idle_timeout_s]

    def watermark(self, now: float) -> int | None:
        """Smallest watermark of the active partitions; None while an active one has carried nothing,
        or when none is active (then the stream is idle)."""
        active = self._active(now)
        if not active or any(c.watermark is None for c in active):
            return None
        return min(c.watermark for c in active)  # type: ignore[type-var]

    def idle(self, now: float) -> bool:
        """True when no partition advanced for ``idle_timeout`` (and there is at least one)."""
        return bool(self.partitions) and not self._active(now)

    def idle_for(self, now: float) -> float:
        """Wall-clock seconds since any partition last advanced."""
        if not self.partitions:
            return 0.0
        return now - max(c.advanced_at for c in self.partitions.values())

    def latest(self) -> int | None:
        """Largest watermark of any partition."""
        marks = [c.watermark for c in self.partitions.values() if c.watermark is not None]
        return max(marks) if marks else None

    def event_clock(self, now: float) -> int | None:
        """Event time as the silence rule sees it: the watermark; once the whole stream has been idle for
        ``idle_timeout``, the latest event time plus the wall-clock time since (time passes for a quiet
        stream too, so a device that stops along with every other still goes silent)."""
        if self.idle(now):
            latest = self.latest()
            return None if latest is None else latest + round(self.idle_for(now) * 1000)
        return self.watermark(now)


@dataclass(slots=True)
class ClosedWindow(Generic[A]):
    key: str
    start: int
    end: int
    agg: A
    on_idle: bool = False


@dataclass
class KeyedWindows(Generic[A]):
    """Open tumbling windows of one input partition, keyed by device id.

    ``closed_through`` is the event time up to which this partition's windows have been closed: a
    window with ``end + grace <= closed_through`` has been emitted, so its events are late.
    """

    size_ms: int
    grace_ms: int
    new_agg: Callable[[], A]
    closed_through: int = NEVER
    by_key: dict[str, dict[int, A]] = field(default_factory=dict)
    by_start: dict[int, set[str]] = field(default_factory=dict)

    def slot(self, key: str, t_ms: int) -> A | None:
        """The aggregate of ``key``'s window holding ``t_ms``, created when needed; None when late."""
        start = t_ms - t_ms % self.size_ms
        if start + self.size_ms + self.grace_ms <= self.closed_through:
            return None
        windows = self.by_key.get(key)
        if windows is None:
            windows = self.by_key[key] = {}
        agg = windows.get(start)
        if agg is None:
            agg = windows[start] = self.new_agg()
            keys = self.by_start.get(start)
            if keys is None:
                keys = self.by_start[start] = set()
            keys.add(key)
        return agg

    def load(self, key: str, windows: dict[int, A]) -> None:
        """Put back ``key``'s open windows (state restore)."""
        if not windows:
            return
        self.by_key[key] = dict(windows)
        for start in windows:
            self.by_start.setdefault(start, set()).add(key)

    def drop(self, key: str) -> None:
        for start in self.by_key.pop(key, {}):
            keys = self.by_start.get(start)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_start[start]

    def windows_of(self, key: str) -> dict[int, A]:
        return self.by_key.get(key, {})

    def close_until(self, watermark: int) -> list[ClosedWindow[A]]:
        """Close the windows with ``end + grace <= watermark`` (oldest first)."""
        if watermark <= self.closed_through:
            return []
        self.closed_through = watermark
        limit = watermark - self.size_ms - self.grace_ms
        due = sorted(s for s in self.by_start if s <= limit)
        return list(self._pop(due, on_idle=False))

    def close_all(self) -> list[ClosedWindow[A]]:
        """Close every open window (the stream went idle)."""
        due = sorted(self.by_start)
        if due:
            self.closed_through = max(self.closed_through, due[-1] + self.size_ms + self.grace_ms)
        return list(self._pop(due, on_idle=True))

    def _pop(self, starts: list[int], on_idle: bool) -> Iterator[ClosedWindow[A]]:
        for start in starts:
            for key in sorted(self.by_start.pop(start)):
                windows = self.by_key[key]
                agg = windows.pop(start)
                if not windows:
                    del self.by_key[key]
                yield ClosedWindow(key, start, start + self.size_ms, agg, on_idle)

    @property
    def open_windows(self) -> int:
        return sum(len(keys) for keys in self.by_start.values())
