"""Matplotlib figures rendered to PNG ``data:`` URIs (no display, no pyplot state)."""

from __future__ import annotations

import base64
import io
import warnings
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
    # Labels carry ids from device messages: never math (``R$$`` made the math-text parser raise) nor TeX.
    "text.parse_math": False,
    "text.usetex": False,
}
#: The longest id a chart shows in full; longer ones are cut (the tables show them whole).
MAX_LABEL = 32
#: C0 and C1 control characters and the Unicode line and paragraph separators.
CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029], "\ufffd")


@dataclass(frozen=True)
class Chart:
    """A rendered figure: its PNG ``data:`` URI, its width in CSS pixels and a text alternative."""

    uri: str
    width_px: int
    alt: str


def id_label(value: object) -> str:
    """An untrusted string (an id from the wire) as one line of a tick label or annotation: control
    characters and line breaks shown as U+FFFD, cut to ``MAX_LABEL`` characters with an ellipsis. ``$``
    and ``\\`` stay literal under ``STYLE`` (no math text). Not for legends, which hide labels that start
    with ``_``."""
    text = "" if value is None else str(value).translate(CONTROLS)
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def render(draw: Callable[[Figure], None], width: float, height: float, alt: str) -> Chart:
    """Draw on a new ``width`` × ``height`` inch figure and return it as an embedded PNG.

    Texts are plain (``STYLE`` turns math text and TeX off); a glyph missing from the font (an emoji in an
    id) draws as a box without a warning per character."""
    with mpl.rc_context(STYLE), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
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
