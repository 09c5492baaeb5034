"""European Air Quality Index (EEA), with the bands revised in 2024.

Sources: EEA index text (hourly concentrations of PM2.5, PM10, NO2, O3 and SO2, µg/m³; the
index level is the poorest level of any pollutant); ETC HE Report 2024/17 as encoded by
Open-Meteo (``AirQuality.swift``, PR #2045). Colours are the EEA viewer palette as used by
several independent implementations (secondary source).

- Bands are half-open, ``[lo, hi)``: a value equal to a threshold starts the next band, so
  5.0 µg/m³ PM2.5 is Fair.
- The EEA index is categorical (levels 1–6). ``eaqi_index`` adds Open-Meteo's numeric
  convention, which is not an EEA product: ``(band + (c - lo) / (hi - lo)) * 20`` with bands
  numbered from 0, the last band extrapolated with the width of the band below it. The fraction
  is computed as a product with the band's reciprocal, in the scalar and the Polars versions
  alike, so both give the same floats.
- Concentrations are in µg/m³ at the EU reference conditions; convert ppb with
  ``smartcity.analysis.air.units.ppb_to_ugm3(..., molar_volume=MOLAR_VOLUME_20C)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

EaqiPollutant = Literal["pm25", "pm10", "no2", "o3", "so2"]
EAQI_POLLUTANTS: tuple[EaqiPollutant, ...] = ("pm25", "pm10", "no2", "o3", "so2")

#: Lower thresholds of levels 2..6 (Fair .. Extremely poor), µg/m³, hourly, 2024 revision.
EAQI_THRESHOLDS: dict[EaqiPollutant, tuple[float, ...]] = {
    "pm25": (5.0, 15.0, 50.0, 90.0, 140.0),
    "pm10": (15.0, 45.0, 120.0, 195.0, 270.0),
    "no2": (10.0, 25.0, 60.0, 100.0, 150.0),
    "o3": (60.0, 100.0, 120.0, 160.0, 180.0),
    "so2": (20.0, 40.0, 125.0, 190.0, 275.0),
}


@dataclass(frozen=True)
class EaqiLevel:
    """One of the six EAQI levels."""

    level: int
    name: str
    hex: str


EAQI_LEVELS: tuple[EaqiLevel, ...] = (
    EaqiLevel(1, "Good", "#50F0E6"),
    EaqiLevel(2, "Fair", "#50CCAA"),
    EaqiLevel(3, "Moderate", "#F0E641"),
    EaqiLevel(4, "Poor", "#FF5050"),
    EaqiLevel(5, "Very poor", "#960032"),
    EaqiLevel(6, "Extremely poor", "#7D2181"),
)


def _thresholds(pollutant: str) -> tuple[float, ...]:
    if pollutant in EAQI_THRESHOLDS:  # narrows ``pollutant`` to ``EaqiPollutant``
        return EAQI_THRESHOLDS[pollutant]
    msg = f"unknown EAQI pollutant {pollutant!r}; expected one of {', '.join(EAQI_POLLUTANTS)}"
    raise ValueError(msg) from None


def _valid(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def eaqi_level(pollutant: EaqiPollutant, concentration: float | None) -> int | None:
    """EAQI level 1 (Good) .. 6 (Extremely poor) of an hourly concentration in µg/m³.

    ``None`` for a missing, NaN, infinite or negative value.
    """
    thresholds = _thresholds(pollutant)
    value = _valid(concentration)
    if value is None:
        return None
    return 1 + sum(value >= threshold for threshold in thresholds)


def eaqi_category(level: int | None) -> EaqiLevel | None:
    """Name and colour of an EAQI level (1–6)."""
    if level is None:
        return None
    if not 1 <= level <= len(EAQI_LEVELS):
        msg = f"an EAQI level lies in 1..6, got {level}"
        raise ValueError(msg)
    return EAQI_LEVELS[level - 1]


def _band_edges(thresholds: tuple[float, ...]) -> list[tuple[float, float]]:
    edges = [0.0, *thresholds]
    bands = list(itertools.pairwise(edges))
    last_width = edges[-1] - edges[-2]
    bands.append((edges[-1], edges[-1] + last_width))
    return bands


def eaqi_index(pollutant: EaqiPollutant, concentration: float | None) -> float | None:
    """Open-Meteo's continuous European AQI (0–100, open above) of an hourly µg/m³ value.

    Not an EEA product: ``floor(index / 20) + 1`` gives the EEA level (capped at 6).
    """
    thresholds = _thresholds(pollutant)
    value = _valid(concentration)
    if value is None:
        return None
    bands = _band_edges(thresholds)
    band = sum(value >= threshold for threshold in thresholds)
    lo, hi = bands[band]
    return (band + (value - lo) * (1.0 / (hi - lo))) * 20.0


@dataclass(frozen=True)
class OverallEaqi:
    """The station EAQI: the poorest level, the pollutant that sets it, and each pollutant's level."""

    level: int
    dominant: str
    levels: Mapping[str, int]
    index: float

    @property
    def name(self) -> str:
        """Name of the station's EAQI level."""
        return EAQI_LEVELS[self.level - 1].name


def overall_eaqi(concentrations: Mapping[str, float | None]) -> OverallEaqi | None:
    """The EAQI of a station hour: the poorest level over its pollutants (EEA).

    ``index`` is the largest Open-Meteo numeric value. Ties for the dominant pollutant follow
    ``EAQI_POLLUTANTS`` order. Station eligibility (which pollutants a station must measure) is
    left to the caller. ``None`` when no pollutant has a valid value.
    """
    for name in concentrations:
        _thresholds(name)
    levels: dict[str, int] = {}
    indices: dict[str, float] = {}
    for name in EAQI_POLLUTANTS:
        level = eaqi_level(name, concentrations.get(name))
        index = eaqi_index(name, concentrations.get(name))
        if level is not None and index is not None:
            levels[name], indices[name] = level, index
    if not levels:
        return None
    worst = max(levels.values())
    dominant = next(name for name, level in levels.items() if level == worst)
    return OverallEaqi(worst, dominant, levels, max(indices.values()))


def _cleaned(column: str | pl.Expr) -> pl.Expr:
    x = (pl.col(column) if isinstance(column, str) else column).cast(pl.Float64)
    return pl.when(x.is_finite() & (x >= 0)).then(x)


def eaqi_level_expr(pollutant: EaqiPollutant, column: str | pl.Expr) -> pl.Expr:
    """Int8 EAQI level per row (null for missing, NaN or negative values); agrees with ``eaqi_level``."""
    x = _cleaned(column)
    level: pl.Expr = pl.lit(1, dtype=pl.Int8)
    for threshold in _thresholds(pollutant):
        level = level + (x >= threshold).cast(pl.Int8)
    return pl.when(x.is_not_null()).then(level).cast(pl.Int8)


def eaqi_index_expr(pollutant: EaqiPollutant, column: str | pl.Expr) -> pl.Expr:
    """Open-Meteo's numeric European AQI per row; the same floats as ``eaqi_index``."""
    thresholds = _thresholds(pollutant)
    x = _cleaned(column)
    chain: Then | ChainedThen = pl.when(x.is_null()).then(None)
    for band, (lo, hi) in enumerate(_band_edges(thresholds)[:-1]):
        chain = chain.when(x < hi).then((band + (x - lo) * (1.0 / (hi - lo))) * 20.0)
    band = len(thresholds)
    lo, hi = _band_edges(thresholds)[-1]
    return chain.otherwise((band + (x - lo) * (1.0 / (hi - lo))) * 20.0)


def eaqi_name_expr(level: str | pl.Expr) -> pl.Expr:
    """EAQI level name per row from a level column (1–6)."""
    value = pl.col(level) if isinstance(level, str) else level
    return value.replace_strict(
        [item.level for item in EAQI_LEVELS],
        [item.name for item in EAQI_LEVELS],
        default=None,
        return_dtype=pl.String,
    )
