"""Headway regularity and bunching: domain notes E.3 and E.4 on the series 10, 10, 10, 28, 1, 1."""

from __future__ import annotations

import statistics

import pytest

from smartcity.analysis.transit import bunching, headway_cv, headway_los, headway_on_time, is_bunched

HEADWAYS = [10, 10, 10, 28, 1, 1]


def test_cv_uses_the_population_deviation() -> None:
    assert headway_cv(HEADWAYS, 10) == pytest.approx(0.90)
    deviations = [h - 10 for h in HEADWAYS]
    assert statistics.stdev(deviations) / 10 == pytest.approx(0.986, abs=5e-4)
    assert headway_los(headway_cv(HEADWAYS, 10)) == "F"


def test_cv_with_per_headway_schedule() -> None:
    assert headway_cv([10, 12, 8], [10, 12, 8]) == 0.0
    assert headway_cv([12, 8, None], [10, 10, 10]) == pytest.approx(2 / 10)


@pytest.mark.parametrize(
    ("cv", "letter"),
    [(0.0, "A"), (0.21, "A"), (0.214, "A"), (0.215, "B"), (0.22, "B"), (0.30, "B"), (0.31, "C"), (0.39, "C"),
     (0.40, "D"), (0.52, "D"), (0.53, "E"), (0.74, "E"), (0.745, "F"), (0.75, "F"), (3.0, "F")],
)  # fmt: skip
def test_tcqsm_headway_los(cv: float, letter: str) -> None:
    assert headway_los(cv) == letter


def test_bunching_definitions() -> None:
    transitmatters = bunching(HEADWAYS, 10)
    assert (transitmatters.count, transitmatters.total) == (2, 6)
    assert transitmatters.share == pytest.approx(1 / 3)
    assert bunching(HEADWAYS, 10, "btc").count == 2
    assert bunching(HEADWAYS, 10, "tcqsm").count == 3
    assert bunching(HEADWAYS, 10, "absolute", threshold=2).count == 2


def test_transitmatters_on_time_headways() -> None:
    result = headway_on_time(HEADWAYS, 10)
    assert (result.count, result.total) == (3, 6)


def test_definition_edges() -> None:
    assert is_bunched(5, 10)
    assert not is_bunched(5.01, 10)
    assert is_bunched(2.49, 10, "btc")
    assert not is_bunched(2.5, 10, "btc")
    assert not is_bunched(15, 10, "tcqsm")
    assert is_bunched(15.01, 10, "tcqsm")
    assert headway_on_time([7.5, 12.5, 7.6, 12.4], 10).count == 2


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="threshold"):
        is_bunched(1, 10, "absolute")
    with pytest.raises(ValueError, match="unknown bunching"):
        is_bunched(1, 10, "nyc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="differ in length"):
        headway_cv([10, 10], [10])
    with pytest.raises(ValueError, match="positive"):
        headway_cv([10], [0])
    with pytest.raises(ValueError, match="at least one pair"):
        headway_cv([None], 10)
    with pytest.raises(ValueError, match="non-negative"):
        headway_los(-0.1)


def test_swiftly_and_sfmta_bunching_and_gapping_edges() -> None:
    """Swiftly: bunched at ≤ 75 % of the scheduled headway, gapped at ≥ 125 %. SFMTA (seconds): bunched
    under 2 min, under 1 min where the scheduled headway is 5 min or less; gapped above scheduled + 5 min."""
    from smartcity.analysis.transit import is_gapped

    assert is_bunched(450, 600, "swiftly") and not is_bunched(451, 600, "swiftly")
    assert is_gapped(750, 600, "swiftly") and not is_gapped(749, 600, "swiftly")
    assert is_bunched(119, 600, "sfmta") and not is_bunched(120, 600, "sfmta")
    assert is_bunched(59, 300, "sfmta") and not is_bunched(60, 300, "sfmta") and is_bunched(119, 301, "sfmta")
    assert is_gapped(901, 600, "sfmta") and not is_gapped(900, 600, "sfmta")
    # the series of E.4 in seconds against a 10-minute schedule
    seconds = [h * 60 for h in HEADWAYS]
    assert bunching(seconds, 600, "swiftly").count == 2 and bunching(seconds, 600, "sfmta").count == 2
    assert sum(is_gapped(h, 600, "swiftly") for h in seconds) == 1


def test_the_gapping_expression_agrees_with_the_scalar_rule() -> None:
    import polars as pl

    from smartcity.analysis.transit import bunched_expr, gapped_expr, is_gapped

    frame = pl.DataFrame({"h": [30.0, 59.0, 119.0, 450.0, 749.0, 750.0, 901.0, None],
                          "s": [300.0, 300.0, 600.0, 600.0, 600.0, 600.0, 600.0, 600.0]})
    for definition in ("swiftly", "sfmta"):
        got = frame.select(gapped_expr("h", "s", definition).alias("g"), bunched_expr("h", "s", definition).alias("b"))
        for (h, s), g, b in zip(frame.iter_rows(), got["g"], got["b"], strict=True):
            assert g == (None if h is None else is_gapped(h, s, definition))
            assert b == (None if h is None else is_bunched(h, s, definition))
