"""Long-term trend of a monthly series as openair's ``TheilSen`` computes it.

Source: openair 3.1 (``R/TheilSen.R``, ``R/senTheil.R``, ``R/utilities.R``; Carslaw and Ropkins
2012), whose estimator and bootstrap are Wilcox's ``tsp1reg`` and ``regci``. The steps, for one
series of monthly means on the regular grid from its first to its last month:

1. **Gaps.** STL needs a complete series, so a missing month is imputed first. ``openair``
   (openair 3.1): per calendar month, a least-squares line of value on month index through that
   month's observations; one observation is used as is, none gives the overall mean.
   ``openair-2.17`` (before openair 2.18): linear interpolation between neighbours.
2. **Deseasonalising** (more than 24 months on the grid): STL of the series with period 12,
   ``stl(x, s.window = 11, s.degree = 1, robust = TRUE)`` for ``openair`` and
   ``s.window = 35, s.degree = 0`` for ``openair-2.17``; R's defaults for the other windows
   (trend: next odd integer ≥ 1.5·12 / (1 − 1.5 / s.window); low-pass: 13), jumps
   ``ceil(window / 10)``, one inner and 15 outer (robustness) iterations. The deseasonalised series
   is trend + remainder. Imputed months stay in it, as openair keeps them.
3. **Sen slope**: median of ``(y_j − y_i) / (t_j − t_i)`` over pairs with ``t_j > t_i``, time in
   days since 1970-01-01 (each month at its first day), × 365 → units per year. Intercept
   ``median(y − b·t)``.
4. **Confidence interval**: 599 bootstrap resamples of the (t, y) pairs; with ``autocor`` they are
   moving blocks of ``round(n^(1/3))`` consecutive months (Künsch 1989; openair's
   ``samp_boot_block``: overlapping, no wrap-around), otherwise single months. The interval is the
   sorted resampled slopes at positions ``round(α/2·599) + 1`` and ``599 − round(α/2·599)``
   (16th and 584th for α = 0.05), and openair's bootstrap p-value is
   ``2·min(P, 1 − P)`` with ``P = (#{b* < 0} + ½·#{b* = 0}) / 599``.
5. **Mann–Kendall** test (``smartcity.analysis.air.trends.mann_kendall``) of the same series, for
   officers who report its p-value beside the slope.

openair seeds R's generator (``set.seed(2)``); this module uses NumPy's with ``seed``, so the
interval's ends differ from openair's by bootstrap noise (a few hundredths of the slope on
eight years), while the slope itself is deterministic and equal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

from smartcity.analysis.air.trends import MannKendall, mann_kendall, sen_intercept, sen_slope

Method = Literal["openair", "openair-2.17"]
METHODS: tuple[Method, ...] = ("openair", "openair-2.17")
MIN_POINTS = 6
DESEASON_AFTER = 24
NBOOT = 599
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TheilSen:
    """A trend of ``n`` monthly points (``n_imputed`` of them imputed before deseasonalising)."""

    n: int
    n_imputed: int
    deseasonalised: bool
    slope_per_year: float
    lower_per_year: float
    upper_per_year: float
    intercept: float
    p_bootstrap: float
    block_length: int
    mann_kendall: MannKendall
    series: FloatArray

    def percent_per_year(self, first: date, last: date) -> float:
        """The slope as % per year of the fitted line's value at ``first`` (openair's ``slope.percent``:
        ``100·365·(C_end/C_start − 1)/(d_end − d_start)`` with ``C = slope·d/365 + intercept``)."""
        d0, d1 = _days(first), _days(last)
        start = self.intercept + self.slope_per_year / 365.0 * d0
        end = self.intercept + self.slope_per_year / 365.0 * d1
        return 100.0 * 365.0 * (end / start - 1.0) / (d1 - d0) if start != 0 and d1 != d0 else math.nan


def _days(day: date) -> float:
    return float(day.toordinal() - date(1970, 1, 1).toordinal())


def month_grid(months: Sequence[date], values: Sequence[float]) -> tuple[list[date], FloatArray]:
    """The months from the first to the last of ``months`` (first days) with their values, NaN where missing."""
    index = [m.year * 12 + m.month - 1 for m in months]
    first = min(index)
    grid = np.full(max(index) - first + 1, np.nan)
    for i, v in zip(index, values, strict=True):
        grid[i - first] = v
    days = [date((first + k) // 12, (first + k) % 12 + 1, 1) for k in range(grid.size)]
    return days, grid


def fill_gaps(grid: FloatArray, first_month: int, method: Method = "openair") -> FloatArray:
    """``grid`` with missing months imputed (step 1 above); ``first_month`` is the calendar month
    (1–12) of the grid's first point."""
    if method == "openair-2.17":
        known = np.flatnonzero(np.isfinite(grid))
        return np.interp(np.arange(grid.size), known, grid[known])
    filled = grid.copy()
    t = np.arange(1, grid.size + 1, dtype=float)
    calendar = (np.arange(grid.size) + first_month - 1) % 12
    overall = float(np.nanmean(grid))
    for month in range(12):
        of_month = calendar == month
        seen = of_month & np.isfinite(grid)
        missing = of_month & ~np.isfinite(grid)
        if not missing.any():
            continue
        if seen.sum() >= 2:
            slope, intercept = np.polyfit(t[seen], grid[seen], 1)
            filled[missing] = intercept + slope * t[missing]
        else:
            filled[missing] = grid[seen][0] if seen.any() else overall
    return filled


def _next_odd(x: float) -> int:
    n = round(x)
    return n if n % 2 else n + 1


def stl_deseasonalise(series: FloatArray, method: Method = "openair") -> FloatArray:
    """Trend + remainder of R's ``stl`` with openair's settings (step 2 above); no gaps allowed."""
    from statsmodels.tsa.seasonal import STL  # imported here: statsmodels is slow to import

    s_window, s_degree = (11, 1) if method == "openair" else (35, 0)
    t_window = _next_odd(math.ceil(1.5 * 12 / (1 - 1.5 / s_window)))
    l_window = _next_odd(12)
    fit = STL(series, period=12, seasonal=s_window, trend=t_window, low_pass=l_window, seasonal_deg=s_degree,
              trend_deg=1, low_pass_deg=1, robust=True, seasonal_jump=math.ceil(s_window / 10),
              trend_jump=math.ceil(t_window / 10), low_pass_jump=math.ceil(l_window / 10)).fit(inner_iter=1,
                                                                                                 outer_iter=15)
    out: FloatArray = np.asarray(fit.trend + fit.resid, dtype=float)
    return out


def _pair_slopes(t: FloatArray, y: FloatArray) -> FloatArray:
    """Every pair's ``(y_j − y_i)/(t_j − t_i)`` along the last axis; NaN for pairs at one time."""
    i, j = np.triu_indices(t.shape[-1], 1)
    dt = t[..., j] - t[..., i]
    dy = y[..., j] - y[..., i]
    slopes = np.full(dt.shape, np.nan)
    apart = dt != 0  # a resample holds a month twice; a pair is the same whichever end comes first
    slopes[apart] = dy[apart] / dt[apart]
    return slopes


def block_indices(n: int, nboot: int, block_length: int, rng: np.random.Generator) -> npt.NDArray[np.intp]:
    """``nboot`` resamples of ``range(n)`` built from overlapping blocks of ``block_length``
    consecutive indices (no wrap-around), cut to ``n``: openair's ``samp_boot_block``."""
    blocks = math.ceil(n / block_length)
    starts = rng.integers(0, n - block_length + 1, size=(nboot, blocks))
    runs = (starts[:, :, None] + np.arange(block_length)).reshape(nboot, -1)
    out: npt.NDArray[np.intp] = runs[:, :n]
    return out


def bootstrap_slopes(t: FloatArray, y: FloatArray, *, block_length: int, nboot: int = NBOOT,
                     seed: int = 2) -> FloatArray:
    """Sen slopes of ``nboot`` (block) bootstrap resamples of the pairs ``(t, y)``, in sampling order."""
    rng = np.random.default_rng(seed)
    out = np.empty(nboot)
    chunk = max(1, 2_000_000 // max(1, t.size * t.size))  # bound the pairwise matrix in memory
    indices = block_indices(t.size, nboot, block_length, rng)
    for start in range(0, nboot, chunk):
        rows = indices[start : start + chunk]
        out[start : start + rows.shape[0]] = np.nanmedian(_pair_slopes(t[rows], y[rows]), axis=1)
    return out


def theil_sen(
    months: Sequence[date],
    values: Sequence[float | None],
    *,
    deseason: bool = True,
    autocor: bool = True,
    alpha: float = 0.05,
    method: Method = "openair",
    nboot: int = NBOOT,
    seed: int = 2,
) -> TheilSen | None:
    """openair's ``TheilSen`` trend of monthly means (``months``: first days, any order, no repeats).

    ``None`` when fewer than six points are left (openair returns NA). Deseasonalising applies when
    ``deseason`` and the grid from the first to the last month holds more than 24 months.
    """
    if method not in METHODS:
        msg = f"`method` must be one of {', '.join(METHODS)}, got {method!r}"
        raise ValueError(msg)
    if not 0 < alpha < 1:
        msg = f"`alpha` must be between 0 and 1, got {alpha}"
        raise ValueError(msg)
    pairs = [(m, float(v)) for m, v in zip(months, values, strict=True) if v is not None and math.isfinite(v)]
    if len(pairs) < MIN_POINTS:
        return None
    grid_months, grid = month_grid([m for m, _ in pairs], [v for _, v in pairs])
    missing = ~np.isfinite(grid)
    if deseason and grid.size > DESEASON_AFTER:
        series = stl_deseasonalise(fill_gaps(grid, grid_months[0].month, method), method)
        t = np.array([_days(m) for m in grid_months])
        n_imputed, deseasonalised = int(missing.sum()), True
    else:
        series, t = grid[~missing], np.array([_days(m) for m, gone in zip(grid_months, missing, strict=True)
                                              if not gone])
        n_imputed, deseasonalised = 0, False
    slope = sen_slope(t.tolist(), series.tolist())
    intercept = sen_intercept(t.tolist(), series.tolist(), slope, method="residual")
    block = max(1, round(series.size ** (1 / 3))) if autocor else 1
    boot = np.sort(bootstrap_slopes(t, series, block_length=block, nboot=nboot, seed=seed))
    low = round(alpha / 2 * nboot)
    below = (np.sum(boot < 0) + 0.5 * np.sum(boot == 0)) / nboot
    return TheilSen(
        n=int(series.size),
        n_imputed=n_imputed,
        deseasonalised=deseasonalised,
        slope_per_year=365.0 * slope,
        lower_per_year=365.0 * float(boot[low]),
        upper_per_year=365.0 * float(boot[nboot - low - 1]),
        intercept=intercept,
        p_bootstrap=float(2 * min(below, 1 - below)),
        block_length=block,
        mann_kendall=mann_kendall(series.tolist()),
        series=series,
    )
