"""Matplotlib figures rendered to PNG ``data:`` URIs (no display, no pyplot state)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

from smartcity.analysis.air import AQI_CATEGORIES, aqi_category

DPI = 144
CSS_PX_PER_INCH = 96
NO_DATA = "#ECEEF1"
INK = "#1F2933"
MUTED = "#616E7C"
STYLE: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#9AA5B1",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": "#D9DEE3",
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "none",
}


@dataclass(frozen=True)
class Chart:
    """A rendered figure: its PNG ``data:`` URI, its width in CSS pixels and a text alternative."""

    uri: str
    width_px: int
    alt: str


def render(draw: Callable[[Figure], None], width: float, height: float, alt: str) -> Chart:
    """Draw on a new ``width`` × ``height`` inch figure and return it as an embedded PNG."""
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        draw(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Chart(uri, round(width * CSS_PX_PER_INCH), alt)


def aqi_hex(value: float | None) -> str:
    """The EPA colour of an AQI value; the no-data grey for ``None``."""
    category = aqi_category(None if value is None else int(value))
    return NO_DATA if category is None else category.hex


def text_on(hex_colour: str) -> str:
    """Black or white, whichever reads better on ``hex_colour`` (WCAG relative luminance)."""
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.18 else "#FFFFFF"


def aqi_legend_handles() -> list[Any]:
    """Legend patches of the six EPA categories."""
    from matplotlib.patches import Patch

    return [Patch(facecolor=c.hex, edgecolor="#555555", linewidth=0.5, label=f"{c.name} ({c.aqi_lo}–{c.aqi_hi})")
            for c in AQI_CATEGORIES]
