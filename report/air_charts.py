"""Air-quality figures: the AQI map with Gi* hot and cold spots, pollutant lines, the AQI calendar."""

from __future__ import annotations

import calendar
import math
from datetime import date as Date

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from smartcity.report.charts import INK, MUTED, NO_DATA, Chart, aqi_hex, aqi_legend_handles, id_label, render, text_on
from smartcity.report.data import POLLUTANTS, history_start

HOT = "#B2182B"
COLD = "#2166AC"
HOTSPOT_MAPS = {"pm25_hotspot": "PM2.5", "no2_hotspot": "NO2"}
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def sensor_days(hourly: pl.DataFrame, hotspots: pl.DataFrame) -> pl.DataFrame:
    """Per sensor of the day: position, highest hourly AQI and the PM2.5 and NO2 hot-spot classes."""
    worst = hourly.group_by("sensor_id").agg(
        pl.col("aqi").max().alias("aqi_max"),
        pl.col("latitude").sort_by("hour").last(),
        pl.col("longitude").sort_by("hour").last(),
    )
    spots = hotspots.select("sensor_id", "latitude", "longitude", *HOTSPOT_MAPS)
    both = worst.join(spots, on="sensor_id", how="full", coalesce=True, suffix="_hs")
    return both.with_columns(
        pl.coalesce("latitude", "latitude_hs").alias("latitude"),
        pl.coalesce("longitude", "longitude_hs").alias("longitude"),
        *(pl.col(c).fill_null(0) for c in HOTSPOT_MAPS),
    ).drop("latitude_hs", "longitude_hs").drop_nulls(["latitude", "longitude"]).sort("sensor_id")


def _spot_label(level: int) -> str:
    confidence = {1: "90%", 2: "95%", 3: "99%"}[abs(level)]
    return f"{'hot' if level > 0 else 'cold'} spot ({confidence})"


def aqi_map(sensors: pl.DataFrame) -> Chart:
    """Two maps side by side (PM2.5 and NO2 Gi*): every sensor a dot in the colour of its highest
    hourly AQI, hot and cold spot cells outlined, thicker with higher confidence."""
    lat0 = sum(sensors["latitude"]) / sensors.height
    colours = [aqi_hex(v) for v in sensors["aqi_max"]]

    def draw(fig: Figure) -> None:
        axes = fig.subplots(1, len(HOTSPOT_MAPS), sharex=True, sharey=True)
        for ax, (column, label) in zip(axes, HOTSPOT_MAPS.items(), strict=True):
            ax.set_aspect(1 / math.cos(math.radians(lat0)))
            ax.grid(True, zorder=0)
            ax.scatter(sensors["longitude"], sensors["latitude"], s=40, c=colours, edgecolors="#333333",
                       linewidths=0.6, zorder=3)
            for row in sensors.filter(pl.col(column) != 0).iter_rows(named=True):
                level = int(row[column])
                colour = HOT if level > 0 else COLD
                ax.scatter(row["longitude"], row["latitude"], s=190, marker="s", facecolors="none",
                           edgecolors=colour, linewidths=0.6 + 0.7 * abs(level), zorder=4)
                ax.annotate(id_label(row["sensor_id"]), (row["longitude"], row["latitude"]),
                            xytext=(7, -3), textcoords="offset points", fontsize=6.5, color=colour, zorder=5,
                            fontweight="bold")
            hot = sensors.filter(pl.col(column) > 0).height
            cold = sensors.filter(pl.col(column) < 0).height
            ax.set_title(f"{label} Getis–Ord Gi*: {hot} hot, {cold} cold")
            ax.set_xlabel("longitude (°E)")
            ax.tick_params(labelsize=7)
        axes[0].set_ylabel("latitude (°N)")
        outlines = [Line2D([], [], marker="s", linestyle="none", markersize=11, markerfacecolor="none",
                           markeredgecolor=colour, markeredgewidth=width, label=label)
                    for colour, width, label in ((HOT, 3.3, "hot spot (99%)"), (HOT, 1.7, "hot spot (90%)"),
                                                 (COLD, 3.3, "cold spot (99%)"), (COLD, 1.7, "cold spot (90%)"))]
        fig.legend(handles=[*aqi_legend_handles(), *outlines], loc="outside lower center", ncol=5,
                   title="Highest hourly AQI of the day (EPA category)  ·  Gi* cells", title_fontsize=8)

    return render(draw, 10.5, 6.0, "Map of air sensors coloured by highest hourly AQI with hot and cold spots")


def pollutant_lines(daily: pl.DataFrame, hourly: pl.DataFrame, day: Date) -> Chart:
    """Small multiples of the city-wide mean of every pollutant: one point a day over the history,
    or one point an hour of the day when the history holds a single day."""
    by_day = daily.height >= 2
    if by_day:
        series, x = daily.sort("date"), "date"
    else:
        series = hourly.group_by("hour").agg(pl.col(c).mean() for c in POLLUTANTS).sort("hour")
        x = "hour"
    columns = [c for c in POLLUTANTS if c in series.columns and series[c].drop_nulls().len()]

    def draw(fig: Figure) -> None:
        import matplotlib.dates as mdates

        axes = fig.subplots(2, 3).ravel()
        for ax, column in zip(axes, columns, strict=False):
            label, unit = POLLUTANTS[column]
            ax.grid(True, axis="y")
            ax.plot(series[x], series[column], color="#3E6FB0", linewidth=1.6, marker="o" if by_day else None,
                    markersize=3)
            if by_day:
                today = series.filter(pl.col("date") == day)
                ax.plot(today["date"], today[column], "o", color=HOT, markersize=6, zorder=4)
            ax.set_title(f"{label} ({unit})")
            ax.set_ylim(bottom=0)
            locator = mdates.AutoDateLocator(maxticks=6) if by_day else mdates.HourLocator(byhour=range(0, 24, 6))
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False) if by_day
                                         else mdates.DateFormatter("%H:%M"))
            ax.tick_params(labelsize=7)
        for ax in axes[len(columns):]:
            ax.set_visible(False)

    what = "daily means over the history" if by_day else "hourly means of the day"
    return render(draw, 10.5, 4.8, f"Line charts of city-wide pollutant {what}")


def _months(first: Date, last: Date) -> list[tuple[int, int]]:
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def aqi_calendar(daily: pl.DataFrame, day: Date, months: int = 3) -> Chart:
    """Month grids (Monday first) of the highest hourly AQI of every day in EPA colours, from the
    first month with data among the ``months`` calendar months ending with ``day``'s; the day framed,
    days without data grey, days after it blank."""
    values = {d: v for d, v in zip(daily["date"], daily["aqi_max"], strict=True) if v is not None}
    first = min(values, default=day)
    shown = _months(max(history_start(day, months), first.replace(day=1)), day)
    ncols = min(len(shown), 3)
    nrows = math.ceil(len(shown) / ncols)

    def draw(fig: Figure) -> None:
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, (year, month) in zip(axes, shown, strict=False):
            _month_grid(ax, year, month, values, day)
        for ax in axes[len(shown):]:
            ax.set_visible(False)
        handles = [*aqi_legend_handles(), Rectangle((0, 0), 1, 1, facecolor=NO_DATA, label="no data")]
        if len(shown) == 1:
            fig.legend(handles=handles, loc="outside right center", fontsize=7, title="EPA category",
                       title_fontsize=8)
        else:
            fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=7)

    if len(shown) == 1:
        return render(draw, 5.6, 3.2, "Calendar of the highest hourly AQI of each day")
    return render(draw, 3.4 * ncols + 0.4, 3.1 * nrows + 0.5, "Calendar of the highest hourly AQI of each day")


def _month_grid(ax: Axes, year: int, month: int, values: dict[Date, int], day: Date) -> None:
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    for row, week in enumerate(weeks):
        for col, cell in enumerate(week):
            if cell.month != month:
                continue
            value = values.get(cell)
            colour = "#FFFFFF" if cell > day else aqi_hex(value)
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.5))
            ink = text_on(colour) if value is not None else MUTED
            ax.text(col + 0.08, row + 0.1, str(cell.day), fontsize=6, color=ink, ha="left", va="top")
            if value is not None:
                ax.text(col + 0.5, row + 0.62, str(value), fontsize=8, fontweight="bold", color=ink,
                        ha="center", va="center")
            if cell == day:
                ax.add_patch(Rectangle((col + 0.04, row + 0.04), 0.92, 0.92, facecolor="none", edgecolor=INK,
                                       linewidth=2.2))
    for col, name in enumerate(WEEKDAYS):
        ax.text(col + 0.5, -0.3, name, fontsize=7, color=MUTED, ha="center", va="center")
    ax.set_xlim(0, 7)
    ax.set_ylim(6, -0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"{calendar.month_name[month]} {year}", loc="center", pad=4)
