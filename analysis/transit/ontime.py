"""On-time performance (schedule adherence) with named agency windows.

Deviation = actual − scheduled time, in minutes: negative is early, positive late. An event is
on time when ``early <= deviation <= late`` (both bounds inclusive). OTP = on-time events / all
measured events. Windows differ by agency (domain notes E.1), so the window is a parameter:

- ``tcqsm`` 0 to +5 min (TCQSM 2nd ed.; early is not on time); ``marta`` the same.
- ``nyct`` −1 to +5 (NYC Transit buses), ``prt`` (Pittsburgh Regional Transit) and ``kcm``
  (King County Metro) the same; this is the default window.
- ``tfl`` −2.5 to +5 (TfL low-frequency routes).
- ``wmata`` −2 to +7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class OnTimeWindow:
    """Inclusive bounds of the on-time window, minutes relative to schedule (``early`` ≤ 0 ≤ ``late``)."""

    early: float
    late: float

    def __post_init__(self) -> None:
        if self.early > self.late:
            msg = f"the window's `early` bound ({self.early}) lies after its `late` bound ({self.late})"
            raise ValueError(msg)

    def classify(self, deviation: float) -> Literal["early", "on_time", "late"]:
        """Where a deviation (minutes) falls relative to the window."""
        if deviation < self.early:
            return "early"
        return "late" if deviation > self.late else "on_time"


OTP_PRESETS: dict[str, OnTimeWindow] = {
    "tcqsm": OnTimeWindow(0.0, 5.0),
    "marta": OnTimeWindow(0.0, 5.0),
    "nyct": OnTimeWindow(-1.0, 5.0),
    "prt": OnTimeWindow(-1.0, 5.0),
    "kcm": OnTimeWindow(-1.0, 5.0),
    "tfl": OnTimeWindow(-2.5, 5.0),
    "wmata": OnTimeWindow(-2.0, 7.0),
}
DEFAULT_WINDOW = OTP_PRESETS["nyct"]


def resolve_window(window: str | OnTimeWindow) -> OnTimeWindow:
    """A preset name or an explicit window."""
    if isinstance(window, OnTimeWindow):
        return window
    try:
        return OTP_PRESETS[window]
    except KeyError:
        msg = f"unknown on-time window {window!r}; presets: {', '.join(OTP_PRESETS)}"
        raise ValueError(msg) from None


@dataclass(frozen=True)
class OnTimePerformance:
    """Counts of early, on-time and late events among the measured ones."""

    early: int
    on_time: int
    late: int

    @property
    def total(self) -> int:
        """Number of measured events."""
        return self.early + self.on_time + self.late

    @property
    def share(self) -> float:
        """On-time share (OTP), NaN when nothing was measured."""
        return self.on_time / self.total if self.total else math.nan


def on_time_performance(
    deviations: Sequence[float | None],
    window: str | OnTimeWindow = DEFAULT_WINDOW,
    *,
    whole_minutes: bool = False,
) -> OnTimePerformance:
    """On-time performance of schedule deviations (minutes, actual − scheduled).

    ``window`` is a preset name (``OTP_PRESETS``) or an ``OnTimeWindow``; the default is −1/+5 min.
    With ``whole_minutes`` deviations are truncated toward zero to whole minutes first, as agencies
    that count 5:59 late as "5 minutes" do. ``None`` and NaN deviations are not measured events.
    """
    bounds = resolve_window(window)
    counts = {"early": 0, "on_time": 0, "late": 0}
    for deviation in deviations:
        if deviation is None or not math.isfinite(deviation):
            continue
        value = float(math.trunc(deviation)) if whole_minutes else float(deviation)
        counts[bounds.classify(value)] += 1
    return OnTimePerformance(**counts)
