"""US EPA Air Quality Index from concentrations (2024 tables).

Source: EPA-454/B-24-002 (May 2024), "Calculating the AQI"; AirNow "The AQI Equation (2024)".

Rules, in order:

1. A missing, NaN, infinite or negative concentration has no AQI. So has one of
   ``MAX_CONCENTRATION`` or more, which no sensor reports and which the Polars version cannot
   represent exactly.
2. The concentration is rounded half-up to ``PRE_ROUND_DECIMALS`` (6) decimals on its shortest
   decimal representation. This removes float noise from averages (a float mean of
   18.099999999999998 for an exact 18.1) and changes nothing for values with six decimals or fewer.
3. It is truncated to the pollutant's precision (0.1 µg/m³ PM2.5, 1 µg/m³ PM10, 0.001 ppm O3,
   0.1 ppm CO, 1 ppb SO2 and NO2).
4. The row with ``BP_lo <= C <= BP_hi`` gives ``I = (I_hi - I_lo) / (BP_hi - BP_lo) * (C - BP_lo) + I_lo``,
   rounded half-up (0.072 ppm 8-h O3 gives 104.5, reported as 105).
5. Above the top breakpoint, the top row's equation is extended ("Beyond the AQI", EPA guidance
   as quoted by pyairnow and used by AirMonitor): 325.9 µg/m³ PM2.5 gives 501. Scales whose top
   row ends below AQI 301 (8-h O3 above 0.200 ppm, 1-h SO2 at or above 305 ppb) give ``None``,
   as do 1-h O3 below 0.125 ppm and 24-h SO2 below 305 ppb, which the table leaves blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from smartcity.analysis.air.breakpoints import AQI_CATEGORIES, AqiCategory, Pollutant, scale_for

PRE_ROUND_DECIMALS = 6
MAX_CONCENTRATION = 1_000_000
Concentration = float | int | Decimal | None

#: Pollutant groups of the overall AQI, in the order that breaks ties for the dominant pollutant.
AQI_GROUPS: tuple[str, ...] = ("pm25", "pm10", "o3", "no2", "so2", "co")
#: AQI reported when 1-h SO2 is at or above 305 ppb and no 24-h SO2 of 305 ppb or more is known.
SO2_1H_CEILING_AQI = 200


def _as_decimal(value: Concentration) -> Decimal | None:
    if value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    except (InvalidOperation, OverflowError, TypeError, ValueError):
        return None
    if not number.is_finite() or number < 0 or number >= MAX_CONCENTRATION:
        return None
    return number


def truncate_units(pollutant: Pollutant, concentration: Concentration) -> int | None:
    """The concentration after pre-rounding and truncation, as an integer count of truncation steps.

    For PM2.5 (steps of 0.1 µg/m³) 9.09 gives 90; for 8-h O3 (steps of 0.001 ppm) 0.0874125 gives 87.
    ``None`` for a missing, non-finite, negative or implausibly large concentration.
    """
    scale = scale_for(pollutant)
    number = _as_decimal(concentration)
    if number is None:
        return None
    rounded = number.quantize(Decimal(1).scaleb(-PRE_ROUND_DECIMALS), ROUND_HALF_UP)
    return int(rounded.scaleb(scale.decimals).to_integral_value(ROUND_DOWN))


def truncate_concentration(pollutant: Pollutant, concentration: Concentration) -> Decimal | None:
    """The concentration as EPA truncates it before the lookup (A.5), e.g. PM2.5 9.09 → ``Decimal('9.0')``."""
    units = truncate_units(pollutant, concentration)
    if units is None:
        return None
    return Decimal(units).scaleb(-scale_for(pollutant).decimals)


def aqi(pollutant: Pollutant, concentration: Concentration) -> int | None:
    """US EPA AQI sub-index of one pollutant (EPA-454/B-24-002, Table 6 and the AQI equation).

    Parameters
    ----------
    pollutant
        ``pm25`` or ``pm10`` (24-h mean, µg/m³), ``o3_8h`` or ``o3_1h`` (ppm), ``co`` (8-h, ppm),
        ``so2_1h``, ``so2_24h`` or ``no2`` (1-h, ppb).
    concentration
        The averaged concentration in the pollutant's unit.

    Returns
    -------
    The integer AQI, or ``None`` when the value is missing or invalid or no table row applies.
    """
    units = truncate_units(pollutant, concentration)
    if units is None:
        return None
    return scale_for(pollutant).index(units)


def aqi_category(value: int | None) -> AqiCategory | None:
    """The AQI category and its standard colour (TAD Tables 1 and 2).

    AQI values above 500 are "Beyond the AQI"; EPA advises following the Hazardous
    recommendations, so they fall in Hazardous. ``None`` for ``None``; ``ValueError`` if negative.
    """
    if value is None:
        return None
    if value < 0:
        msg = f"an AQI cannot be negative, got {value}"
        raise ValueError(msg)
    for category in AQI_CATEGORIES:
        if value <= category.aqi_hi:
            return category
    return AQI_CATEGORIES[-1]


def o3_aqi(o3_8h: Concentration = None, o3_1h: Concentration = None) -> int | None:
    """Ozone AQI from 8-h and 1-h ppm values: the larger of the sub-indices that exist.

    TAD, "Using both O3 1-hour and 8-hour values". 8-h O3 above 0.200 ppm defines no AQI;
    values of 301 or more come from 1-h O3.
    """
    values = [v for v in (aqi("o3_8h", o3_8h), aqi("o3_1h", o3_1h)) if v is not None]
    return max(values) if values else None


def so2_aqi(so2_1h: Concentration = None, so2_24h: Concentration = None) -> int | None:
    """SO2 AQI from 1-h and 24-h ppb values (TAD, "Calculating AQI values for SO2").

    Below 305 ppb the 1-h value gives the AQI. AQI values of 200 or more come from the 24-h mean:
    when 1-h SO2 is at or above 305 ppb the 24-h value is used if it is at or above 305 ppb, and
    the AQI is ``SO2_1H_CEILING_AQI`` (200) otherwise. A 24-h value of 305 ppb or more always
    counts, since it gives at least 201.
    """
    one_hour = truncate_units("so2_1h", so2_1h)
    day = aqi("so2_24h", so2_24h)
    if one_hour is None:
        return day
    hourly = aqi("so2_1h", so2_1h)
    if hourly is None:
        hourly = SO2_1H_CEILING_AQI
    return hourly if day is None else max(hourly, day)


@dataclass(frozen=True)
class OverallAqi:
    """The reported AQI, its dominant (critical) pollutant group and every sub-index that exists."""

    aqi: int
    dominant: str
    sub_indices: Mapping[str, int] = field(default_factory=dict)

    @property
    def category(self) -> AqiCategory:
        """Category and colour of the overall AQI."""
        category = aqi_category(self.aqi)
        assert category is not None
        return category

    @property
    def dominant_all(self) -> tuple[str, ...]:
        """Every pollutant group that attains the maximum, in ``AQI_GROUPS`` order."""
        return tuple(name for name, value in self.sub_indices.items() if value == self.aqi)


def overall_aqi(concentrations: Mapping[str, Concentration]) -> OverallAqi | None:
    """The overall AQI: the maximum sub-index over pollutants (TAD, "values from multiple pollutants").

    ``concentrations`` maps pollutant names (``pm25``, ``pm10``, ``o3_8h``, ``o3_1h``, ``co``,
    ``so2_1h``, ``so2_24h``, ``no2``) to values in each pollutant's unit; missing keys and ``None``
    are skipped. O3 and SO2 are combined per ``o3_aqi`` and ``so2_aqi``. Ties for the dominant
    pollutant are broken in ``AQI_GROUPS`` order. ``None`` when no sub-index exists.
    """
    for name in concentrations:
        scale_for(name)
    get = concentrations.get
    groups = {
        "pm25": aqi("pm25", get("pm25")),
        "pm10": aqi("pm10", get("pm10")),
        "o3": o3_aqi(get("o3_8h"), get("o3_1h")),
        "no2": aqi("no2", get("no2")),
        "so2": so2_aqi(get("so2_1h"), get("so2_24h")),
        "co": aqi("co", get("co")),
    }
    present = {name: value for name, value in groups.items() if value is not None}
    if not present:
        return None
    top = max(present.values())
    dominant = next(name for name, value in present.items() if value == top)
    return OverallAqi(top, dominant, present)
