"""Transit figures: occupancy heatmap, waits per route, on-time performance per route."""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from smartcity.report.charts import MUTED, Chart, id_label, render, text_on

EARLY = "#4C8BD6"
ON_TIME = "#2E9E5B"
LATE = "#D1495B"
WAITS = {"awt_min": ("AWT (actual)", "#3E6FB0"), "swt_min": ("SWT (scheduled)", "#A9C1E0"),
         "ewt_min": ("EWT (excess)", "#E07B39")}


def load_grid(occupancy: pl.DataFrame) -> tuple[list[str], np.ndarray]:
    """Routes and a route × UTC-hour matrix of the mean load factor (weighted by readings; NaN: no data)."""
    per_cell = (
        occupancy.filter(pl.col("load_factor_mean").is_not_null())
        .group_by("route_id", pl.col("hour").dt.hour().alias("h"))
        .agg(((pl.col("load_factor_mean") * pl.col("readings")).sum() / pl.col("readings").sum()).alias("lf"))
    )
    routes = sorted(per_cell["route_id"].unique().to_list())
    grid = np.full((len(routes), 24), np.nan)
    index = {route: i for i, route in enumerate(routes)}
    for route, hour, value in per_cell.iter_rows():
        grid[index[route], hour] = value
    return routes, grid


def occupancy_heatmap(occupancy: pl.DataFrame) -> Chart:
    """Route × UTC hour heatmap of the mean load factor (passengers per seat), values written in."""
    routes, grid = load_grid(occupancy)
    top = max(1.0, float(np.nanmax(grid)))

    def draw(fig: Figure) -> None:
        import matplotlib as mpl

        ax = fig.subplots()
        cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="#F4F5F7")
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=top, aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            if not np.isnan(value):
                shade = mpl.colors.to_hex(cmap(value / top))
                ax.text(j, i, f"{value:.2f}".lstrip("0"), ha="center", va="center", fontsize=6.5,
                        color=text_on(shade))
        ax.set_yticks(range(len(routes)), [id_label(r) for r in routes])
        ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=7)
        ax.set_xlabel("hour of the day (UTC)")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.01)
        bar.set_label("mean load factor (passengers per seat)")
        bar.outline.set_visible(False)

    height = 1.2 + 0.28 * len(routes)
    return render(draw, 10.5, height, "Heatmap of mean bus load factor per route and hour")


def wait_bars(routes: pl.DataFrame) -> Chart:
    """Per route: AWT and SWT side by side (minutes), and below, on its own scale, the EWT."""
    rows = routes.filter(pl.col("awt_min").is_not_null())
    names = rows["route_id"].to_list()
    x = np.arange(len(names))

    def draw(fig: Figure) -> None:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        width = 0.38
        for k, column in enumerate(("awt_min", "swt_min")):
            label, colour = WAITS[column]
            top.bar(x + (k - 0.5) * width, rows[column].fill_null(0).to_numpy(), width, label=label, color=colour,
                    zorder=3)
        top.set_ylabel("wait (min)")
        top.legend(ncol=2, loc="lower left", bbox_to_anchor=(0, 1.0))
        label, colour = WAITS["ewt_min"]
        ewt = rows["ewt_min"].fill_null(0).to_numpy()
        bars = bottom.bar(x, ewt, 0.6, color=colour, label=label, zorder=3)
        bottom.bar_label(bars, fmt="%.2f", fontsize=6.5, padding=2, color=MUTED)
        bottom.axhline(0, color="#9AA5B1", linewidth=0.8)
        bottom.set_ylabel("EWT (min)")
        bottom.set_ylim(min(0.0, float(ewt.min()) * 1.3), max(0.1, float(ewt.max()) * 1.3))
        bottom.set_xticks(x, [id_label(n) for n in names])
        for ax in (top, bottom):
            ax.grid(True, axis="y", zorder=0)

    return render(draw, 10.5, 4.4, "Bar charts of actual, scheduled and excess waiting time per route")


def on_time_bars(routes: pl.DataFrame) -> Chart:
    """Horizontal stacked bars of the early, on-time and late shares of departures per route."""
    rows = routes.filter(pl.col("departures") > 0).sort("route_id", descending=True)
    names = rows["route_id"].to_list()
    early = rows["early_share"].fill_null(0).to_numpy()
    on_time = rows["on_time_share"].fill_null(0).to_numpy()
    late = rows["late_share"].fill_null(0).to_numpy()

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        y = np.arange(len(names))
        ax.barh(y, early, color=EARLY, label="early", height=0.7)
        ax.barh(y, on_time, left=early, color=ON_TIME, label="on time", height=0.7)
        ax.barh(y, late, left=early + on_time, color=LATE, label="late", height=0.7)
        for i in range(len(names)):
            ax.text(early[i] + on_time[i] / 2, i, f"{on_time[i]:.0%}", ha="center", va="center", fontsize=7,
                    color="white", fontweight="bold")
            if early[i] >= 0.06:
                ax.text(early[i] / 2, i, f"{early[i]:.0%}", ha="center", va="center", fontsize=6.5, color="white")
            if late[i] >= 0.06:
                ax.text(1 - late[i] / 2, i, f"{late[i]:.0%}", ha="center", va="center", fontsize=6.5, color="white")
        ax.set_yticks(y, [id_label(n) for n in names])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel("share of departures")
        ax.legend(ncol=3, loc="upper left", bbox_to_anchor=(0, 1.02 + 0.5 / max(len(names), 1)))
        ax.tick_params(axis="y", length=0)

    height = 1.1 + 0.3 * len(names)
    return render(draw, 10.5, height, "Stacked bars of early, on-time and late departures per route")
