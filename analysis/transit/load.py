"""Passenger load: load factor and TCQSM passenger-load LOS.

Sources: load factor = passengers on board / seats (Rock Region METRO: overcrowded above 1.25, the
widely cited industry standard); TCQSM 2nd ed. Exhibit 3-26 bus passenger-load LOS. The LOS
thresholds are from the standard's text as recalled in the domain notes (A ≤ 0.50, B ≤ 0.75,
C ≤ 1.00, D ≤ 1.25, E ≤ 1.50, F above): check them against the exhibit before quoting results.

GTFS-RT ``occupancy_percentage`` is relative to total (seated + standing) capacity, not to seats:
it is not a load factor.
"""

from __future__ import annotations

import math

OVERCROWDED_LOAD_FACTOR = 1.25
#: TCQSM bus passenger-load LOS. Each letter applies below its cut-off: the printed upper bound
#: plus 0.005, which is the table read with the load factor rounded half-up to two decimals.
LOAD_LOS_CUTOFFS: tuple[tuple[str, float], ...] = (
    ("A", 0.505), ("B", 0.755), ("C", 1.005), ("D", 1.255), ("E", 1.505),
)  # fmt: skip


def load_factor(passengers: float, seats: float) -> float:
    """Passengers on board per seat."""
    if seats <= 0:
        msg = f"`seats` must be positive, got {seats}"
        raise ValueError(msg)
    if passengers < 0:
        msg = f"`passengers` cannot be negative, got {passengers}"
        raise ValueError(msg)
    return passengers / seats


def passenger_load_los(load: float) -> str:
    """TCQSM passenger-load LOS letter (A–F) from a load factor (passengers per seat).

    The exhibit prints two-decimal ranges (A 0.00–0.50, B 0.51–0.75, …, F > 1.50); a value is read
    as if rounded half-up to two decimals, so 0.504 is A and 0.505 is B.
    """
    if load < 0 or not math.isfinite(load):
        msg = f"the load factor must be a finite non-negative number, got {load}"
        raise ValueError(msg)
    return next((letter for letter, cutoff in LOAD_LOS_CUTOFFS if load < cutoff), "F")


def is_overcrowded(load: float, threshold: float = OVERCROWDED_LOAD_FACTOR) -> bool:
    """Load factor above ``threshold`` (1.25 by default)."""
    return load > threshold
