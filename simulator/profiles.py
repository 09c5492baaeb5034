"""Daily profiles shared by the bus and air models: passenger demand and road traffic.

Each table holds 24 hourly values (local time, value at the middle of the hour), one table per
service type (weekday, saturday, sunday). Demand peaks at 1.0 in the weekday AM peak; traffic
peaks at 1.0 in the weekday PM peak. Both are dimensionless multipliers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEMAND: dict[str, tuple[float, ...]] = {
    "weekday": (0.06, 0.03, 0.02, 0.02, 0.05, 0.22, 0.55, 0.95, 1.00, 0.62, 0.42, 0.42,
                0.48, 0.48, 0.46, 0.55, 0.78, 0.95, 0.85, 0.58, 0.42, 0.34, 0.26, 0.14),
    "saturday": (0.12, 0.07, 0.03, 0.02, 0.02, 0.06, 0.14, 0.24, 0.34, 0.44, 0.54, 0.60,
                 0.62, 0.60, 0.58, 0.58, 0.56, 0.52, 0.47, 0.40, 0.34, 0.30, 0.25, 0.18),
    "sunday": (0.14, 0.08, 0.04, 0.02, 0.02, 0.04, 0.08, 0.13, 0.20, 0.30, 0.40, 0.46,
               0.48, 0.48, 0.47, 0.46, 0.45, 0.42, 0.38, 0.32, 0.26, 0.22, 0.17, 0.12),
}

TRAFFIC: dict[str, tuple[float, ...]] = {
    "weekday": (0.10, 0.06, 0.05, 0.05, 0.10, 0.30, 0.65, 0.95, 0.95, 0.75, 0.65, 0.65,
                0.70, 0.70, 0.72, 0.80, 0.95, 1.00, 0.90, 0.68, 0.50, 0.40, 0.30, 0.18),
    "saturday": (0.20, 0.15, 0.10, 0.07, 0.07, 0.11, 0.18, 0.28, 0.42, 0.56, 0.66, 0.70,
                 0.70, 0.68, 0.66, 0.66, 0.64, 0.60, 0.54, 0.45, 0.38, 0.34, 0.30, 0.25),
    "sunday": (0.22, 0.16, 0.11, 0.07, 0.05, 0.07, 0.10, 0.15, 0.24, 0.36, 0.46, 0.52,
               0.54, 0.54, 0.54, 0.56, 0.58, 0.56, 0.52, 0.44, 0.36, 0.30, 0.24, 0.16),
}

SERVICE_INDEX = {"weekday": 0, "saturday": 1, "sunday": 2}
_DEMAND_ARR = np.array([DEMAND[s] for s in SERVICE_INDEX], dtype=np.float64)
_TRAFFIC_ARR = np.array([TRAFFIC[s] for s in SERVICE_INDEX], dtype=np.float64)


def service_id_for_weekday(weekday: int) -> str:
    """weekday for Monday (0) to Friday, else saturday or sunday."""
    return "weekday" if weekday < 5 else ("saturday" if weekday == 5 else "sunday")


def congestion(traffic: float) -> float:
    """Run-time multiplier for a traffic level: 0.9 on empty roads, 1.35 at the worst peak."""
    return 0.9 + 0.45 * traffic


def at_hour(table: tuple[float, ...], hour: float) -> float:
    """Linear interpolation of an hourly table at a local hour (periodic over 24 h)."""
    x = (hour - 0.5) % 24.0
    i = int(x)
    f = x - i
    return table[i] * (1.0 - f) + table[(i + 1) % 24] * f


def at_hours(kind: str, service_index: np.ndarray, hour: np.ndarray) -> npt.NDArray[np.float64]:
    """Vectorised :func:`at_hour` for ``kind`` "demand" or "traffic" and per-element service type."""
    arr = _DEMAND_ARR if kind == "demand" else _TRAFFIC_ARR
    x = np.mod(hour - 0.5, 24.0)
    i = np.floor(x).astype(np.int64)
    f = x - i
    values: npt.NDArray[np.float64] = arr[service_index, i] * (1.0 - f) + arr[service_index, (i + 1) % 24] * f
    return values


def quarter_hours(table: tuple[float, ...], first_hour: float, count: int) -> list[float]:
    """Values at the middle of ``count`` quarter hours starting at local hour ``first_hour``."""
    return [at_hour(table, first_hour + (q + 0.5) / 4.0) for q in range(count)]
