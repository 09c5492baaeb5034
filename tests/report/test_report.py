"""The daily report of the sample day: sections with content, embedded PNGs, nothing external."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from PIL import Image

from smartcity.analysis.marts import MARTS, compute_mart
from smartcity.cli.main import main
from smartcity.report import ReportError, build_report, report_path
from smartcity.report.data import gather
from smartcity.storage.marts import mart_dates, read_mart, write_mart
from tests.report.helpers import DAY, copy_samples
from tests.report.pages import PNG_SIGNATURE, SECTION_IDS, external_references, parse_report, png_bytes


@pytest.fixture(scope="module")
def sections(sample_report: Path) -> dict:
    return parse_report(sample_report.read_text(encoding="utf-8"))


def test_report_goes_to_the_lake_reports_folder_by_default(sample_lake: Path, sample_report: Path) -> None:
    assert sample_report == sample_lake / "reports" / "smartcity-report-2026-03-10.html"
    assert sample_report == report_path(sample_lake, date(2026, 3, 10))
    assert [p.name for p in sample_report.parent.iterdir()] == [sample_report.name]  # no temporary file left


def test_marts_computed_for_the_report_are_not_written(sample_lake: Path, sample_report: Path) -> None:
    assert all(mart_dates(sample_lake, name) == [] for name in MARTS)
    assert "Computed for this report (not stored)" in sample_report.read_text(encoding="utf-8")


def test_every_section_is_present_with_a_heading_and_content(sections: dict) -> None:
    assert list(sections) == list(SECTION_IDS)
    for section_id, content in sections.items():
        assert content.heading.strip(), section_id
        assert content.images or content.tables or content.empty_notes, section_id
        assert len(content.text.strip()) > 40, section_id


@pytest.mark.parametrize(("section_id", "images", "tables"), [
    ("aqi-map", 1, 1), ("pollutant-trends", 1, 0), ("aqi-calendar", 1, 0), ("occupancy", 1, 0),
    ("headways", 1, 1), ("on-time", 1, 1), ("stations", 0, 1), ("alerts", 0, 1),
])
def test_sample_day_fills_each_section(sections: dict, section_id: str, images: int, tables: int) -> None:
    content = sections[section_id]
    assert len(content.images) == images
    assert content.tables == tables


def test_images_are_embedded_pngs(sections: dict) -> None:
    uris = [uri for content in sections.values() for uri in content.images]
    assert len(uris) == 6
    for uri in uris:
        data = png_bytes(uri)
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            assert image.width >= 600 and image.height >= 300
            assert len(image.convert("RGB").getcolors(1 << 20) or ()) > 20  # drawn, not blank


def test_file_references_nothing_external(sample_report: Path) -> None:
    html = sample_report.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert 'src="http' not in html and "<link" not in html and "<script" not in html
    assert html.count("<style>") == 1


def test_header_and_summary_strip(sample_lake: Path, sample_report: Path) -> None:
    html = sample_report.read_text(encoding="utf-8")
    assert "Tuesday 10 March 2026" in html
    assert str(sample_lake.resolve()) in html
    assert "generated " in html
    for label in ("Highest AQI", "Mean excess wait", "On time", "Crowded", "Alerts"):
        assert f'<div class="label">{label}</div>' in html
    hourly = compute_mart("air_quality_hourly", sample_lake, DAY)
    worst = hourly.sort("aqi", "hour", descending=[True, False]).row(0, named=True)
    assert f'<div class="value">{worst["aqi"]}</div>' in html
    assert f"{worst['sensor_id']} at {worst['hour']:%H:%M} UTC" in html
    assert '<div class="value">2</div><div class="note">1 critical</div>' in html


def test_route_tables_show_every_route(sections: dict, sample_lake: Path) -> None:
    routes = compute_mart("route_performance", sample_lake, DAY)
    for section_id in ("headways", "on-time"):
        rows = sections[section_id].rows[1:]
        assert [r[0] for r in rows] == sorted(routes["route_id"].to_list())
    ewt = {r[0]: r[4] for r in sections["headways"].rows[1:]}
    first = routes.sort("route_id").row(0, named=True)
    assert ewt[first["route_id"]] == f"{first['ewt_min']:.2f}"


def test_station_table_ranks_by_overcrowding(sections: dict, sample_lake: Path) -> None:
    stations = compute_mart("station_service", sample_lake, DAY).filter(pl.col("period") == "day")
    rows = sections["stations"].rows
    assert rows[0][:3] == ["Station", "Overcrowding episodes", "Peak waiting"]
    episodes = [int(r[1]) for r in rows[1:]]
    assert len(rows) - 1 == min(15, stations.height)
    assert episodes == sorted(episodes, reverse=True)
    assert episodes[0] == stations["overcrowding_events"].max()


def test_alerts_table_has_one_row_per_episode(sections: dict) -> None:
    header, *rows = sections["alerts"].rows
    assert header[:6] == ["Severity", "Kind", "Subject", "Start (UTC)", "End (UTC)", "Peak"]
    assert rows[0][:6] == ["Critical", "Air quality", "sensor AQ016", "07:00", "09:00", "162 AQI"]
    assert rows[0][-1] == "AQI back below 100 at AQ016"
    assert rows[1][:6] == ["Warning", "Crowding", "bus B007 (route R03)", "17:00", "open", "1.12 ratio"]
    assert rows[1][-1] == "B007 <crowded> & full"  # escaped in the file, read back as text


def test_day_without_alerts_says_so(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "lake")
    content = parse_report(build_report(root, date(2026, 3, 10)).read_text(encoding="utf-8"))["alerts"]
    assert content.tables == 0
    assert content.empty_notes and content.empty_notes[0].startswith("No alerts")


def test_stored_marts_are_read_not_recomputed(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "lake")
    for name in MARTS:
        for day in MARTS[name].partitions(date(2026, 3, 10)):
            write_mart(root, name, day, compute_mart(name, root, day))
    routes = read_mart(root, "route_performance", [DAY])
    write_mart(root, "route_performance", DAY, routes.with_columns(pl.col("ewt_min") + 100))
    data = gather(root, date(2026, 3, 10))
    assert data.computed == ()
    html = build_report(root, DAY, tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Computed for this report" not in html
    assert f"{routes.sort('route_id')['ewt_min'][0] + 100:.2f}" in html


def test_history_fills_the_calendar_and_daily_lines(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "lake")
    hourly = compute_mart("air_quality_hourly", root, DAY)
    for past, factor in ((date(2026, 1, 20), 3), (date(2026, 2, 14), 2), (date(2026, 3, 9), 1)):
        shift = pl.duration(days=(date(2026, 3, 10) - past).days)
        write_mart(root, "air_quality_hourly", past, hourly.with_columns(
            pl.lit(past).alias("date"), pl.col("hour") - shift, pl.col("aqi") * factor))
    data = gather(root, date(2026, 3, 10))
    assert data.air_daily["date"].to_list() == [date(2026, 1, 20), date(2026, 2, 14), date(2026, 3, 9),
                                                date(2026, 3, 10)]
    worst = int(hourly["aqi"].max())
    assert data.air_daily["aqi_max"].to_list() == [3 * worst, 2 * worst, worst, worst]
    html = build_report(root, DAY).read_text(encoding="utf-8")
    assert "4 days with data since 20\u00a0Jan\u00a02026" in html
    assert "daily means (mean of every sensor" in html


def test_lake_with_air_data_only_still_reports(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "lake")
    for dataset in ("bus_telemetry", "station_events"):
        for folder in (root / "raw" / dataset).iterdir():
            for path in sorted(folder.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            folder.rmdir()
    content = parse_report(build_report(root, DAY).read_text(encoding="utf-8"))
    assert list(content) == list(SECTION_IDS)
    for section_id in ("occupancy", "headways", "on-time", "stations"):
        assert content[section_id].empty_notes, section_id
        assert not content[section_id].images
    assert content["aqi-map"].images


def test_no_data_for_the_date_is_a_one_line_error(sample_lake: Path) -> None:
    with pytest.raises(ReportError) as caught:
        build_report(sample_lake, "2026-03-11")
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"no data for 2026-03-11 in {sample_lake.resolve()}: dates with data are 2026-03-10"
    assert not (sample_lake / "reports" / "smartcity-report-2026-03-11.html").exists()


def test_a_date_that_is_not_a_date_is_a_report_error(sample_lake: Path) -> None:
    with pytest.raises(ReportError, match="YYYY-MM-DD"):
        build_report(sample_lake, "10/03/2026")


def test_cli_no_data_exits_1_with_one_line(sample_lake: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "report", "--date", "2026-03-11", "--lake",
                           str(sample_lake)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [f"smartcity: error: no data for 2026-03-11 in {sample_lake.resolve()}: dates with data "
                     "are 2026-03-10"]


def test_cli_writes_the_report_and_prints_its_path(sample_lake: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "daily" / "report.html"
    assert main(["report", "--date", DAY, "--lake", str(sample_lake), "--output", str(target)]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    assert list(parse_report(target.read_text(encoding="utf-8"))) == list(SECTION_IDS)


def test_cli_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example:" in text and "smartcity report --date" in text
