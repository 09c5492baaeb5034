"""Mann–Kendall trend test and the Theil–Sen (Sen's) slope.

Sources: Mann (1945), Kendall (1975), Sen (1968), as implemented by pyMannKendall
(``original_test``, ``sens_slope``), whose tests are cross-checked against the R packages
modifiedmk, fume, rkt and trend; openair ``TheilSen`` for the day-based time axis and the
``median(y - b·t)`` intercept.

::

    S      = Σ_{k<j} sgn(x_j − x_k)
    Var(S) = [n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5)] / 18      (t_p: size of tie group p)
    Z      = (S−1)/√Var if S > 0;  0 if S = 0;  (S+1)/√Var if S < 0
    p      = 2·(1 − Φ(|Z|))
    τ      = S / (n(n−1)/2)                                     (as pyMannKendall's ``Tau``)
    τ_b    = S / √[(n(n−1)/2 − Σ_p t_p(t_p−1)/2) · n(n−1)/2]      (ties in the data only)

openair's own trend p-values come from a bootstrap of the Theil–Sen slope, not from this test;
they cannot be reproduced here and this module does not try.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TimePoint = float | int | date | datetime


@dataclass(frozen=True)
class MannKendall:
    """Result of the two-sided Mann–Kendall test on the ``n`` valid values of a series."""

    n: int
    s: int
    var_s: float
    z: float
    p: float
    tau: float
    tau_b: float

    def trend(self, alpha: float = 0.05) -> Literal["increasing", "decreasing", "no trend"]:
        """``increasing`` or ``decreasing`` when ``p < alpha``, else ``no trend``."""
        if self.p >= alpha or self.z == 0:
            return "no trend"
        return "increasing" if self.z > 0 else "decreasing"


def _clean(values: Sequence[float | None]) -> npt.NDArray[np.float64]:
    array = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    finite: npt.NDArray[np.float64] = array[np.isfinite(array)]
    return finite


def mann_kendall(values: Sequence[float | None]) -> MannKendall:
    """Two-sided Mann–Kendall test for a monotonic trend, with the tie-corrected variance.

    ``values`` are in time order; ``None`` and NaN are dropped (the order of the rest is kept).
    At least two valid values are required. When ``Var(S)`` is 0 (all values tied), ``z`` is 0
    and ``p`` is 1.
    """
    x = _clean(values)
    n = x.size
    if n < 2:
        msg = f"the Mann–Kendall test needs at least 2 valid values, got {n}"
        raise ValueError(msg)
    s = int(sum(int(np.sign(x[i + 1 :] - x[i]).sum()) for i in range(n - 1)))
    _, counts = np.unique(x, return_counts=True)
    ties = counts[counts > 1].astype(np.int64)
    tie_term = int((ties * (ties - 1) * (2 * ties + 5)).sum())
    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18
    z = 0.0 if var_s <= 0 or s == 0 else (s - math.copysign(1, s)) / math.sqrt(var_s)
    p = math.erfc(abs(z) / math.sqrt(2))
    pairs = n * (n - 1) / 2
    tied_pairs = float((ties * (ties - 1) / 2).sum())
    denominator = math.sqrt((pairs - tied_pairs) * pairs)
    tau_b = s / denominator if denominator > 0 else math.nan
    return MannKendall(n=n, s=s, var_s=var_s, z=z, p=p, tau=s / pairs, tau_b=tau_b)


def _time_value(point: TimePoint) -> float:
    if isinstance(point, datetime):
        aware = point if point.tzinfo is not None else point.replace(tzinfo=UTC)
        return (aware - _EPOCH).total_seconds() / 86400.0
    if isinstance(point, date):
        return float(point.toordinal() - date(1970, 1, 1).toordinal())
    return float(point)


def _pairs(times: Sequence[TimePoint], values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    if len(times) != len(values):
        msg = f"`times` and `values` differ in length ({len(times)} and {len(values)})"
        raise ValueError(msg)
    t = np.array([_time_value(p) for p in times], dtype=float)
    y = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    keep = np.isfinite(t) & np.isfinite(y)
    return t[keep], y[keep]


def sen_slope(times: Sequence[TimePoint], values: Sequence[float | None]) -> float:
    """Theil–Sen slope: the median of ``(y_j − y_i) / (t_j − t_i)`` over all pairs with ``t_j ≠ t_i``.

    Units are value units per time unit. Numeric times are used as given (``range(n)`` reproduces
    pyMannKendall's ``sens_slope``, missing values keeping their positions); ``date`` and
    ``datetime`` become days since 1970-01-01 (naive datetimes as UTC), as openair does, so
    ``365 × slope`` is openair's per-year slope. Pairs with a missing value are skipped. Memory and
    time grow with n², which suits monthly or yearly series, not raw hourly ones.
    """
    t, y = _pairs(times, values)
    slopes = []
    for i in range(t.size - 1):
        dt = t[i + 1 :] - t[i]
        nonzero = dt != 0
        slopes.append((y[i + 1 :][nonzero] - y[i]) / dt[nonzero])
    joined = np.concatenate(slopes) if slopes else np.empty(0)
    if joined.size == 0:
        msg = "the Sen slope needs at least two valid points at different times"
        raise ValueError(msg)
    return float(np.median(joined))


def sen_intercept(
    times: Sequence[TimePoint],
    values: Sequence[float | None],
    slope: float,
    *,
    method: Literal["conover", "residual"] = "conover",
) -> float:
    """Intercept of the Sen line ``y = intercept + slope · t`` over the valid points.

    ``conover`` is ``median(y) − slope · median(t)`` (pyMannKendall, scipy); ``residual`` is
    ``median(y − slope · t)`` (openair 3.1.0 and later). They share the slope but not the line.
    """
    t, y = _pairs(times, values)
    if t.size == 0:
        msg = "the Sen intercept needs at least one valid point"
        raise ValueError(msg)
    if method == "conover":
        return float(np.median(y) - slope * np.median(t))
    if method == "residual":
        return float(np.median(y - slope * t))
    msg = f"`method` must be 'conover' or 'residual', got {method!r}"
    raise ValueError(msg)
