"""Alert state machines (pure): thresholds with hysteresis, and device silence.

A :class:`Hysteresis` rule reads one value per reading of a subject and moves between *calm* and
*open*:

* calm -> open after ``open_after`` consecutive *hot* readings (above ``open_at``, or at or above it
  when ``inclusive``); the alert starts at the first of them;
* open -> calm after ``close_after`` consecutive *calm* readings (below ``close_below``, which is
  at most ``open_at``); the alert ends at the first of them. A reading between the two thresholds
  is neither: it resets the calm run, so a value hovering at the threshold cannot flap the alert;
* while open, a reading at or above ``critical_at`` raises the severity to critical once (an
  ``UPDATE``); the peak is the most extreme value seen while open, reported on every transition.

:class:`Silence` watches the gap between a device's readings in event time: a device is silent once
``after`` has passed since its last reading, and the alert ends with its next reading.

State lives in small mutable objects with ``dump()``/``load()`` to plain lists, so the daemon can
write them to its changelog. Alert ids are deterministic: ``<rule>:<subject>:<start_ms>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Transition = Literal["OPEN", "UPDATE", "CLOSED"]


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """The thresholds of one rule (values in the rule's unit)."""

    open_at: float
    close_below: float
    open_after: int = 1
    close_after: int = 1
    inclusive: bool = False
    critical_at: float = math.inf

    def __post_init__(self) -> None:
        if self.close_below > self.open_at:
            raise ValueError(f"close_below ({self.close_below}) must not be above open_at ({self.open_at})")
        if self.open_after < 1 or self.close_after < 1:
            raise ValueError("open_after and close_after must be at least 1")

    def hot(self, value: float) -> bool:
        return value >= self.open_at if self.inclusive else value > self.open_at


@dataclass(frozen=True, slots=True)
class Change:
    """One transition of an alert: what the daemon turns into an ``Alert`` record."""

    transition: Transition
    start_ms: int
    end_ms: int            # 0 while open
    event_time_ms: int     # the reading that caused the transition
    observed: float        # that reading's value
    peak: float
    critical: bool


class RuleState:
    """State of one rule for one subject."""

    __slots__ = ("critical", "is_open", "peak", "run", "run_peak", "run_start", "start")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.is_open = False
        self.run = 0            # consecutive hot readings (calm state) or calm readings (open state)
        self.run_start = 0      # event time of the first reading of the run
        self.run_peak = -math.inf
        self.start = 0          # start of the open alert
        self.peak = -math.inf
        self.critical = False

    @property
    def idle(self) -> bool:
        """True when there is nothing worth keeping (calm, no run in progress)."""
        return not self.is_open and self.run == 0

    def update(self, rule: Hysteresis, t_ms: int, value: float) -> Change | None:
        """Take one reading; return the transition it causes, if any."""
        if not self.is_open:
            if not rule.hot(value):
                self.run = 0
                return None
            if self.run == 0:
                self.run_start = t_ms
                self.run_peak = value
            elif value > self.run_peak:
                self.run_peak = value
            self.run += 1
            if self.run < rule.open_after:
                return None
            self.is_open, self.run = True, 0
            self.start, self.peak = self.run_start, self.run_peak
            self.critical = self.peak >= rule.critical_at
            return Change("OPEN", self.start, 0, t_ms, value, self.peak, self.critical)
        if value < rule.close_below:
            if self.run == 0:
                self.run_start = t_ms
            self.run += 1
            if self.run < rule.close_after:
                return None
            change = Change("CLOSED", self.start, self.run_start, t_ms, value, self.peak, self.critical)
            self._reset()
            return change
        self.run = 0
        if value > self.peak:
            self.peak = value
        if not self.critical and value >= rule.critical_at:
            self.critical = True
            return Change("UPDATE", self.start, 0, t_ms, value, self.peak, True)
        return None

    def dump(self) -> list[float | int | None]:
        return [int(self.is_open), self.run, self.run_start, _num(self.run_peak), self.start, _num(self.peak),
                int(self.critical)]

    @classmethod
    def load(cls, data: Sequence[float | int | None]) -> RuleState:
        state = cls()
        is_open, run, run_start, run_peak, start, peak, critical = data
        state.is_open, state.critical = bool(is_open), bool(critical)
        state.run_peak = -math.inf if run_peak is None else float(run_peak)
        state.peak = -math.inf if peak is None else float(peak)
        state.run, state.run_start, state.start = int(run or 0), int(run_start or 0), int(start or 0)
        return state


def _num(x: float) -> float | None:
    return None if math.isinf(x) else x


class Silence:
    """Event-time silence of one device: ``last`` reading, and whether the silence alert is open."""

    __slots__ = ("is_open", "last")

    def __init__(self, last: int = 0, is_open: bool = False) -> None:
        self.last = last
        self.is_open = is_open

    def reading(self, t_ms: int, after_ms: int) -> list[Change]:
        """A reading at ``t_ms``: ends an open silence; a gap of ``after_ms`` or more that nobody saw
        open (it passed between two checks) opens and closes at once, so every gap is reported."""
        out: list[Change] = []
        if self.last and t_ms > self.last:
            gap = t_ms - self.last
            if gap >= after_ms:
                if not self.is_open:
                    out.append(self._open(after_ms))
                out.append(Change("CLOSED", self.last, t_ms, t_ms, gap / 1000, gap / 1000, False))
                self.is_open = False
        if t_ms > self.last:
            self.last = t_ms
        return out

    def check(self, clock_ms: int, after_ms: int) -> Change | None:
        """Open when the event clock has run ``after_ms`` past the last reading."""
        if self.is_open or not self.last or clock_ms - self.last < after_ms:
            return None
        return self._open(after_ms)

    def _open(self, after_ms: int) -> Change:
        self.is_open = True
        seconds = after_ms / 1000
        return Change("OPEN", self.last, 0, self.last + after_ms, seconds, seconds, False)

    def dump(self) -> list[int]:
        return [self.last, int(self.is_open)]

    @classmethod
    def load(cls, data: list[int]) -> Silence:
        return cls(int(data[0]), bool(data[1]))


def alert_id(rule: str, subject: str, start_ms: int) -> str:
    """Deterministic id of one alert episode: the same condition from the same start, the same id."""
    return f"{rule}:{subject}:{start_ms}"
