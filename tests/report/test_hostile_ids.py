"""Ids from the wire stay text: markup, ``$`` (matplotlib math), backslashes, quotes, path separators,
control characters, emoji, a leading ``_`` and 10 kB strings neither break the report nor reach its HTML as
markup or its charts as math."""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from unittest.mock import patch

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.text import Text

from smartcity.report import build_report, charts, sections
from smartcity.report.charts import MAX_LABEL, STYLE, Chart, id_label
from smartcity.report.data import ReportData, gather
from smartcity.report.html import Column, figure, paragraph, table
from smartcity.report.sections import Section, build_sections
from smartcity.report.summary import KeyFigure, key_figures
from smartcity.report.template import page
from tests.report.helpers import CROWDING, DAY, HOUR, OPEN, T0, alert, copy_samples, land_alerts, rename_ids
from tests.report.pages import PNG_SIGNATURE, SECTION_IDS, parse_report, png_bytes

SCRIPT = "<script>alert(1)</script>"
HOSTILE = [
    SCRIPT, "<SCRIPT src=//evil.example/x.js>", "</td></tr></table><p>", "<img src=x onerror=alert(1)>", "<!--",
    "$", "$$", "R$$", "$x$", r"$\alpha$", r"$\frac{1}{0", "\\", r"\$", r"a\$b$", "%s %d {0}",
    '"quoted"', "'single'", "a & b &amp; &#0; &lt;", "../../etc/passwd", "C:\\Windows\\x", "/",
    "\x00", "\x07\x1b[31mred\x1b[0m", "tab\tline\nfeed\rreturn", "\x0b\x0c\x85\u2028\u2029", "\u202eevil",
    "🚌🔥", "👩\u200d👩\u200d👧", "_hidden", "_", "__legend__", "", " ", "\u00a0",
    "x" * 10_000, "$" * 10_000, "<script>" * 1_250,
]
IDS = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.builds(operator.add, st.sampled_from(HOSTILE), st.text(max_size=8)),
)
HTML_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Every tag the report writes; anything else in the file would come from data.
TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "span", "p", "main", "div", "nav", "a",
        "section", "h2", "figure", "img", "figcaption", "table", "caption", "thead", "tbody", "tr", "th", "td",
        "footer"}
ATTRIBUTES = {"lang", "charset", "name", "content", "class", "id", "href", "src", "alt", "style"}
HYPOTHESIS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shown(value: str) -> str:
    """How the page shows a text: controls HTML does not allow as U+FFFD."""
    return HTML_CONTROLS.sub("\ufffd", value)


def escaped(value: str) -> str:
    return escape(shown(value))


class Markup(HTMLParser):
    """The tags and attributes of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)


def assert_no_markup_from_data(html: str) -> None:
    """Only the report's own tags and attributes: images are embedded PNGs, links go to its sections."""
    assert not re.search(r"<\s*(script|img\s+src=x|!--)", html, re.I)
    markup = Markup()
    markup.feed(html)
    markup.close()
    assert markup.tags <= TAGS
    for tag, name, value in markup.attributes:
        assert name in ATTRIBUTES, (tag, name)
        if name == "src":
            assert (value or "").startswith("data:image/png;base64,")
        if name == "href":
            assert (value or "").startswith("#") and value in {f"#{s}" for s in SECTION_IDS}


# --- end to end ---------------------------------------------------------------------------------------------

ROUTE_NAMES = {"R01": "R$$", "R02": SCRIPT}
SENSOR_NAMES = {"AQ007": r"$\alpha$</td>", "AQ030": "_cold"}  # both in a Gi* spot: annotated on the map
STATION_NAMES = {"S007": "</td><script>x</script>"}  # the most overcrowded station: first row of its table


def test_report_with_hostile_ids_from_devices_renders_them_as_text(tmp_path: Path) -> None:
    """Regression: a bus reporting route ``R$$`` made matplotlib's math-text parser raise ``ParseException``."""
    root = copy_samples(tmp_path / "lake")
    for dataset in ("bus_telemetry", "station_events"):
        rename_ids(root, dataset, "route_id", ROUTE_NAMES)
    rename_ids(root, "air_readings", "sensor_id", SENSOR_NAMES)
    rename_ids(root, "station_events", "station_id", STATION_NAMES)
    land_alerts(root, [alert("bus-x", OPEN, T0 + 17 * HOUR, kind=CROWDING, subject=SCRIPT, subject_type="bus",
                             route="R$$", start_ms=T0 + 17 * HOUR, peak=1.2, threshold=1.0, unit="ratio",
                             message="<img src=x onerror=alert(1)> $$")])

    html = build_report(root, DAY).read_text(encoding="utf-8")

    assert_no_markup_from_data(html)
    for hostile in (*ROUTE_NAMES.values(), *STATION_NAMES.values(), SENSOR_NAMES["AQ007"]):
        assert escape(hostile) in html
    content = parse_report(html)
    assert list(content) == list(SECTION_IDS)
    for section_id in ("headways", "on-time"):
        routes = [row[0] for row in content[section_id].rows[1:]]
        assert {"R$$", SCRIPT} <= set(routes), section_id
    assert content["stations"].rows[1][0] == STATION_NAMES["S007"]
    assert SENSOR_NAMES["AQ007"] in [row[0] for row in content["aqi-map"].rows[1:]]
    assert content["alerts"].rows[1][2] == f"bus {SCRIPT} (route R$$)"
    assert content["alerts"].rows[1][-1] == "<img src=x onerror=alert(1)> $$"
    for section_id in ("aqi-map", "occupancy", "headways", "on-time"):
        [image] = content[section_id].images
        assert png_bytes(image).startswith(PNG_SIGNATURE)


# --- chart labels -------------------------------------------------------------------------------------------

def test_chart_labels_are_one_short_line_of_literal_text() -> None:
    assert id_label("R$$") == "R$$"
    assert id_label(r"$\alpha$ \\ _x") == r"$\alpha$ \\ _x"
    assert id_label("a\nb\x00c\x1b\u2028") == "a\ufffdb\ufffdc\ufffd\ufffd"
    assert id_label(None) == ""
    long = id_label("x" * 10_000)
    assert len(long) == MAX_LABEL and long.endswith("…")
    assert STYLE["text.parse_math"] is False and STYLE["text.usetex"] is False


@pytest.mark.parametrize("hostile", ["R$$", "$", r"$\alpha$", r"$\frac{1}{0", r"\$x$"])
def test_chart_style_draws_dollars_as_text(hostile: str) -> None:
    """Under ``STYLE`` matplotlib (as installed) neither parses nor unescapes ``$``: the text is drawn as is."""
    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ax.set_title(hostile)
        ax.set_xticks([0], [hostile])
        ax.annotate(hostile, (0, 0))
        drawn.extend(t for t in fig.findobj(Text) if t.get_text() == hostile)

    drawn: list[Text] = []
    chart = charts.render(draw, 2, 2, "a test")
    assert png_bytes(chart.uri).startswith(PNG_SIGNATURE)
    assert len(drawn) >= 2
    for text in drawn:
        assert text.get_parse_math() is False and text.get_usetex() is False
        assert text._preprocess_math(text.get_text()) == (hostile, False)


# --- every renderer, with random hostile ids ----------------------------------------------------------------

ROUTES = ("R01", "R02", "R03")
SENSORS = ("AQ007", "AQ016", "AQ030")  # a PM2.5 hot spot, the day's highest AQI (and an alert subject), a cold spot
STATIONS = ("S002", "S005", "S007")
BUS = "B007"  # subject of the crowding alert on route R03


@pytest.fixture(scope="module")
def small(sample_lake: Path) -> ReportData:
    """The sample day cut to three routes, sensors and stations, with a trend per sensor (for its table)."""
    data = gather(sample_lake, date.fromisoformat(DAY))
    assert data.alerts.height == 2
    trends = pl.DataFrame([dict(date=data.day, sensor_id=s, pollutant="pm25", unit="µg/m³", n_months=7,
                                first_month=date(2025, 8, 1), last_month=date(2026, 2, 1), mean=12.0,
                                deseasonalised=True, sen_slope_per_year=-0.8, sen_slope_pct_per_year=-6.7, mk_s=-9,
                                mk_z=-2.1, mk_p=0.03, mk_tau=-0.43, trend="decreasing") for s in SENSORS],
                          schema=data.trends.schema)
    sensor = pl.col("sensor_id").is_in(SENSORS)
    return dataclasses.replace(
        data,
        air_hourly=data.air_hourly.filter(sensor),
        hotspots=data.hotspots.filter(sensor),
        trends=trends,
        occupancy=data.occupancy.filter(pl.col("route_id").is_in(ROUTES)),
        routes=data.routes.filter(pl.col("route_id").is_in(ROUTES)),
        stations=data.stations.filter(pl.col("station_id").is_in(STATIONS)),
    )


def with_ids(data: ReportData, routes: dict[str, str], sensors: dict[str, str], stations: dict[str, str],
             bus: str, message: str) -> ReportData:
    """``data`` with its ids renamed (as if devices had sent those) and every alert carrying ``message``."""
    def rename(frame: pl.DataFrame, column: str, names: dict[str, str]) -> pl.DataFrame:
        return frame.with_columns(pl.col(column).replace(names))

    alerts = rename(rename(data.alerts, "subject_id", {**sensors, BUS: bus}), "route_id", routes)
    return dataclasses.replace(
        data,
        air_hourly=rename(data.air_hourly, "sensor_id", sensors),
        hotspots=rename(data.hotspots, "sensor_id", sensors),
        trends=rename(data.trends, "sensor_id", sensors),
        air_daily=rename(data.air_daily, "sensor_id", sensors),
        occupancy=rename(data.occupancy, "route_id", routes),
        routes=rename(data.routes, "route_id", routes),
        stations=rename(data.stations, "station_id", stations),
        alerts=alerts.with_columns(pl.lit(message).alias("message")),
    )


@contextmanager
def recorded_texts() -> Iterator[list[list[Text]]]:
    """The texts of every figure ``charts.render`` draws, taken once it is saved (still under its style).

    For speed, figures are drawn at a low resolution, and the two charts that draw no id (city-wide
    pollutant means, the AQI calendar: the end-to-end test draws them) are not drawn."""
    figures: list[list[Text]] = []

    class Recorded(Figure):
        def savefig(self, *args: Any, **kwargs: Any) -> None:
            super().savefig(*args, **kwargs)
            figures.append(self.findobj(Text))

    not_drawn = Chart("data:image/png;base64,iVBORw0KGgo=", 100, "not drawn")
    with (patch.object(charts, "Figure", Recorded), patch.object(charts, "DPI", 30),
          patch.object(sections, "pollutant_lines", return_value=not_drawn),
          patch.object(sections, "aqi_calendar", return_value=not_drawn)):
        yield figures


@HYPOTHESIS
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@given(names=st.lists(IDS, min_size=10, max_size=10, unique=True), message=IDS)
def test_every_renderer_keeps_hostile_ids_as_text(small: ReportData, names: list[str], message: str) -> None:
    routes = dict(zip(ROUTES, names[0:3], strict=True))
    sensors = dict(zip(SENSORS, names[3:6], strict=True))
    stations = dict(zip(STATIONS, names[6:9], strict=True))
    bus = names[9]
    data = with_ids(small, routes, sensors, stations, bus, message)

    with recorded_texts() as figures:
        html = page(title=f"report {names[0]}", day_long=names[1], meta=f"Lake {names[2]}", footer=names[3],
                    figures=key_figures(data), sections=build_sections(data))

    # Charts: every text plain (no math, no TeX), every id one short line of its literal characters.
    assert len(figures) == 4  # the AQI map, the occupancy heatmap, the wait bars, the on-time bars
    texts = [text for drawn_texts in figures for text in drawn_texts]
    assert all(t.get_parse_math() is False and t.get_usetex() is False for t in texts)
    drawn = {t.get_text() for t in texts}
    for name in (*routes.values(), sensors["AQ007"], sensors["AQ030"]):  # ticks of 3 charts; the spots' annotations
        assert id_label(name) in drawn
        assert len(id_label(name)) <= MAX_LABEL and not re.search(r"[\x00-\x1f\x7f-\x9f]", id_label(name))

    # HTML: nothing from the data becomes markup; every id is there, escaped, and reads back as itself.
    assert_no_markup_from_data(html)
    for name in (*names, message):
        assert escaped(name) in html
    content = parse_report(html)
    assert list(content) == list(SECTION_IDS)
    for section_id in ("headways", "on-time"):
        assert sorted(row[0] for row in content[section_id].rows[1:]) == sorted(
            shown(r).strip() for r in routes.values())
    assert sorted(row[0] for row in content["stations"].rows[1:]) == sorted(
        shown(s).strip() for s in stations.values())
    assert sorted(row[0] for row in content["pollutant-trends"].rows[1:]) == sorted(
        shown(s).strip() for s in sensors.values())
    assert {row[0] for row in content["aqi-map"].rows[1:]} == {shown(sensors[s]).strip() for s in ("AQ007", "AQ030")}
    assert [row[-1] for row in content["alerts"].rows[1:]] == [shown(message).strip()] * 2
    assert f"{escaped(sensors['AQ016'])} at 06:00 UTC" in html  # the highest-AQI tile


@HYPOTHESIS
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@given(value=IDS)
def test_html_builders_escape_any_text(value: str) -> None:
    chart = Chart("data:image/png;base64,AAAA", 100, value)
    body = (paragraph(value) + paragraph(value, "empty") + figure(chart, value)
            + table([Column(value, lambda row: row["id"])], [{"id": value}], value))
    html = page(title=value, day_long=value, meta=value, footer=value, sections=[Section("alerts", value, body)],
                figures=[KeyFigure(value, value, value)])
    assert_no_markup_from_data(html)
    if value:
        assert html.count(escaped(value)) >= 16  # title, header, tile, heading, link, paragraphs, figure, table
    content = parse_report(html)["alerts"]
    assert content.heading == shown(value)
    assert content.rows == [[shown(value).strip()], [shown(value).strip()]]
