"""US EPA AQI breakpoint tables and categories in force since 2024-05-06.

Source: EPA-454/B-24-002 (May 2024), "Technical Assistance Document for the Reporting of Daily
Air Quality – the Air Quality Index", Table 6, and 40 CFR 58 Appendix G as revised by
89 FR 16202. Colours are the TAD's standard colour formulas (its Table 2).

Each table stores its breakpoints as integers in units of the truncation step (0.1 µg/m³ for
PM2.5, 0.001 ppm for O3, ...). Truncated concentrations are integers in the same units, so the
lookup and the AQI equation are exact integer arithmetic, in the scalar and the Polars versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Pollutant = Literal["pm25", "pm10", "o3_8h", "o3_1h", "co", "so2_1h", "so2_24h", "no2"]
POLLUTANTS: tuple[Pollutant, ...] = ("pm25", "pm10", "o3_8h", "o3_1h", "co", "so2_1h", "so2_24h", "no2")


@dataclass(frozen=True)
class BreakpointRow:
    """One row of Table 6: concentrations ``lo..hi`` (in truncation steps) map to AQI ``aqi_lo..aqi_hi``."""

    lo: int
    hi: int
    aqi_lo: int
    aqi_hi: int

    def index(self, units: int) -> int:
        """The AQI equation for a truncated concentration, rounded half-up, in exact integers."""
        span = self.hi - self.lo
        numerator = 2 * (self.aqi_hi - self.aqi_lo) * (units - self.lo) + span
        return self.aqi_lo + numerator // (2 * span)


@dataclass(frozen=True)
class AqiScale:
    """The breakpoints of one pollutant and averaging time.

    ``decimals`` is the truncation precision (A.5). ``extrapolate`` says whether the top row's
    equation extends beyond its upper breakpoint ("Beyond the AQI", values above 500).
    """

    pollutant: Pollutant
    unit: str
    averaging: str
    decimals: int
    rows: tuple[BreakpointRow, ...]
    extrapolate: bool

    @property
    def lowest(self) -> int:
        """Lowest breakpoint, in truncation steps."""
        return self.rows[0].lo

    @property
    def highest(self) -> int:
        """Highest breakpoint, in truncation steps."""
        return self.rows[-1].hi

    def index(self, units: int) -> int | None:
        """AQI of a concentration already truncated to ``units`` steps; ``None`` where no row applies."""
        if units < self.lowest:
            return None
        for row in self.rows:
            if units <= row.hi:
                return row.index(units)
        return self.rows[-1].index(units) if self.extrapolate else None


def _scale(
    pollutant: Pollutant,
    unit: str,
    averaging: str,
    decimals: int,
    rows: tuple[tuple[str, str, int, int], ...],
    *,
    extrapolate: bool,
) -> AqiScale:
    step = Decimal(10) ** decimals
    converted = tuple(
        BreakpointRow(int(Decimal(lo) * step), int(Decimal(hi) * step), aqi_lo, aqi_hi)
        for lo, hi, aqi_lo, aqi_hi in rows
    )
    return AqiScale(pollutant, unit, averaging, decimals, converted, extrapolate)


SCALES: dict[Pollutant, AqiScale] = {
    "pm25": _scale(
        "pm25", "µg/m³", "24-h", 1,
        (("0.0", "9.0", 0, 50), ("9.1", "35.4", 51, 100), ("35.5", "55.4", 101, 150),
         ("55.5", "125.4", 151, 200), ("125.5", "225.4", 201, 300), ("225.5", "325.4", 301, 500)),
        extrapolate=True,
    ),
    "pm10": _scale(
        "pm10", "µg/m³", "24-h", 0,
        (("0", "54", 0, 50), ("55", "154", 51, 100), ("155", "254", 101, 150),
         ("255", "354", 151, 200), ("355", "424", 201, 300), ("425", "604", 301, 500)),
        extrapolate=True,
    ),
    # 8-hour O3 does not define AQI values of 301 or more: those come from 1-hour O3.
    "o3_8h": _scale(
        "o3_8h", "ppm", "8-h", 3,
        (("0.000", "0.054", 0, 50), ("0.055", "0.070", 51, 100), ("0.071", "0.085", 101, 150),
         ("0.086", "0.105", 151, 200), ("0.106", "0.200", 201, 300)),
        extrapolate=False,
    ),
    # 1-hour O3 only defines AQI values of 101 or more.
    "o3_1h": _scale(
        "o3_1h", "ppm", "1-h", 3,
        (("0.125", "0.164", 101, 150), ("0.165", "0.204", 151, 200), ("0.205", "0.404", 201, 300),
         ("0.405", "0.604", 301, 500)),
        extrapolate=True,
    ),
    "co": _scale(
        "co", "ppm", "8-h", 1,
        (("0.0", "4.4", 0, 50), ("4.5", "9.4", 51, 100), ("9.5", "12.4", 101, 150),
         ("12.5", "15.4", 151, 200), ("15.5", "30.4", 201, 300), ("30.5", "50.4", 301, 500)),
        extrapolate=True,
    ),
    # 1-hour SO2 does not define AQI values of 200 or more: those come from 24-hour SO2.
    "so2_1h": _scale(
        "so2_1h", "ppb", "1-h", 0,
        (("0", "35", 0, 50), ("36", "75", 51, 100), ("76", "185", 101, 150), ("186", "304", 151, 200)),
        extrapolate=False,
    ),
    "so2_24h": _scale(
        "so2_24h", "ppb", "24-h", 0,
        (("305", "604", 201, 300), ("605", "1004", 301, 500)),
        extrapolate=True,
    ),
    "no2": _scale(
        "no2", "ppb", "1-h", 0,
        (("0", "53", 0, 50), ("54", "100", 51, 100), ("101", "360", 101, 150),
         ("361", "649", 151, 200), ("650", "1249", 201, 300), ("1250", "2049", 301, 500)),
        extrapolate=True,
    ),
}  # fmt: skip


def scale_for(pollutant: str) -> AqiScale:
    """The breakpoint table of ``pollutant``; ``ValueError`` for an unknown name."""
    if pollutant in SCALES:  # narrows ``pollutant`` to ``Pollutant``
        return SCALES[pollutant]
    msg = f"unknown pollutant {pollutant!r}; expected one of {', '.join(POLLUTANTS)}"
    raise ValueError(msg) from None


@dataclass(frozen=True)
class AqiCategory:
    """An AQI category (TAD Table 1) with its standard colour (TAD Table 2)."""

    name: str
    colour: str
    hex: str
    rgb: tuple[int, int, int]
    aqi_lo: int
    aqi_hi: int


AQI_CATEGORIES: tuple[AqiCategory, ...] = (
    AqiCategory("Good", "Green", "#00E400", (0, 228, 0), 0, 50),
    AqiCategory("Moderate", "Yellow", "#FFFF00", (255, 255, 0), 51, 100),
    AqiCategory("Unhealthy for Sensitive Groups", "Orange", "#FF7E00", (255, 126, 0), 101, 150),
    AqiCategory("Unhealthy", "Red", "#FF0000", (255, 0, 0), 151, 200),
    AqiCategory("Very Unhealthy", "Purple", "#8F3F97", (143, 63, 151), 201, 300),
    AqiCategory("Hazardous", "Maroon", "#7E0023", (126, 0, 35), 301, 500),
)
AQI_CATEGORY_NAMES: tuple[str, ...] = tuple(category.name for category in AQI_CATEGORIES)
