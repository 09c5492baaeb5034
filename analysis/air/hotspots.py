"""Getis–Ord local statistics (Gi* and Gi) with binary distance-band weights.

Sources: Ord & Getis (1995); PySAL esda ``G_Local`` (``transform='B'``; ``star=True`` for Gi*),
whose docstring example these functions reproduce; ESRI "Hot Spot Analysis (Getis-Ord Gi*)" for
the confidence bins (``Gi_Bin``).

Gi* includes the site itself (``w_ii = 1``)::

    Gi* = (Σ_j w_ij x_j − X̄ Σ_j w_ij) / (S √[(n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)])
    X̄ = mean(x),  S = √(mean(x²) − X̄²)                       (sums over all j, i included)

Gi* is already a z-score. Gi excludes the site (Getis & Ord 1992) and is standardised with its
own expectation and variance. p-values are two-sided under the normal approximation (esda's
``p_norm`` is one-sided: double it to compare).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
#: ``Gi_Bin`` z thresholds: |z| above 2.576, 1.96 and 1.645 give ±3 (99 %), ±2 (95 %) and ±1 (90 %).
CONFIDENCE_Z: tuple[tuple[int, float], ...] = ((3, 2.576), (2, 1.96), (1, 1.645))
HOTSPOT_LABELS: dict[int, str] = {
    3: "hot spot (99%)",
    2: "hot spot (95%)",
    1: "hot spot (90%)",
    0: "not significant",
    -1: "cold spot (90%)",
    -2: "cold spot (95%)",
    -3: "cold spot (99%)",
}
Metric = Literal["euclidean", "haversine"]


@dataclass(frozen=True)
class LocalG:
    """Per-site z-scores, two-sided p-values and ``Gi_Bin`` classes (+3 .. −3)."""

    z: np.ndarray
    p: np.ndarray
    bins: np.ndarray

    @property
    def labels(self) -> list[str]:
        """Readable class per site, e.g. ``hot spot (95%)``."""
        return [HOTSPOT_LABELS[int(b)] for b in self.bins]


def distances(coords: Sequence[Sequence[float]] | np.ndarray, metric: Metric = "euclidean") -> npt.NDArray[np.float64]:
    """Pairwise distances between points: planar in coordinate units, or great-circle metres for
    ``haversine`` with points given as (longitude, latitude) in degrees."""
    points = np.asarray(coords, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        msg = f"`coords` must be a sequence of (x, y) pairs, got shape {points.shape}"
        raise ValueError(msg)
    if metric == "euclidean":
        delta = points[:, None, :] - points[None, :, :]
        squared: npt.NDArray[np.float64] = (delta**2).sum(axis=-1)
        return np.sqrt(squared)
    if metric == "haversine":
        lon, lat = np.radians(points[:, 0]), np.radians(points[:, 1])
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        h: npt.NDArray[np.float64] = (
            np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        )
        return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    msg = f"`metric` must be 'euclidean' or 'haversine', got {metric!r}"
    raise ValueError(msg)


def distance_band_weights(
    coords: Sequence[Sequence[float]] | np.ndarray, threshold: float, metric: Metric = "euclidean"
) -> np.ndarray:
    """Binary weights: 1 where the distance is at most ``threshold`` (inclusive), the diagonal included."""
    return (distances(coords, metric) <= threshold).astype(float)


def _classify(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.array([math.erfc(abs(v) / math.sqrt(2)) if np.isfinite(v) else math.nan for v in z])
    bins = np.zeros(z.shape, dtype=int)
    for level, bound in reversed(CONFIDENCE_Z):
        bins[z > bound] = level
        bins[z < -bound] = -level
    return p, bins


def _prepare(values: Sequence[float], coords: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size < 3:
        msg = "local G needs a one-dimensional series of at least 3 values"
        raise ValueError(msg)
    if not np.all(np.isfinite(x)):
        msg = "`values` must be finite; drop sites without a value first"
        raise ValueError(msg)
    if len(coords) != x.size:
        msg = f"`coords` has {len(coords)} points for {x.size} values"
        raise ValueError(msg)
    return x


def gi_star(
    values: Sequence[float],
    coords: Sequence[Sequence[float]] | np.ndarray,
    threshold: float,
    *,
    metric: Metric = "euclidean",
) -> LocalG:
    """Getis–Ord Gi* z-scores with binary distance-band weights (distance <= ``threshold``, the
    site itself included), with two-sided p-values and hot/cold classes at 90/95/99 %.

    A site whose z-score is undefined (all values equal, or every site within its band) gets a NaN
    z and p and class 0.
    """
    x = _prepare(values, coords)
    n = x.size
    w = distance_band_weights(coords, threshold, metric)
    mean = x.mean()
    spread = math.sqrt(max((x**2).mean() - mean**2, 0.0))
    w_sum = w.sum(axis=1)
    numerator = w @ x - mean * w_sum
    root = np.sqrt(np.clip((n * (w**2).sum(axis=1) - w_sum**2) / (n - 1), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((root > 0) & (spread > 0), numerator / (spread * root), np.nan)
    p, bins = _classify(z)
    return LocalG(z, p, bins)


def gi(
    values: Sequence[float],
    coords: Sequence[Sequence[float]] | np.ndarray,
    threshold: float,
    *,
    metric: Metric = "euclidean",
) -> LocalG:
    """Getis–Ord Gi (the site excluded) z-scores with binary distance-band weights.

    Over j ≠ i with N = n − 1 and W_i = Σ w_ij: ``G_i = Σ w_ij x_j / Σ x_j``, ``E = W_i / N``,
    ``Var = W_i (N − W_i) / (N − 1) · s_i² / (N² x̄_i²)`` with x̄_i and s_i² the mean and
    population variance of the other sites' values.
    """
    x = _prepare(values, coords)
    n = x.size
    w = distance_band_weights(coords, threshold, metric)
    np.fill_diagonal(w, 0.0)
    others = n - 1
    total, squares = x.sum(), (x**2).sum()
    rest_sum = total - x
    rest_mean = rest_sum / others
    rest_var = (squares - x**2) / others - rest_mean**2
    w_sum = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (w @ x) / rest_sum
        expected = w_sum / others
        variance = w_sum * (others - w_sum) / (others - 1) * rest_var / (others**2 * rest_mean**2)
        z = np.where(variance > 0, (g - expected) / np.sqrt(variance), np.nan)
    p, bins = _classify(z)
    return LocalG(z, p, bins)
