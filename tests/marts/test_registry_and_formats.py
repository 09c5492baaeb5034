"""The registry, date pruning, empty lakes, and identical marts on Parquet, HDF5 and CSV lakes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from smartcity.analysis.marts import MARTS, MartSpec, compute_mart, mart_spec, scan_dates
from smartcity.storage.datasets import DATASETS
from smartcity.storage.scan import scan
from tests.marts.lakes import DAY, FORMATS, HOUR, T0, land, reading

NAMES = ["air_quality_hourly", "air_hotspots", "air_daily_sums", "air_monthly", "air_trends", "bus_occupancy",
         "bus_window_stats", "bus_headways",
         "route_performance", "station_service", "stop_visits", "trips_performed"]


def test_registry_names_every_mart() -> None:
    assert list(MARTS) == NAMES
    for name, spec in MARTS.items():
        assert isinstance(spec, MartSpec) and spec.name == name and spec.grain and spec.description
        assert set(spec.datasets) <= set(DATASETS) and set(spec.upstream) <= set(NAMES[:NAMES.index(name)])
        assert spec.datasets or spec.upstream
        assert next(iter(spec.schema)) == "date"
    with pytest.raises(KeyError, match="unknown mart"):
        mart_spec("nope")


@pytest.mark.parametrize("name", NAMES)
def test_marts_are_identical_on_every_format(scenario_lakes: dict[str, Path], name: str) -> None:
    results = {fmt: compute_mart(name, scenario_lakes[fmt], DAY) for fmt in FORMATS}
    assert results["parquet"].schema == pl.Schema(MARTS[name].schema)
    assert results["parquet"].height > 0
    for fmt in FORMATS[1:]:
        assert_frame_equal(results[fmt], results["parquet"], check_exact=True)


@pytest.mark.parametrize("name", NAMES)
def test_empty_lake_gives_empty_marts_with_their_columns(tmp_path: Path, name: str) -> None:
    out = compute_mart(name, tmp_path, DAY)
    assert out.height == 0 and out.schema == pl.Schema(MARTS[name].schema)


def test_marts_are_pure_functions_of_lazy_frames(lake: Path) -> None:
    spec = MARTS["bus_headways"]
    frames = {"station_events": scan(lake, "station_events", ["2026-03-09", "2026-03-10"])}
    assert_frame_equal(spec.build(frames, DAY), compute_mart("bus_headways", lake, DAY))
    with pytest.raises(ValueError, match="needs the datasets"):
        spec.build({}, DAY)


def test_scan_dates_prune_to_the_history_a_mart_needs(tmp_path: Path) -> None:
    day = date(2026, 3, 10)
    assert scan_dates(tmp_path, "air_readings", day, 0) == [day]
    assert scan_dates(tmp_path, "air_readings", day, 1) == [date(2026, 3, 9), day]
    land(tmp_path, "parquet", "air_readings",
         [reading("A", T0 + k * 24 * HOUR, pm25_ugm3=1.0) for k in (-40, -1, 0, 1)])
    assert scan_dates(tmp_path, "air_readings", day, None) == [date(2026, 1, 29), date(2026, 3, 9), day]
    assert MARTS["air_quality_hourly"].history_days == 1 and MARTS["bus_occupancy"].history_days == 0


def test_rows_of_other_days_in_the_frames_are_ignored(lake: Path) -> None:
    """A builder given more days than it needs still describes only its day."""
    spec = MARTS["bus_occupancy"]
    frames = {"bus_telemetry": scan(lake, "bus_telemetry")}
    assert_frame_equal(spec.build(frames, DAY), compute_mart("bus_occupancy", lake, DAY))
    assert spec.build(frames, "2026-03-09")["readings"].to_list() == [1]


def test_mart_dates_accept_text_and_dates(lake: Path) -> None:
    assert_frame_equal(compute_mart("route_performance", lake, date(2026, 3, 10)),
                       compute_mart("route_performance", lake, DAY))
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        compute_mart("route_performance", lake, "10/03/2026")


@pytest.fixture(scope="module")
def synthetic_lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small random day (uneven floats, many routes and sensors) in every format."""
    from smartcity.bench.lakes import synthetic_day

    lakes = {}
    for fmt in FORMATS:
        root = tmp_path_factory.mktemp(f"synthetic-{fmt}")
        synthetic_day(root, fmt, buses=12, interval_s=300, routes=3, stops=6, stations=4, headway_min=20, sensors=6)
        lakes[fmt] = root
    return lakes


def test_random_day_is_identical_on_every_format(synthetic_lakes: dict[str, Path]) -> None:
    for name in NAMES:
        results = {fmt: compute_mart(name, synthetic_lakes[fmt], DAY) for fmt in FORMATS}
        assert results["parquet"].height > 0 or name == "air_trends"
        for fmt in FORMATS[1:]:
            assert_frame_equal(results[fmt], results["parquet"], check_exact=True)


def test_random_day_pandas_baseline(synthetic_lakes: dict[str, Path]) -> None:
    pytest.importorskip("pandas")
    from smartcity.bench import baseline_pandas

    for name in ("bus_occupancy", "bus_headways", "air_quality_hourly"):
        schema = MARTS[name].schema
        baseline = baseline_pandas.compute(name, synthetic_lakes["csv"], DAY)
        got = pl.from_pandas(baseline[list(schema)]).select([pl.col(c).cast(t) for c, t in schema.items()])
        assert_frame_equal(got, compute_mart(name, synthetic_lakes["parquet"], DAY), check_exact=True)
