"""Headway regularity and bunching.

Sources: TCQSM 2nd ed. headway adherence (cv_h and its LOS table, as reproduced in Hindawi DDNS
2012, article 313518, Table 1); TransitMatters data dashboard (``aggregation.py``: bunched when
headway / scheduled ≤ 0.5, on time when 0.75 < ratio < 1.25); TransitMatters bunching reports
(headway under 120 s); Bus Turnaround Coalition (under 25 % of the scheduled interval); Swiftly's
bunching and gapping (at most 75 % and at least 125 % of the scheduled headway); SFMTA's Muni
service standards (bunched under 2 min, under 1 min where the scheduled headway is 5 min or less;
gapped above the scheduled headway plus 5 min).

Ratios are compared as products (``actual <= 0.5 * scheduled``), which the Polars expressions
reproduce exactly.

``cv_h`` uses the **population** standard deviation (ddof = 0), the convention of TCQSM's
``0.5 · h̄ · (1 + cv_h²)`` wait formula and of TransitMatters' daily statistics. For headways
10, 10, 10, 28, 1, 1 against 10 it gives 0.90 (the sample deviation would give 0.986).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

BunchingDefinition = Literal["transitmatters", "btc", "tcqsm", "absolute", "swiftly", "sfmta"]
GappingDefinition = Literal["swiftly", "sfmta"]
SWIFTLY_BUNCHED_RATIO = 0.75
SWIFTLY_GAPPED_RATIO = 1.25
SFMTA_BUNCHED_S = 120.0
SFMTA_FREQUENT_BUNCHED_S = 60.0
SFMTA_FREQUENT_HEADWAY_S = 300.0  # scheduled headways up to this are "frequent" (the 1-minute rule)
SFMTA_GAP_ALLOWANCE_S = 300.0
TRANSITMATTERS_BUNCHED_RATIO = 0.5
BTC_BUNCHED_RATIO = 0.25
TCQSM_OFF_HEADWAY_FRACTION = 0.5
TRANSITMATTERS_ON_TIME_RATIOS = (0.75, 1.25)
#: TCQSM headway-adherence LOS. Each letter applies below its cut-off: the printed upper bound
#: plus 0.005, which is the table read with cv_h rounded half-up to two decimals.
HEADWAY_LOS_CUTOFFS: tuple[tuple[str, float], ...] = (
    ("A", 0.215), ("B", 0.305), ("C", 0.395), ("D", 0.525), ("E", 0.745),
)  # fmt: skip


def _paired(
    actual: Sequence[float | None], scheduled: Sequence[float | None] | float
) -> list[tuple[float, float]]:
    if isinstance(scheduled, int | float):
        plan: Sequence[float | None] = [float(scheduled)] * len(actual)
    else:
        plan = scheduled
        if len(plan) != len(actual):
            msg = f"`actual` and `scheduled` differ in length ({len(actual)} and {len(plan)})"
            raise ValueError(msg)
    pairs = []
    for h, s in zip(actual, plan, strict=True):
        if h is None or s is None or not (math.isfinite(h) and math.isfinite(s)):
            continue
        if s <= 0 or h < 0:
            msg = f"headways must be non-negative and scheduled headways positive, got {h} and {s}"
            raise ValueError(msg)
        pairs.append((float(h), float(s)))
    return pairs


def headway_cv(actual: Sequence[float | None], scheduled: Sequence[float | None] | float) -> float:
    """TCQSM coefficient of variation of headways: ``σ(actual − scheduled) / mean(scheduled)``.

    ``σ`` is the population standard deviation. ``scheduled`` is one headway for all or one per
    actual headway; pairs with a missing value are skipped.
    """
    pairs = _paired(actual, scheduled)
    if not pairs:
        msg = "cv_h needs at least one pair of actual and scheduled headways"
        raise ValueError(msg)
    deviations = [h - s for h, s in pairs]
    mean_deviation = math.fsum(deviations) / len(deviations)
    variance = math.fsum((d - mean_deviation) ** 2 for d in deviations) / len(deviations)
    return math.sqrt(variance) / (math.fsum(s for _, s in pairs) / len(pairs))


def headway_los(cv_h: float) -> str:
    """TCQSM 2nd ed. headway-adherence LOS letter (A–F) for routes with headways of 10 min or less.

    The table prints two-decimal ranges (A 0.00–0.21, B 0.22–0.30, …, F ≥ 0.75); a value is read
    as if rounded half-up to two decimals, so 0.214 is A and 0.215 is B.
    """
    if cv_h < 0 or not math.isfinite(cv_h):
        msg = f"cv_h must be a finite non-negative number, got {cv_h}"
        raise ValueError(msg)
    return next((letter for letter, cutoff in HEADWAY_LOS_CUTOFFS if cv_h < cutoff), "F")


def is_bunched(
    actual: float,
    scheduled: float,
    definition: BunchingDefinition = "transitmatters",
    *,
    threshold: float | None = None,
) -> bool:
    """Whether one headway counts as bunched under a named definition (E.4).

    - ``transitmatters``: actual / scheduled ≤ 0.5 (the default).
    - ``btc``: actual / scheduled < 0.25 (Bus Turnaround Coalition).
    - ``tcqsm``: |actual − scheduled| > 0.5 · scheduled, i.e. off headway by more than half,
      early or late (TCQSM's measure, which also counts gaps).
    - ``absolute``: actual < ``threshold``, in the headways' unit (TransitMatters reports used 120 s).
    - ``swiftly``: actual ≤ 0.75 · scheduled.
    - ``sfmta``: actual < 120 s, or < 60 s where the scheduled headway is 300 s or less (seconds).
    """
    if definition == "swiftly":
        return actual <= SWIFTLY_BUNCHED_RATIO * scheduled
    if definition == "sfmta":
        return actual < (SFMTA_FREQUENT_BUNCHED_S if scheduled <= SFMTA_FREQUENT_HEADWAY_S else SFMTA_BUNCHED_S)
    if definition == "transitmatters":
        return actual <= TRANSITMATTERS_BUNCHED_RATIO * scheduled
    if definition == "btc":
        return actual < BTC_BUNCHED_RATIO * scheduled
    if definition == "tcqsm":
        return abs(actual - scheduled) > TCQSM_OFF_HEADWAY_FRACTION * scheduled
    if definition == "absolute":
        if threshold is None:
            msg = "the `absolute` definition needs a `threshold` in the headways' unit"
            raise ValueError(msg)
        return actual < threshold
    msg = f"unknown bunching definition {definition!r}"
    raise ValueError(msg)


def is_gapped(actual: float, scheduled: float, definition: GappingDefinition = "swiftly") -> bool:
    """Whether one headway counts as a gap: ``swiftly`` actual ≥ 1.25 · scheduled; ``sfmta`` actual >
    scheduled + 300 s (seconds)."""
    if definition == "swiftly":
        return actual >= SWIFTLY_GAPPED_RATIO * scheduled
    if definition == "sfmta":
        return actual > scheduled + SFMTA_GAP_ALLOWANCE_S
    msg = f"unknown gapping definition {definition!r}"
    raise ValueError(msg)


@dataclass(frozen=True)
class Share:
    """``count`` of ``total`` headways met a condition."""

    count: int
    total: int

    @property
    def share(self) -> float:
        """``count / total``, NaN when there is nothing to count."""
        return self.count / self.total if self.total else math.nan


def bunching(
    actual: Sequence[float | None],
    scheduled: Sequence[float | None] | float,
    definition: BunchingDefinition = "transitmatters",
    *,
    threshold: float | None = None,
) -> Share:
    """How many headways are bunched under ``definition`` (see ``is_bunched``)."""
    pairs = _paired(actual, scheduled)
    count = sum(is_bunched(h, s, definition, threshold=threshold) for h, s in pairs)
    return Share(count, len(pairs))


def headway_on_time(actual: Sequence[float | None], scheduled: Sequence[float | None] | float) -> Share:
    """TransitMatters on-time headways: 0.75 < actual / scheduled < 1.25 (both bounds exclusive)."""
    lo, hi = TRANSITMATTERS_ON_TIME_RATIOS
    pairs = _paired(actual, scheduled)
    return Share(sum(lo * s < h < hi * s for h, s in pairs), len(pairs))
