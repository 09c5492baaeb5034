"""A scheduled run reads what changed, not the history: the air marts on lakes of 3 and 13 months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from polars.testing import assert_frame_equal

from smartcity.analysis.marts import compute_mart
from smartcity.analysis.marts.air_monthly import months_touched
from smartcity.flows import jobs
from smartcity.storage.marts import read_mart
from smartcity.storage.read_stats import read_stats
from smartcity.storage.scan import dataset_files
from tests.marts.lakes import land, reading

NEW_DAY = date(2026, 3, 10)
SENSORS = ("S1", "S2")


def _ms(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp() * 1000)


def _readings(days: list[date]) -> list:
    """Two readings a day per sensor, PM2.5 and NO2 drifting upwards with a yearly swing."""
    out = []
    for k, day in enumerate(days):
        for hour in (3, 15):
            for s, sensor in enumerate(SENSORS):
                out.append(reading(sensor, _ms(day, hour), pm25_ugm3=10.0 + 0.01 * k + s + (day.month % 6),
                                   no2_ppb=30.0 + 0.02 * k - s))
    return out


def _lake(root: Path, months: int) -> int:
    """A lake of ``months`` whole months before March 2026, every mart built; returns the offsets landed."""
    first = date(2026, 3, 1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    history = _readings([first + timedelta(days=k) for k in range((date(2026, 3, 1) - first).days)])
    land(root, "parquet", "air_readings", history)
    for mart, day in jobs.plan(root, jobs.AIR_QUALITY):
        jobs.build_mart(root, mart, day)
    assert jobs.plan(root, jobs.AIR_QUALITY) == []  # everything is current
    return len(history)


def test_an_hourly_run_reads_the_new_day_and_the_stored_months_not_the_history(tmp_path: Path) -> None:
    runs = {}
    for months in (3, 13):
        root = tmp_path / f"lake-{months}"
        landed = _lake(root, months)
        land(root, "parquet", "air_readings", _readings([NEW_DAY]), first_offset=landed)
        steps = jobs.plan(root, jobs.AIR_QUALITY)
        assert steps == [("air_quality_hourly", "2026-03-10"), ("air_hotspots", "2026-03-10"),
                         ("air_daily_sums", "2026-03-10"), ("air_monthly", "2026-03-01"),
                         ("air_trends", "2026-03-10")]
        runs[months] = {mart: jobs.build_mart(root, mart, day) for mart, day in steps}
        history = read_stats(dataset_files(root, "air_readings"))
        trends = runs[months]["air_trends"]
        # March's trends are February's: the complete months are the same, so the stored partition is copied
        assert trends.read.rows == len(SENSORS) * 2 and trends.read.partitions == 1
        assert trends.read.rows < history.rows / 15
        # and give what the raw history gives when computed from it directly
        assert_frame_equal(read_mart(root, "air_trends", [NEW_DAY]),
                           compute_mart("air_trends", root, NEW_DAY, upstream="compute"))
    for mart in ("air_quality_hourly", "air_hotspots", "air_daily_sums", "air_monthly"):
        assert runs[3][mart].read == runs[13][mart].read, mart  # flat in the length of the history
        assert runs[13][mart].read.rows in (0, 2 * len(SENSORS)), mart  # the new day's readings, or nothing
    assert runs[13]["air_daily_sums"].read.partitions == 2  # hours 03 and 15 of the new day
    assert runs[13]["air_trends"].rows == runs[3]["air_trends"].rows == len(SENSORS) * 2


def test_late_readings_of_an_old_month_rebuild_that_month_only(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    landed = _lake(root, 3)
    before = read_mart(root, "air_monthly", [date(2026, 1, 1)])
    land(root, "parquet", "air_readings", [reading("S1", _ms(date(2026, 1, 15), 9), pm25_ugm3=500.0)],
         first_offset=landed)
    steps = jobs.plan(root, jobs.AIR_QUALITY)
    assert [(m, d) for m, d in steps if m.startswith("air_monthly") or m == "air_daily_sums"] == [
        ("air_daily_sums", "2026-01-15"), ("air_monthly", "2026-01-01")]
    for mart, day in steps:
        jobs.build_mart(root, mart, day)
    after = read_mart(root, "air_monthly", [date(2026, 1, 1)])
    s1 = after.filter((after["sensor_id"] == "S1") & (after["pollutant"] == "pm25"))
    old = before.filter((before["sensor_id"] == "S1") & (before["pollutant"] == "pm25"))
    assert s1["n"][0] == old["n"][0] + 1 and s1["micro_sum"][0] == old["micro_sum"][0] + 500_000_000


def test_a_first_day_changes_its_month_and_the_one_before() -> None:
    assert months_touched(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 3, 1))
    assert months_touched(date(2026, 1, 1)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert months_touched(date(2026, 3, 31)) == (date(2026, 3, 1),)


def test_a_report_day_builds_the_upstream_months_it_needs(tmp_path: Path) -> None:
    """``daily_report`` asks for one date; trends as of it still see every month, built first."""
    root = tmp_path / "lake"
    land(root, "parquet", "air_readings", _readings([date(2026, 1, 1) + timedelta(days=k) for k in range(68)]))
    steps = jobs.plan(root, ["air_trends"], ["2026-03-09"])
    # 1 January could hold December's last end-marked hour, so December is summed too (it has no rows)
    assert [d for m, d in steps if m == "air_monthly"] == ["2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01"]
    assert [d for m, d in steps if m == "air_trends"] == ["2026-03-09"]
    assert len([m for m, _ in steps if m == "air_daily_sums"]) == 68


def _run(root: Path) -> dict[str, jobs.MartRun]:
    return {mart: jobs.build_mart(root, mart, day) for mart, day in jobs.plan(root, jobs.AIR_QUALITY)}


def test_trends_are_computed_once_a_month_and_again_when_a_past_month_changes(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    landed = _lake(root, 8)
    settled = [d for d in read_mart(root, "air_monthly")["date"].unique() if d < date(2026, 3, 1)]
    monthly_rows = read_mart(root, "air_monthly", settled).height
    for k, day in enumerate((NEW_DAY, NEW_DAY + timedelta(days=1))):  # two runs in March
        land(root, "parquet", "air_readings", _readings([day]), first_offset=landed + 4 * k)
        trends = _run(root)["air_trends"]
        # February's trends (as of 28 February) hold March's: the complete months are the same
        assert trends.read.rows == len(SENSORS) * 2 and trends.read.partitions == 1
        assert_frame_equal(read_mart(root, "air_trends", [day]),
                           compute_mart("air_trends", root, day, upstream="compute"))
    # a late reading for January changes January's sums; the next March run computes the trends again
    land(root, "parquet", "air_readings", [reading("S1", _ms(date(2026, 1, 20), 9), no2_ppb=400.0)],
         first_offset=landed + 8)
    assert _run(root)["air_monthly"].date == "2026-01-01"
    land(root, "parquet", "air_readings", _readings([NEW_DAY + timedelta(days=2)]), first_offset=landed + 9)
    trends = _run(root)["air_trends"]
    assert trends.read.rows >= monthly_rows
    day = NEW_DAY + timedelta(days=2)
    assert_frame_equal(read_mart(root, "air_trends", [day]), compute_mart("air_trends", root, day, upstream="compute"))
