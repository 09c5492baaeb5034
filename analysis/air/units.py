"""Gas concentration unit conversions (ppb ↔ µg/m³, ppm ↔ mg/m³).

``µg/m³ = ppb × M / V_m`` with M the molar mass (g/mol) and V_m the molar volume of an ideal
gas at 1 atm: 24.45 L/mol at 25 °C (US EPA and the WHO summary factors) or 24.04 L/mol at 20 °C
(EU reference conditions for gases, used with the European AQI). The same formula converts
ppm to mg/m³.
"""

from __future__ import annotations

from typing import Literal

Gas = Literal["o3", "no2", "so2", "co"]

MOLAR_VOLUME_25C = 24.45
MOLAR_VOLUME_20C = 24.04
MOLAR_MASS: dict[Gas, float] = {"o3": 48.00, "no2": 46.01, "so2": 64.07, "co": 28.01}


def _molar_mass(gas: str) -> float:
    if gas in MOLAR_MASS:  # narrows ``gas`` to ``Gas``
        return MOLAR_MASS[gas]
    msg = f"unknown gas {gas!r}; expected one of {', '.join(MOLAR_MASS)}"
    raise ValueError(msg) from None


def ppb_to_ugm3(gas: Gas, ppb: float, *, molar_volume: float = MOLAR_VOLUME_25C) -> float:
    """Mixing ratio in ppb (or ppm) to mass concentration in µg/m³ (or mg/m³)."""
    return ppb * _molar_mass(gas) / molar_volume


def ugm3_to_ppb(gas: Gas, ugm3: float, *, molar_volume: float = MOLAR_VOLUME_25C) -> float:
    """Mass concentration in µg/m³ (or mg/m³) to mixing ratio in ppb (or ppm)."""
    return ugm3 * molar_volume / _molar_mass(gas)
