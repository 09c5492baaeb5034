"""The key figures of the day shown in the report's summary strip."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from smartcity.analysis.air import aqi_category
from smartcity.report.data import POLLUTANT_NAMES, ReportData
from smartcity.report.html import DASH, hhmm, num, pct

CRITICAL_TINT = "#F9D7D5"


@dataclass(frozen=True)
class KeyFigure:
    """One tile: a label, the value, a note under it and an optional background colour."""

    label: str
    value: str
    note: str
    colour: str | None = None


def weighted(frame: pl.DataFrame, value: str, weight: str) -> float | None:
    """Σ value × weight / Σ weight over rows with both; ``None`` without any."""
    rows = frame.filter(pl.col(value).is_not_null() & (pl.col(weight) > 0))
    total = float(rows[weight].sum()) if rows.height else 0.0
    return float((rows[value] * rows[weight]).sum()) / total if total else None


def max_aqi(data: ReportData) -> KeyFigure:
    rows = data.air_hourly.filter(pl.col("aqi").is_not_null())
    if rows.is_empty():
        return KeyFigure("Highest AQI", DASH, "no air-quality readings")
    worst = rows.sort("aqi", "hour", descending=[True, False]).row(0, named=True)
    category = aqi_category(int(worst["aqi"]))
    assert category is not None
    dominant = POLLUTANT_NAMES.get(worst["aqi_dominant"], worst["aqi_dominant"])
    note = f"{category.name} · {worst['sensor_id']} at {hhmm(worst['hour'])} UTC ({dominant})"
    return KeyFigure("Highest AQI", str(worst["aqi"]), note, category.hex)


def key_figures(data: ReportData) -> list[KeyFigure]:
    """Highest AQI and where, mean excess wait, on-time share, crowded share and alerts."""
    routes, occupancy, alerts = data.routes, data.occupancy, data.alerts
    ewt = weighted(routes, "ewt_min", "headways") if routes.height else None
    otp = weighted(routes, "on_time_share", "departures") if routes.height else None
    crowded = weighted(occupancy, "crowded_share", "readings") if occupancy.height else None
    critical = alerts.filter(pl.col("severity") == "CRITICAL").height
    return [
        max_aqi(data),
        KeyFigure("Mean excess wait", DASH if ewt is None else f"{num(ewt, 2)} min",
                  f"EWT over {routes.height} routes, weighted by headways"),
        KeyFigure("On time", pct(otp, 1), f"of {int(routes['departures'].sum() or 0):,} departures"
                  if routes.height else "no departures"),
        KeyFigure("Crowded", pct(crowded, 1), "of bus readings above 80 % of capacity"
                  if occupancy.height else "no bus telemetry"),
        KeyFigure("Alerts", str(alerts.height), f"{critical} critical" if alerts.height else "none raised",
                  CRITICAL_TINT if critical else None),
    ]
