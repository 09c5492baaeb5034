"""Mann–Kendall and Sen slope: the C.2 worked examples and the pyMannKendall test vector."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.analysis.air import mann_kendall, sen_intercept, sen_slope

# series, S, Var(S), Z, p, tau, Sen slope, median(y) - b median(t), median(y - b t)
C2 = [
    ([1, 2, 3, 5, 4], 8, 16.6667, 1.71464, 0.08641, 0.8, 1.0, 1.0, 1.0),
    ([10, 12, 11, 15, 14, 18, 17, 21], 22, 65.3333, 2.59808, 0.009375, 0.78571, 1.5, 9.25, 10.25),
    ([5, 3, 8, 8, 2, 9, 7, 10, 6, 12], 18, 124.0, 1.52665, 0.12685, 0.4, 0.571429, 4.928571, 5.5),
]


@pytest.mark.parametrize(("series", "s", "var_s", "z", "p", "tau", "slope", "conover", "residual"), C2)
def test_c2_worked_examples(
    series: list[float], s: int, var_s: float, z: float, p: float, tau: float,
    slope: float, conover: float, residual: float,
) -> None:  # fmt: skip
    result = mann_kendall(series)
    assert result.s == s
    assert result.var_s == pytest.approx(var_s, abs=1e-4)
    assert result.z == pytest.approx(z, abs=1e-5)
    assert result.p == pytest.approx(p, abs=1e-5)
    assert result.tau == pytest.approx(tau, abs=1e-5)
    times = list(range(len(series)))
    b = sen_slope(times, series)
    assert b == pytest.approx(slope, abs=1e-6)
    assert sen_intercept(times, series, b) == pytest.approx(conover, abs=1e-6)
    assert sen_intercept(times, series, b, method="residual") == pytest.approx(residual, abs=1e-6)


def test_tau_b_corrects_for_ties() -> None:
    # one tie pair among 10 values: 18 / sqrt((45 - 1) * 45)
    assert mann_kendall([5, 3, 8, 8, 2, 9, 7, 10, 6, 12]).tau_b == pytest.approx(18 / math.sqrt(44 * 45))
    assert mann_kendall([1, 2, 3, 5, 4]).tau_b == pytest.approx(0.8)


nan = math.nan
ARBITRARY_1D = [
    32., 20., 25., 189., 240., 193., 379., 278., 301., 0., 0., 82., 0., 4., nan, nan, 121., 234., 360.,
    262., 120., 30., 11., 1., 7., 3., 31., 31., 355., 102., 248., 274., 308., nan, 5., 26., 11., 16.,
    6., 48., 388., 539., 431., 272., 404., 186., 0., 2., 0., 4., 1., 54., 272., 459., 235., 164., 365.,
    135., 2., nan, nan, 4., 0., 128., 210., 163., 446., 225., 462., 467., 19., 13., 0., 3., 17., 132.,
    178., 338., 525., 623., 145., 31., 19., 3., 0., 29., 25., 87., 259., 756., 486., 180., 292., 43.,
    92., 1., 0., 16., 2., 0., 130., 253., 594., 111., 273., 30., 0., 4., 0., 27., 24., 41., 292., 378.,
    499., 265., 320., 227., 4., 0., 4., 14., 8., 48., 416., 240., 404., 207., 733., 105., 0., 112., 0.,
    14., 0., 30., 140., 202., 289., 159., 424., 106., 3., 0., 65., 3., 14., 58., 268., 466., 432., 266.,
    240., 95., 1., 0., 10., 26., 4., 114., 94., 289., 173., 208., 263., 156., 5., 0., 16., 16., 14., 0.,
    111., 475., 534., 432., 471., 117., 70., 1., 3., 28., 7., 401., 184., 283., 338., 171., 335., 176.,
    0., 0., 10., 11., 9., 140., 102., 208., 298., 245., 220., 29., 2., 27., 10., 13., 26., 84., 143.,
    367., 749., 563., 283., 353., 10., 0., 0., 0., 0., 9., 246., 265., 343., 429., 168., 133., 17., 0.,
    18., 35., 76., 158., 272., 250., 190., 289., 466., 84., 0., 0., 0., 0., 0., 22., 217., 299., 185.,
    115., 344., 203., 8., nan, nan, 0., 5., 284., 123., 254., 476., 496., 326., 27., 20., 0., 4., 53.,
    72., 113., 214., 364., 219., 220., 156., 264., 0., 13., 0., 0., 45., 90., 137., 638., 529., 261.,
    206., 251., 0., 0., 5., 9., 58., 72., 138., 130., 471., 328., 356., 523., 0., 1., 0., 0., 12., 143.,
    193., 184., 192., 138., 174., 69., 1., 0., 0., 18., 25., 28., 92., 732., 320., 256., 302., 131.,
    15., 0., 27., 0., 22., 20., 213., 393., 474., 374., 109., 159., 0., 0., 0., 3., 3., 49., 205., 128.,
    194., 570., 169., 89., 0., 0., 0., 0., 0., 26., 185., 286., 92., 225., 244., 190., 3., 20.,
]  # fmt: skip


def test_pymannkendall_arbitrary_1d_data() -> None:
    assert len(ARBITRARY_1D) == 360
    result = mann_kendall(ARBITRARY_1D)
    assert result.n == 353
    assert result.s == -1959
    assert result.var_s == pytest.approx(4889800.333333333, rel=1e-12)
    assert result.z == pytest.approx(-0.8854562842589916, rel=1e-12)
    assert result.p == pytest.approx(0.37591058740506833, rel=1e-9)
    assert result.tau == pytest.approx(-0.03153167653875869, rel=1e-12)
    assert result.trend() == "no trend"
    times = list(range(len(ARBITRARY_1D)))
    slope = sen_slope(times, ARBITRARY_1D)
    assert slope == pytest.approx(-0.006369426751592357, rel=1e-12)
    assert sen_intercept(times, ARBITRARY_1D, slope) == pytest.approx(96.15286624203821, rel=1e-12)


def test_trend_labels() -> None:
    assert mann_kendall([10, 12, 11, 15, 14, 18, 17, 21]).trend() == "increasing"
    assert mann_kendall([21, 17, 18, 14, 15, 11, 12, 10]).trend() == "decreasing"
    assert mann_kendall([1, 2, 3, 5, 4]).trend() == "no trend"
    assert mann_kendall([1, 2, 3, 5, 4]).trend(alpha=0.1) == "increasing"


def test_constant_series_has_no_trend() -> None:
    result = mann_kendall([3.0] * 6)
    assert (result.s, result.var_s, result.z, result.p) == (0, 0.0, 0.0, 1.0)


def test_dates_become_days() -> None:
    # 1 unit per 31-day month from 1 Jan to 1 Feb, then 2 units over 28 days
    times = [date(2023, 1, 1), date(2023, 2, 1), date(2023, 3, 1)]
    slopes = sorted([1 / 31, 3 / 59, 2 / 28])
    assert sen_slope(times, [0.0, 1.0, 3.0]) == pytest.approx(slopes[1])


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        mann_kendall([1.0, None])
    with pytest.raises(ValueError, match="differ in length"):
        sen_slope([0, 1], [1.0])
    with pytest.raises(ValueError, match="different times"):
        sen_slope([0, 0], [1.0, 2.0])
    with pytest.raises(ValueError, match="method"):
        sen_intercept([0, 1], [1.0, 2.0], 1.0, method="mean")  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=-50, max_value=50), min_size=2, max_size=30))
def test_reversing_the_series_negates_s(values: list[int]) -> None:
    forward, backward = mann_kendall(values), mann_kendall(values[::-1])
    assert backward.s == -forward.s
    assert backward.p == pytest.approx(forward.p)
    assert -1 <= forward.tau <= 1
    assert 0 <= forward.p <= 1
