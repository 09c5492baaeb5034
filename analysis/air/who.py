"""WHO global air quality guidelines (2021): guideline levels and interim targets.

Source: WHO (2021), "WHO global air quality guidelines", ISBN 9789240034228, executive-summary
table. Short-term (24-h, 8-h) levels are 99th percentiles, about 3–4 exceedance days a year, so
a single daily exceedance is a flag, not a breach. Units: µg/m³, except CO in mg/m³.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WhoAveraging = Literal["annual", "24h", "8h", "peak_season"]


@dataclass(frozen=True)
class WhoGuideline:
    """Interim targets (``IT-1`` first, the least strict) and the air quality guideline level (AQG)."""

    pollutant: str
    averaging: WhoAveraging
    unit: str
    interim_targets: tuple[float, ...]
    aqg: float

    @property
    def levels(self) -> tuple[tuple[str, float], ...]:
        """All levels from the least to the most strict, named ``IT-1`` .. ``IT-n`` and ``AQG``."""
        named = [(f"IT-{i}", level) for i, level in enumerate(self.interim_targets, start=1)]
        return (*named, ("AQG", self.aqg))


WHO_2021: dict[tuple[str, WhoAveraging], WhoGuideline] = {
    (g.pollutant, g.averaging): g
    for g in (
        WhoGuideline("pm25", "annual", "µg/m³", (35, 25, 15, 10), 5),
        WhoGuideline("pm25", "24h", "µg/m³", (75, 50, 37.5, 25), 15),
        WhoGuideline("pm10", "annual", "µg/m³", (70, 50, 30, 20), 15),
        WhoGuideline("pm10", "24h", "µg/m³", (150, 100, 75, 50), 45),
        WhoGuideline("o3", "peak_season", "µg/m³", (100, 70), 60),
        WhoGuideline("o3", "8h", "µg/m³", (160, 120), 100),
        WhoGuideline("no2", "annual", "µg/m³", (40, 30, 20), 10),
        WhoGuideline("no2", "24h", "µg/m³", (120, 50), 25),
        WhoGuideline("so2", "24h", "µg/m³", (125, 50), 40),
        WhoGuideline("co", "24h", "mg/m³", (7,), 4),
    )
}


@dataclass(frozen=True)
class WhoFlags:
    """How a concentration compares with the WHO 2021 levels of its pollutant and averaging time."""

    guideline: WhoGuideline
    concentration: float
    exceeded: tuple[str, ...]
    met: str | None

    @property
    def exceeds_aqg(self) -> bool:
        """Whether the concentration is above the air quality guideline level."""
        return "AQG" in self.exceeded


def who_flags(pollutant: str, averaging: WhoAveraging, concentration: float) -> WhoFlags:
    """Compare a concentration with the WHO 2021 levels: a level is exceeded when the value is above it.

    ``met`` names the strictest level not exceeded (``"AQG"``, ``"IT-4"``, ...), or ``None`` when
    even IT-1 is exceeded. Example: annual PM2.5 of 6 µg/m³ exceeds the AQG (5) and meets IT-4 (10).
    """
    try:
        guideline = WHO_2021[(pollutant, averaging)]
    except KeyError:
        known = ", ".join(f"{p}/{a}" for p, a in WHO_2021)
        msg = f"no WHO 2021 level for {pollutant}/{averaging}; known: {known}"
        raise ValueError(msg) from None
    exceeded = tuple(name for name, level in guideline.levels if concentration > level)
    met = next((name for name, level in reversed(guideline.levels) if concentration <= level), None)
    return WhoFlags(guideline, concentration, exceeded, met)
