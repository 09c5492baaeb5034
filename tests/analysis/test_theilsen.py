"""openair's ``TheilSen`` trend: on openair's own archive (Marylebone Road, London, 1998–2005) and on
series whose answer is known by construction."""

from __future__ import annotations

import math
import statistics
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from smartcity.analysis.air.theilsen import (
    block_indices,
    bootstrap_slopes,
    fill_gaps,
    month_grid,
    stl_deseasonalise,
    theil_sen,
)
from smartcity.analysis.marts.air_monthly import air_daily_sums, air_monthly
from smartcity.analysis.marts.air_trends import air_trends
from smartcity.storage.datasets import POLLUTANT_COLUMNS

ARCHIVE = Path(__file__).parents[1] / "data" / "openair" / "mydata_no2_o3.csv.gz"
# openair's documented example: TheilSen(mydata, pollutant = "o3", deseason = TRUE), ozone at
# Marylebone Road 1998–2005, published as 0.38 [0.21, 0.51] ppb/year (openair before 2.18).
PUBLISHED = (0.38, 0.21, 0.51)


def _hourly() -> pl.DataFrame:
    return pl.read_csv(ARCHIVE, schema_overrides={"no2": pl.Float64, "o3": pl.Float64}).with_columns(
        pl.col("date").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC"))


def _monthly(pollutant: str) -> tuple[list[date], list[float]]:
    """openair's ``timeAverage(avg.time = "month")``: the mean of the month's valid hours."""
    months = _hourly().group_by_dynamic("date", every="1mo").agg(pl.col(pollutant).mean()).sort("date")
    return [d.date() for d in months["date"]], months[pollutant].to_list()


def test_the_archive_is_the_published_one() -> None:
    hourly = _hourly()
    assert hourly.height == 65_533  # 1998-01-01 00:00 .. 2005-06-23 12:00, as openair's `mydata`
    assert (hourly["date"].min().year, hourly["date"].max().date()) == (1998, date(2005, 6, 23))
    months, values = _monthly("o3")
    assert len(months) == 90 and sum(v is None for v in values) == 1  # one month without ozone


def test_published_ozone_trend_is_reproduced_with_openairs_settings_of_the_time() -> None:
    months, values = _monthly("o3")
    fit = theil_sen(months, values, method="openair-2.17", autocor=False)
    assert fit is not None and fit.deseasonalised and fit.n == 90 and fit.n_imputed == 1
    assert round(fit.slope_per_year, 2) == PUBLISHED[0]  # deterministic: no bootstrap in the slope
    # The interval comes from 599 resamples; openair draws them with R's generator, we with NumPy's.
    # Over ten seeds each end stays within bootstrap noise of the published one.
    ends = [theil_sen(months, values, method="openair-2.17", autocor=False, seed=s) for s in range(10)]
    lowers = [f.lower_per_year for f in ends if f is not None]
    uppers = [f.upper_per_year for f in ends if f is not None]
    assert max(abs(x - PUBLISHED[1]) for x in lowers) < 0.03
    assert max(abs(x - PUBLISHED[2]) for x in uppers) < 0.03
    assert abs(statistics.median(lowers) - PUBLISHED[1]) < 0.015
    assert abs(statistics.median(uppers) - PUBLISHED[2]) < 0.015
    assert fit.p_bootstrap < 0.001 and fit.mann_kendall.trend() == "increasing"


def test_todays_openair_settings_agree_with_the_published_example_within_its_interval() -> None:
    months, values = _monthly("o3")
    fit = theil_sen(months, values)  # openair 3.1: s.window = 11, s.degree = 1, gaps by month; blocks
    assert fit is not None and fit.block_length == round(90 ** (1 / 3)) == 4
    assert PUBLISHED[1] <= fit.slope_per_year <= PUBLISHED[2]
    assert fit.lower_per_year < fit.slope_per_year < fit.upper_per_year
    assert fit.lower_per_year <= PUBLISHED[2] and fit.upper_per_year >= PUBLISHED[1]  # the intervals overlap


def test_the_mart_gives_the_same_trend_from_hourly_readings_that_begin_in_1998() -> None:
    hourly = _hourly()
    nulls = {c: pl.lit(None, pl.Float64) for c in POLLUTANT_COLUMNS.values()}
    time = pl.col("date").dt.cast_time_unit("ms")
    raw = hourly.select(pl.lit("MY1").alias("sensor_id"), time.dt.epoch("ms").alias("event_time_ms"),
                        time.alias("event_time"), pl.lit(51.5225).alias("latitude"), pl.lit(-0.1546).alias("longitude"),
                        pl.lit(0).alias("_partition"), pl.int_range(pl.len()).alias("_offset"),
                        **{**nulls, "no2_ppb": pl.col("no2"), "o3_ppb": pl.col("o3")})
    # as the flows build it: daily sums per raw date, monthly rows from them, trends from the months
    daily = pl.concat([air_daily_sums(part.lazy(), day).collect()
                       for (day,), part in raw.group_by(pl.col("event_time").dt.date())])
    months_of = sorted({d.replace(day=1) for d in daily["date"].to_list()})
    monthly = pl.concat([air_monthly(daily.lazy(), m).collect() for m in months_of])
    out = air_trends(monthly.lazy(), date(2005, 6, 30)).sort("pollutant")
    assert out["pollutant"].to_list() == ["no2", "o3"]
    o3 = out.row(1, named=True)
    months, values = _monthly("o3")
    fit = theil_sen(months, values)
    assert fit is not None
    assert (o3["first_month"], o3["last_month"], o3["n_months"], o3["n_imputed"]) == (date(1998, 1, 1),
                                                                                     date(2005, 6, 1), 89, 1)
    assert o3["sen_slope_per_year"] == pytest.approx(fit.slope_per_year, rel=1e-9)
    assert (o3["sen_slope_lower_per_year"], o3["sen_slope_upper_per_year"]) == pytest.approx(
        (fit.lower_per_year, fit.upper_per_year), rel=1e-9)
    assert PUBLISHED[1] <= o3["sen_slope_per_year"] <= PUBLISHED[2] and o3["deseasonalised"]
    assert o3["mk_p"] < 0.001 and o3["trend"] == "increasing"


# -- by construction ------------------------------------------------------------------------------


def _months(n: int, first: date = date(2015, 1, 1)) -> list[date]:
    return month_grid([first, date(first.year + (first.month + n - 2) // 12, (first.month + n - 2) % 12 + 1, 1)],
                      [0.0, 0.0])[0]


def _days(d: date) -> float:
    return float(d.toordinal() - date(1970, 1, 1).toordinal())


SEASON = np.array([6.0, 4.0, 1.0, -1.0, -3.0, -5.0, -6.0, -4.0, -1.0, 1.0, 3.0, 5.0])


def test_a_yearly_cycle_is_removed_and_a_linear_trend_kept() -> None:
    months = _months(60)
    trend = np.array([0.02 * _days(m) for m in months])  # 7.3 units a year
    fit = theil_sen(months, list(trend + SEASON[np.arange(60) % 12]))
    assert fit is not None and fit.deseasonalised
    assert fit.slope_per_year == pytest.approx(7.3, rel=0.01)
    raw = theil_sen(months, list(trend + SEASON[np.arange(60) % 12]), deseason=False)
    assert raw is not None and not raw.deseasonalised  # the cycle's spread widens the raw interval
    assert fit.upper_per_year - fit.lower_per_year < 0.1 * (raw.upper_per_year - raw.lower_per_year)


def test_deseasonalising_starts_after_24_months() -> None:
    for n, expected in ((24, False), (25, True)):
        fit = theil_sen(_months(n), [float(k) for k in range(n)])
        assert fit is not None and fit.deseasonalised is expected


def test_six_points_are_needed() -> None:
    assert theil_sen(_months(5), [1.0, 2.0, 3.0, 4.0, 5.0]) is None
    assert theil_sen(_months(7), [1.0, None, 3.0, 4.0, 5.0, 6.0, math.nan]) is None  # type: ignore[list-item]
    fit = theil_sen(_months(6), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert fit is not None and fit.n == 6


def test_gaps_are_filled_per_calendar_month_by_a_line() -> None:
    grid = np.array([10.0 + 12 * k + (k % 12) for k in range(48)])  # each calendar month on its own line
    holes = grid.copy()
    holes[[5, 30, 47]] = np.nan
    assert fill_gaps(holes, 1) == pytest.approx(grid)
    single = np.full(24, np.nan)
    single[[0, 13]] = 3.0, 7.0  # January once, February once: the one value; other months: the mean
    filled = fill_gaps(single, 1)
    assert (filled[12], filled[1], filled[2]) == (3.0, 7.0, 5.0)
    assert fill_gaps(holes, 1, "openair-2.17")[30] == pytest.approx((grid[29] + grid[31]) / 2)


def test_stl_of_a_pure_cycle_plus_line_is_the_line() -> None:
    t = np.arange(72, dtype=float)
    out = stl_deseasonalise(3.0 + 0.5 * t + SEASON[np.arange(72) % 12])
    assert out == pytest.approx(3.0 + 0.5 * t, abs=0.05)


def test_block_resamples_are_runs_of_consecutive_months() -> None:
    idx = block_indices(90, 599, 4, np.random.default_rng(0))
    assert idx.shape == (599, 90) and idx.min() >= 0 and idx.max() <= 89
    runs = idx[:, :88].reshape(599, 22, 4)
    assert (np.diff(runs, axis=2) == 1).all()
    assert len({int(s) for s in runs[:, :, 0].ravel()}) == 87  # every start 0 .. 86 is drawn


def test_blocks_widen_the_interval_of_an_autocorrelated_series() -> None:
    rng = np.random.default_rng(7)
    noise = np.zeros(120)
    for k in range(1, 120):
        noise[k] = 0.85 * noise[k - 1] + rng.normal()
    months = _months(120)
    values = list(0.001 * np.array([_days(m) for m in months]) + noise)
    iid = theil_sen(months, values, deseason=False, autocor=False)
    blocks = theil_sen(months, values, deseason=False, autocor=True)
    assert iid is not None and blocks is not None and blocks.block_length == 5
    assert iid.slope_per_year == blocks.slope_per_year
    assert blocks.upper_per_year - blocks.lower_per_year > 1.2 * (iid.upper_per_year - iid.lower_per_year)


def test_interval_and_p_follow_the_sorted_resamples() -> None:
    months = _months(30)
    values = [float(k % 7) + 0.1 * k for k in range(30)]
    fit = theil_sen(months, values, deseason=False, autocor=False, seed=5)
    assert fit is not None
    t = np.array([_days(m) for m in months])
    boot = np.sort(bootstrap_slopes(t, np.array(values), block_length=1, seed=5)) * 365
    assert (fit.lower_per_year, fit.upper_per_year) == (boot[15], boot[583])  # 16th and 584th of 599
    below = (np.sum(boot < 0) + 0.5 * np.sum(boot == 0)) / 599
    assert fit.p_bootstrap == 2 * min(below, 1 - below)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="method"):
        theil_sen(_months(6), [1.0] * 6, method="R")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        theil_sen(_months(6), [1.0] * 6, alpha=1.5)
