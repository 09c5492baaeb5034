"""The pandas baseline gives the same numbers as the marts."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from smartcity.analysis.marts import MARTS, compute_mart
from tests.marts.lakes import DAY

pytest.importorskip("pandas")

from smartcity.bench import baseline_pandas


@pytest.mark.parametrize("name", ["bus_occupancy", "bus_headways", "air_quality_hourly"])
def test_pandas_baseline_equals_the_mart(lake: Path, name: str) -> None:
    schema = MARTS[name].schema
    baseline = baseline_pandas.compute(name, lake, DAY)
    got = pl.from_pandas(baseline[list(schema)]).select([pl.col(c).cast(t) for c, t in schema.items()])
    expected = compute_mart(name, lake, DAY)
    assert expected.height > 0
    assert_frame_equal(got, expected, check_exact=True)


def test_unknown_baseline() -> None:
    with pytest.raises(KeyError, match="no pandas baseline"):
        baseline_pandas.compute("air_trends", Path("."), DAY)
