"""Polars expressions for the transit KPIs, row-wise or as group aggregations.

Each expression follows the scalar function named in its docstring and uses the same float
comparisons, so the two agree exactly. Nulls and NaN stay null (row-wise) or are left out
(aggregations), as the scalar functions skip them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from smartcity.analysis.transit.headways import (
    BTC_BUNCHED_RATIO,
    HEADWAY_LOS_CUTOFFS,
    SFMTA_BUNCHED_S,
    SFMTA_FREQUENT_BUNCHED_S,
    SFMTA_FREQUENT_HEADWAY_S,
    SFMTA_GAP_ALLOWANCE_S,
    SWIFTLY_BUNCHED_RATIO,
    SWIFTLY_GAPPED_RATIO,
    TCQSM_OFF_HEADWAY_FRACTION,
    TRANSITMATTERS_BUNCHED_RATIO,
    TRANSITMATTERS_ON_TIME_RATIOS,
    BunchingDefinition,
    GappingDefinition,
)
from smartcity.analysis.transit.load import LOAD_LOS_CUTOFFS
from smartcity.analysis.transit.ontime import DEFAULT_WINDOW, OnTimeWindow, resolve_window

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then


def _col(column: str | pl.Expr) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    expr = expr.cast(pl.Float64)
    return pl.when(expr.is_finite()).then(expr)


def otp_class_expr(
    deviation: str | pl.Expr, window: str | OnTimeWindow = DEFAULT_WINDOW, *, whole_minutes: bool = False
) -> pl.Expr:
    """``early``, ``on_time`` or ``late`` per deviation in minutes (``OnTimeWindow.classify``)."""
    bounds = resolve_window(window)
    value = _col(deviation)
    if whole_minutes:
        value = value.truncate()
    return (
        pl.when(value.is_null())
        .then(None)
        .when(value < bounds.early)
        .then(pl.lit("early"))
        .when(value > bounds.late)
        .then(pl.lit("late"))
        .otherwise(pl.lit("on_time"))
    )


def on_time_expr(
    deviation: str | pl.Expr, window: str | OnTimeWindow = DEFAULT_WINDOW, *, whole_minutes: bool = False
) -> pl.Expr:
    """Boolean: the deviation (minutes) lies inside the inclusive on-time window; null if missing."""
    return otp_class_expr(deviation, window, whole_minutes=whole_minutes) == "on_time"


def headway_ratio_expr(actual: str | pl.Expr, scheduled: str | pl.Expr) -> pl.Expr:
    """Actual / scheduled headway; null where either is missing or the schedule is not positive."""
    a, s = _col(actual), _col(scheduled)
    return pl.when((s > 0) & (a >= 0)).then(a / s)


def bunched_expr(
    actual: str | pl.Expr,
    scheduled: str | pl.Expr,
    definition: BunchingDefinition = "transitmatters",
    *,
    threshold: float | None = None,
) -> pl.Expr:
    """Boolean per headway under a named bunching definition (``is_bunched``)."""
    a, s = _col(actual), _col(scheduled)
    paired = (s > 0) & (a >= 0)
    if definition == "swiftly":
        return pl.when(paired).then(a <= SWIFTLY_BUNCHED_RATIO * s)
    if definition == "sfmta":
        limit = pl.when(s <= SFMTA_FREQUENT_HEADWAY_S).then(SFMTA_FREQUENT_BUNCHED_S).otherwise(SFMTA_BUNCHED_S)
        return pl.when(paired).then(a < limit)
    if definition == "transitmatters":
        return pl.when(paired).then(a <= TRANSITMATTERS_BUNCHED_RATIO * s)
    if definition == "btc":
        return pl.when(paired).then(a < BTC_BUNCHED_RATIO * s)
    if definition == "tcqsm":
        return pl.when(paired).then((a - s).abs() > TCQSM_OFF_HEADWAY_FRACTION * s)
    if definition == "absolute":
        if threshold is None:
            msg = "the `absolute` definition needs a `threshold` in the headways' unit"
            raise ValueError(msg)
        return pl.when(paired).then(a < threshold)
    msg = f"unknown bunching definition {definition!r}"
    raise ValueError(msg)


def gapped_expr(actual: str | pl.Expr, scheduled: str | pl.Expr, definition: GappingDefinition = "swiftly"
                ) -> pl.Expr:
    """Boolean per headway under a named gapping definition (``is_gapped``)."""
    a, s = _col(actual), _col(scheduled)
    paired = (s > 0) & (a >= 0)
    if definition == "swiftly":
        return pl.when(paired).then(a >= SWIFTLY_GAPPED_RATIO * s)
    if definition == "sfmta":
        return pl.when(paired).then(a > s + SFMTA_GAP_ALLOWANCE_S)
    msg = f"unknown gapping definition {definition!r}"
    raise ValueError(msg)


def headway_on_time_expr(actual: str | pl.Expr, scheduled: str | pl.Expr) -> pl.Expr:
    """Boolean: TransitMatters on-time headway, 0.75 < actual / scheduled < 1.25."""
    lo, hi = TRANSITMATTERS_ON_TIME_RATIOS
    a, s = _col(actual), _col(scheduled)
    return pl.when((s > 0) & (a >= 0)).then((a > lo * s) & (a < hi * s))


def expected_wait_expr(headway: str | pl.Expr) -> pl.Expr:
    """Aggregation: ``Σ h² / (2 Σ h)`` over a group's headways (``expected_wait``); AWT or SWT."""
    h = _col(headway)
    return (h * h).sum() / (2 * h.sum())


def headway_cv_expr(actual: str | pl.Expr, scheduled: str | pl.Expr) -> pl.Expr:
    """Aggregation: TCQSM cv_h with the population σ over a group's headway pairs (``headway_cv``)."""
    a, s = _col(actual), _col(scheduled)
    both = a.is_not_null() & s.is_not_null()
    deviation = (a - s).filter(both)
    return deviation.std(ddof=0) / s.filter(both).mean()


def _letters(value: pl.Expr, cutoffs: tuple[tuple[str, float], ...]) -> pl.Expr:
    chain: Then | ChainedThen = pl.when(value.is_null() | (value < 0)).then(None)
    for letter, cutoff in cutoffs:
        chain = chain.when(value < cutoff).then(pl.lit(letter))
    return chain.otherwise(pl.lit("F"))


def headway_los_expr(cv_h: str | pl.Expr) -> pl.Expr:
    """TCQSM headway-adherence LOS letter per cv_h value (``headway_los``)."""
    return _letters(_col(cv_h), HEADWAY_LOS_CUTOFFS)


def passenger_load_los_expr(load: str | pl.Expr) -> pl.Expr:
    """TCQSM passenger-load LOS letter per load factor (``passenger_load_los``)."""
    return _letters(_col(load), LOAD_LOS_CUTOFFS)
