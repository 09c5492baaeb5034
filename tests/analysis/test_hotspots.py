"""Getis–Ord Gi* and Gi: the esda six-point example of domain notes C.5."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smartcity.analysis.air import distance_band_weights, gi, gi_star

POINTS = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
Y = [2, 3, 3.2, 5, 8, 7]
GI_STAR_Z = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
GI_STAR_P = [0.1623, 0.7724, 0.5153, 0.7724, 0.2170, 0.0429]
GI_Z = [-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941]


def test_gi_star_esda_example() -> None:
    result = gi_star(Y, POINTS, 15)
    assert result.z == pytest.approx(GI_STAR_Z, abs=1e-8)
    assert result.p == pytest.approx(GI_STAR_P, abs=1e-4)
    assert result.bins.tolist() == [0, 0, 0, 0, 0, 2]
    assert result.labels[5] == "hot spot (95%)"


def test_gi_esda_example() -> None:
    assert gi(Y, POINTS, 15).z == pytest.approx(GI_Z, abs=1e-7)


def test_distance_band_is_inclusive() -> None:
    w = distance_band_weights(POINTS, 15)
    assert w[3, 4] == w[4, 3] == 1.0  # (15,20)-(30,20) are exactly 15 apart
    assert np.all(np.diag(w) == 1.0)
    assert distance_band_weights(POINTS, 14.999)[3, 4] == 0.0


def test_cold_and_hot_bins() -> None:
    # a 3x3 grid, unit spacing, rook neighbours plus self: a high corner and a low corner
    points = [(x, y) for x in range(3) for y in range(3)]
    values = [0.0, 0.0, 5.0, 0.0, 5.0, 10.0, 5.0, 10.0, 10.0]
    result = gi_star(values, points, 1.0)
    assert result.bins[0] < 0 < result.bins[8]
    assert result.z[0] == pytest.approx(-result.z[8])


def test_undefined_z() -> None:
    result = gi_star([4.0, 4.0, 4.0], [(0, 0), (1, 0), (5, 0)], 2)
    assert np.all(np.isnan(result.z))
    assert result.bins.tolist() == [0, 0, 0]


def test_haversine_band_in_metres() -> None:
    # one degree of latitude is R * pi / 180 metres
    degree = 6_371_008.8 * math.pi / 180
    points = [(0.0, 0.0), (0.0, 1.0), (0.0, 2.5)]
    w = distance_band_weights(points, degree * 1.01, "haversine")
    assert w.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert distance_band_weights(points, degree * 0.99, "haversine")[0, 1] == 0


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        gi_star([1.0, 2.0], [(0, 0), (1, 1)], 1)
    with pytest.raises(ValueError, match="points"):
        gi_star([1.0, 2.0, 3.0], [(0, 0), (1, 1)], 1)
    with pytest.raises(ValueError, match="finite"):
        gi_star([1.0, math.nan, 3.0], [(0, 0), (1, 1), (2, 2)], 1)
    with pytest.raises(ValueError, match="metric"):
        distance_band_weights([(0, 0)], 1, "manhattan")  # type: ignore[arg-type]
