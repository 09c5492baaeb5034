"""The report's sections: each an id, a heading and its HTML body, built from ``ReportData``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from smartcity.analysis.marts.air_trends import MIN_MONTHS
from smartcity.report.air_charts import aqi_calendar, aqi_map, pollutant_lines, sensor_days
from smartcity.report.data import POLLUTANT_NAMES, ReportData
from smartcity.report.html import DASH, Column, clock, empty, figure, num, paragraph, pct, table
from smartcity.report.transit_charts import occupancy_heatmap, on_time_bars, wait_bars

MAX_ROWS = 15
MAX_ALERTS = 100


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _long(day: object) -> str:
    assert isinstance(day, date)
    return f"{day.day}\u00a0{day:%b}\u00a0{day.year}"


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "\u2212")


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: str


def aqi_map_section(data: ReportData) -> Section:
    sensors = sensor_days(data.air_hourly, data.hotspots)
    if sensors.is_empty():
        return Section("aqi-map", "AQI map and hot spots", empty("No air-quality readings on this day."))
    band = data.hotspots["distance_m"].drop_nulls()
    band_text = f"{band[0]:.0f} m" if band.len() else "the distance band"
    intro = paragraph(
        f"{sensors.height} sensors, each coloured by its highest hourly US EPA AQI of the day. Squares mark "
        f"Getis–Ord Gi* hot spots (red) and cold spots (blue) of the daily mean PM2.5 and NO2 among sensors "
        f"within {band_text}; the thicker the outline, the higher the confidence (90, 95, 99 %).")
    return Section("aqi-map", "AQI map and hot spots", intro + figure(aqi_map(sensors)) + _spots_table(data))


def _spots_table(data: ReportData) -> str:
    spots = data.hotspots.filter((pl.col("pm25_hotspot") != 0) | (pl.col("no2_hotspot") != 0))
    if spots.is_empty():
        return empty("No significant hot or cold spot of PM2.5 or NO2 on this day.")
    worst = data.air_hourly.group_by("sensor_id").agg(pl.col("aqi").max().alias("aqi_max"))
    rows = spots.join(worst, on="sensor_id", how="left").sort(
        pl.max_horizontal("pm25_hotspot", "no2_hotspot"), "sensor_id", descending=[True, False])
    columns = [
        Column("Sensor", lambda r: r["sensor_id"]),
        Column("Highest AQI", lambda r: DASH if r["aqi_max"] is None else str(r["aqi_max"]), True),
        Column("PM2.5 mean (µg/m³)", lambda r: num(r["pm25_mean_ugm3"], 1), True),
        Column("PM2.5 class", lambda r: r["pm25_hotspot_label"] or DASH),
        Column("NO2 mean (ppb)", lambda r: num(r["no2_mean_ppb"], 1), True),
        Column("NO2 class", lambda r: r["no2_hotspot_label"] or DASH),
    ]
    return table(columns, rows.iter_rows(named=True), "Sensors in a hot or cold spot")


def _trends_table(trends: pl.DataFrame) -> str:
    estimated = trends.filter(pl.col("sen_slope_per_year").is_not_null())
    if estimated.is_empty():
        longest = int(trends.select(pl.col("n_months").max()).item() or 0) if trends.height else 0
        have = f"the longest series so far has {_plural(longest, 'month')}" if longest else "no month is complete yet"
        return empty(f"No long-term trends yet: a trend needs at least {MIN_MONTHS} complete calendar months of data "
                     f"per sensor and pollutant, and {have}.")
    counts = estimated["trend"].value_counts().sort("trend")
    summary = ", ".join(f"{n} {t}" for t, n in counts.iter_rows())
    rows = estimated.sort(pl.col("trend") == "no trend", "mk_p", "sensor_id").head(MAX_ROWS)
    columns = [
        Column("Sensor", lambda r: r["sensor_id"]),
        Column("Pollutant", lambda r: POLLUTANT_NAMES.get(r["pollutant"], r["pollutant"])),
        Column("Months", lambda r: str(r["n_months"]), True),
        Column("Mean", lambda r: f"{num(r['mean'], 2)} {r['unit']}", True),
        Column("Sen slope / year", lambda r: f"{num(r['sen_slope_per_year'], 2)} {r['unit']}", True),
        Column("95 % interval", lambda r: f"{num(r['sen_slope_lower_per_year'], 2)} to "
                                          f"{num(r['sen_slope_upper_per_year'], 2)}", True),
        Column("% / year", lambda r: num(r["sen_slope_pct_per_year"], 1), True),
        Column("Mann–Kendall p", lambda r: num(r["mk_p"], 4), True),
        Column("Trend", lambda r: r["trend"]),
    ]
    caption = f"Trends of monthly means as of the day ({summary}); strongest evidence first"
    return table(columns, rows.iter_rows(named=True), caption)


def trends_section(data: ReportData) -> Section:
    daily = data.air_daily.filter(pl.col("aqi_max").is_not_null() | pl.col("pm25_ugm3").is_not_null())
    if data.air_hourly.is_empty() and daily.height < 2:
        chart = empty("No air-quality readings on this day.")
    else:
        chart = figure(pollutant_lines(daily, data.air_hourly, data.day))
    if daily.height >= 2:
        intro = (f"City-wide daily means (mean of every sensor's hourly means) over the {daily.height} days with "
                 f"data from {_long(daily['date'].min())} to {_long(daily['date'].max())}; the report's day in red.")
    else:
        intro = ("Only this day has air-quality data so far, so the lines show the city-wide mean of each hour "
                 "(UTC) of the day.")
    return Section("pollutant-trends", "Pollutant trends", paragraph(intro) + chart + _trends_table(data.trends))


def calendar_section(data: ReportData) -> Section:
    daily = data.air_daily.filter(pl.col("aqi_max").is_not_null())
    if daily.is_empty():
        return Section("aqi-calendar", "AQI calendar", empty("No AQI values in the history shown."))
    intro = paragraph(
        f"The highest hourly US EPA AQI of each day over every sensor ({_plural(daily.height, 'day')} with data "
        f"since {_long(daily['date'].min())}); the report's day is framed.")
    chart = aqi_calendar(data.air_daily, data.day, data.history_months)
    return Section("aqi-calendar", "AQI calendar", intro + figure(chart))


def occupancy_section(data: ReportData) -> Section:
    occupancy = data.occupancy.filter(pl.col("load_factor_mean").is_not_null())
    title = "Bus occupancy by route and hour"
    if occupancy.is_empty():
        return Section("occupancy", title, empty("No bus telemetry on this day."))
    intro = paragraph(
        "Mean load factor (passengers per seat, weighted by telemetry readings) of each route in each UTC "
        "hour; above 1.0 passengers stand. Blank cells: no bus of the route reported in that hour.")
    return Section("occupancy", title, intro + figure(occupancy_heatmap(occupancy)))


def headways_section(data: ReportData) -> Section:
    title = "Headways and excess waiting time"
    routes = data.routes.filter((pl.col("headways") > 0) & pl.col("awt_min").is_not_null())
    if routes.is_empty():
        return Section("headways", title, empty("No headways on this day."))
    intro = paragraph(
        "Waiting time of a passenger who turns up at random, from the day's headways at every station: AWT "
        "from actual headways, SWT from scheduled ones, EWT = AWT − SWT (the excess caused by irregular "
        "service). Headway adherence is the TCQSM coefficient of variation and its level (A best, F worst).")
    columns = [
        Column("Route", lambda r: r["route_id"]),
        Column("Headways", lambda r: f"{r['headways']:,}", True),
        Column("AWT (min)", lambda r: num(r["awt_min"], 2), True),
        Column("SWT (min)", lambda r: num(r["swt_min"], 2), True),
        Column("EWT (min)", lambda r: num(r["ewt_min"], 2), True),
        Column("Headway cv", lambda r: num(r["headway_cv"], 2), True),
        Column("Level", lambda r: r["headway_los"] or DASH),
        Column("Bunched", lambda r: pct(r["bunched_share"], 1), True),
    ]
    body = intro + figure(wait_bars(routes)) + table(columns, routes.iter_rows(named=True))
    return Section("headways", title, body)


def on_time_section(data: ReportData) -> Section:
    title = "On-time performance"
    routes = data.routes.filter(pl.col("departures") > 0)
    if routes.is_empty():
        return Section("on-time", title, empty("No scheduled departures on this day."))
    first = routes.row(0, named=True)
    intro = paragraph(
        f"Departures at every station compared with the timetable: on time from {_signed(first['otp_early_min'])} "
        f"to {_signed(first['otp_late_min'])} minutes of the scheduled time, early before, late after.")
    columns = [
        Column("Route", lambda r: r["route_id"]),
        Column("Departures", lambda r: f"{r['departures']:,}", True),
        Column("Early", lambda r: pct(r["early_share"], 1), True),
        Column("On time", lambda r: pct(r["on_time_share"], 1), True),
        Column("Late", lambda r: pct(r["late_share"], 1), True),
        Column("Mean delay (min)", lambda r: num(None if r["mean_delay_s"] is None else r["mean_delay_s"] / 60, 1),
               True),
        Column("Trips", lambda r: f"{r['trips']:,}", True),
        Column("Run time p50 (min)", lambda r: num(r["run_time_p50_min"], 1), True),
    ]
    body = intro + figure(on_time_bars(routes)) + table(columns, routes.iter_rows(named=True))
    return Section("on-time", title, body)


def stations_section(data: ReportData) -> Section:
    title = "Station service"
    stations = data.stations
    if stations.is_empty():
        return Section("stations", title, empty("No station events on this day."))
    top = stations.sort(["overcrowding_events", "peak_waiting", "mean_wait_min"], descending=True,
                        nulls_last=True).head(MAX_ROWS)
    intro = paragraph(
        f"The {top.height} stations (of {stations.height}) with the most overcrowding episodes, then the most "
        "passengers waiting at once. Waits are those of a passenger turning up at random.")
    columns = [
        Column("Station", lambda r: r["station_id"]),
        Column("Overcrowding episodes", lambda r: str(r["overcrowding_events"]), True),
        Column("Peak waiting", lambda r: str(r["peak_waiting"]) if r["peak_waiting"] is not None else DASH, True),
        Column("Mean wait (min)", lambda r: num(r["mean_wait_min"], 1), True),
        Column("p90 wait (min)", lambda r: num(r["p90_wait_min"], 1), True),
        Column("Departures", lambda r: f"{r['departures']:,}", True),
        Column("Served", lambda r: pct(r["service_ratio"], 1), True),
        Column("On time", lambda r: pct(r["on_time_share"], 1), True),
        Column("Routes", lambda r: str(r["routes"]), True),
        Column("Boardings", lambda r: f"{r['boardings']:,}" if r["boardings"] is not None else DASH, True),
    ]
    return Section("stations", title, intro + table(columns, top.iter_rows(named=True)))


UNIT_DIGITS = {"AQI": 0, "passengers": 0, "s": 0, "ratio": 2, "ppm": 2}


def _measure(value: float | None, unit: str) -> str:
    return f"{num(value, UNIT_DIGITS.get(unit, 1))} {unit}".strip()


def _subject(row: Mapping[str, Any]) -> str:
    subject = " ".join(part for part in (row["subject_type"], row["subject_id"]) if part)  # the id as sent
    return f"{subject} (route {row['route_id']})" if row["route_id"] else subject


def alerts_section(data: ReportData) -> Section:
    title = "Alerts of the day"
    alerts = data.alerts
    if alerts.is_empty():
        return Section("alerts", title, empty("No alerts: no alert record has an event time on this day."))
    counts = alerts["kind"].value_counts().sort("count", descending=True)
    summary = ", ".join(f"{n} {kind.replace('_', ' ').lower()}" for kind, n in counts.iter_rows())
    shown = alerts.head(MAX_ALERTS)
    more = f"; the first {MAX_ALERTS} shown" if alerts.height > MAX_ALERTS else ""
    columns = [
        Column("Severity", lambda r: r["severity"].title()),
        Column("Kind", lambda r: r["kind"].replace("_", " ").capitalize()),
        Column("Subject", _subject),
        Column("Start (UTC)", lambda r: clock(r["start"], data.day)),
        Column("End (UTC)", lambda r: clock(r["end"], data.day) if r["end"] is not None else "open"),
        Column("Peak", lambda r: _measure(r["peak_value"], r["unit"]), True),
        Column("Threshold", lambda r: _measure(r["threshold"], r["unit"]), True),
        Column("Message", lambda r: r["message"]),
    ]
    intro = paragraph(f"{alerts.height} alerts ({summary}){more}; most severe first, then by start.")
    return Section("alerts", title, intro + table(columns, shown.iter_rows(named=True)))


SECTIONS = (aqi_map_section, trends_section, calendar_section, occupancy_section, headways_section,
            on_time_section, stations_section, alerts_section)


def build_sections(data: ReportData) -> list[Section]:
    return [build(data) for build in SECTIONS]
