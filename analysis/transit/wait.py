"""Passenger wait times from headways: TfL Excess Wait Time (EWT).

Sources: TfL FOI-0791-1920 (EWT = AWT − SWT); TfL route reports FOI-2860-2324 (high-frequency
routes, 5 or more buses an hour); the uniform-arrival formula as in the Optibus EWT explainer,
equivalent to TCQSM's ``0.5 · h̄ · (1 + cv_h²)`` with the population variance of headways.

::

    AWT = Σ h_k² / (2 Σ h_k)        SWT = Σ s_k² / (2 Σ s_k)        EWT = AWT − SWT

Passengers are assumed to arrive at random, so a long gap weighs more than a short one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WaitTimes:
    """Actual, scheduled and excess waiting time, in the unit of the headways given."""

    awt: float
    swt: float

    @property
    def ewt(self) -> float:
        """Excess wait time, ``AWT − SWT``."""
        return self.awt - self.swt


def expected_wait(headways: Sequence[float | None]) -> float:
    """Mean wait of a randomly arriving passenger, ``Σ h² / (2 Σ h)``; missing headways are skipped."""
    values = [float(h) for h in headways if h is not None and math.isfinite(float(h))]
    if any(h < 0 for h in values):
        msg = "headways cannot be negative"
        raise ValueError(msg)
    total = sum(values)
    if total <= 0:
        msg = "the expected wait needs at least one positive headway"
        raise ValueError(msg)
    return math.fsum(h * h for h in values) / (2 * total)


def wait_times(
    actual_headways: Sequence[float | None], scheduled_headways: Sequence[float | None]
) -> WaitTimes:
    """AWT, SWT and EWT (TfL Quality of Service Indicator) from observed and scheduled headways.

    The two sequences may differ in length: each is the list of headways over the same period
    at one timing point. Units are those of the input (TfL reports minutes).
    """
    return WaitTimes(expected_wait(actual_headways), expected_wait(scheduled_headways))
