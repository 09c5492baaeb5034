"""Durations as people write them: seconds (``90``, ``0.5``) or a number with a unit, ``250ms``,
``20s``, ``20m`` (or ``20min``), ``1h``, ``1d``. Used by settings and by the command line alike."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86_400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|min|m|h|d)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string such as ``20s``, ``20m``, ``1h`` or ``250ms``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 20s or 20m, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    raise ValueError(f"expected a duration such as 250ms, 20s, 20m or 1h, got {value!r}")


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: 1200 -> ``20m``, 0.25 -> ``250ms``, 90 -> ``90s``."""
    for unit, size in (("d", 86_400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    return f"{round(seconds * 1000)}ms"
