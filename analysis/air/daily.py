"""Daily AQI with EPA's averaging and completeness rules.

Sources: AirNow Tech forum, "Daily and Hourly AQI – PM2.5 / PM10 / Ozone / Other Pollutants";
EPA-454/B-24-002 ("Calculating AQI values for SO2").

- PM2.5, PM10 and SO2: the 24-h mean from midnight to midnight, local standard time; valid with
  at least 18 of 24 hours (75 %).
- O3: the maximum of 17 overlapping 8-h means, the first 07:00–15:00 and the last 23:00–07:00 of
  the next day. Each 8-h mean needs 6 of 8 hours and is truncated to 0.001 ppm; the day needs 13
  of the 17 means.
- SO2: the day's AQI combines the highest 1-h value and the 24-h mean as ``so2_aqi`` does.

Means are computed exactly in ``Decimal`` from each value's shortest representation, so a day
of one-decimal readings averages to an exact decimal before truncation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from smartcity.analysis.air.aqi import aqi, so2_aqi

HOURS_PER_DAY = 24
MIN_DAILY_HOURS = 18
O3_WINDOW_HOURS = 8
O3_MIN_WINDOW_HOURS = 6
O3_FIRST_START_HOUR = 7
O3_WINDOWS = 17
O3_MIN_WINDOWS = 13
O3_DAY_HOURS = O3_FIRST_START_HOUR + O3_WINDOWS - 1 + O3_WINDOW_HOURS


def _valid(value: float | None) -> Decimal | None:
    if value is None:
        return None
    number = float(value)
    return Decimal(repr(number)) if math.isfinite(number) else None


def exact_mean(values: Sequence[float | None], *, min_valid: int = 1) -> float | None:
    """Mean of the valid values (not ``None``/NaN/inf), computed in ``Decimal``; ``None`` when
    fewer than ``min_valid`` values are valid."""
    valid = [v for v in map(_valid, values) if v is not None]
    if not valid or len(valid) < min_valid:
        return None
    return float(sum(valid, Decimal(0)) / len(valid))


def _day(hourly: Sequence[float | None]) -> Sequence[float | None]:
    if len(hourly) != HOURS_PER_DAY:
        msg = f"a day holds {HOURS_PER_DAY} hourly values (hour 0 first), got {len(hourly)}"
        raise ValueError(msg)
    return hourly


def daily_mean(hourly: Sequence[float | None], *, min_hours: int = MIN_DAILY_HOURS) -> float | None:
    """24-h mean of a day's 24 hourly values (hour 0 first); ``None`` with fewer than 18 valid hours."""
    return exact_mean(_day(hourly), min_valid=min_hours)


def daily_pm_aqi(hourly: Sequence[float | None], pollutant: Literal["pm25", "pm10"] = "pm25") -> int | None:
    """Daily PM2.5 or PM10 AQI: the AQI of the 24-h mean (µg/m³) with 18 of 24 hours."""
    if pollutant not in ("pm25", "pm10"):
        msg = f"`pollutant` must be 'pm25' or 'pm10', got {pollutant!r}"
        raise ValueError(msg)
    return aqi(pollutant, daily_mean(hourly))


def o3_8h_means(hourly: Sequence[float | None]) -> list[float | None]:
    """The 17 daily 8-h O3 means (ppm) that start at 07:00 .. 23:00.

    ``hourly`` holds 31 hourly values: hours 0..23 of the day, then hours 0..6 of the next day.
    Each mean needs 6 of its 8 hours and is truncated to 0.001 ppm; ``None`` otherwise.
    """
    if len(hourly) != O3_DAY_HOURS:
        msg = f"`hourly` holds {O3_DAY_HOURS} values (hour 0 to hour 6 of the next day), got {len(hourly)}"
        raise ValueError(msg)
    means: list[float | None] = []
    for start in range(O3_FIRST_START_HOUR, O3_FIRST_START_HOUR + O3_WINDOWS):
        mean = exact_mean(hourly[start : start + O3_WINDOW_HOURS], min_valid=O3_MIN_WINDOW_HOURS)
        if mean is not None:
            mean = float(Decimal(repr(mean)).quantize(Decimal("0.001"), ROUND_DOWN))
        means.append(mean)
    return means


def daily_o3_8h_max(hourly: Sequence[float | None]) -> float | None:
    """Daily maximum 8-h O3 (ppm) from 31 hourly values; ``None`` with fewer than 13 valid means."""
    valid = [m for m in o3_8h_means(hourly) if m is not None]
    return max(valid) if len(valid) >= O3_MIN_WINDOWS else None


def daily_o3_aqi(hourly: Sequence[float | None]) -> int | None:
    """Daily O3 AQI: the 8-h table applied to the daily maximum 8-h mean."""
    return aqi("o3_8h", daily_o3_8h_max(hourly))


@dataclass(frozen=True)
class DailySo2:
    """A day's SO2 statistics (ppb): the 24-h mean and the highest valid 1-h value."""

    mean_24h: float
    max_1h: float

    @property
    def aqi(self) -> int | None:
        """The day's SO2 AQI from the highest 1-h value and the 24-h mean (``so2_aqi``)."""
        return so2_aqi(self.max_1h, self.mean_24h)


def daily_so2(hourly: Sequence[float | None], *, min_hours: int = MIN_DAILY_HOURS) -> DailySo2 | None:
    """24-h mean and maximum 1-h SO2 of a day (ppb); ``None`` with fewer than 18 valid hours."""
    mean = daily_mean(hourly, min_hours=min_hours)
    if mean is None:
        return None
    valid = [float(v) for v in map(_valid, hourly) if v is not None]
    return DailySo2(mean, max(valid))
