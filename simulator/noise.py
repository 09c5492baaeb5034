"""Counter-based random numbers: pure functions of (key, integer counters), vectorised with numpy.

A value depends only on its key and counters, never on what was drawn before, so a streaming
run and a whole-history batch see the same weather and the same sensor noise at the same instant.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = 1.0 / float(1 << 53)


def key(*parts: object) -> int:
    """A 64-bit key from any printable parts (stable across processes and platforms)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def hash64(k: int, a: np.ndarray | int, b: np.ndarray | int = 0) -> npt.NDArray[np.uint64]:
    """Well-mixed uint64 hash of a key and two integer counters (broadcast)."""
    with np.errstate(over="ignore"):
        x = np.asarray(a).astype(np.uint64) * _GAMMA + np.uint64(k)
        x = _mix(x) ^ (np.asarray(b).astype(np.uint64) * _M2)
        return _mix(x + _GAMMA)


def uniform(k: int, a: np.ndarray | int, b: np.ndarray | int = 0) -> npt.NDArray[np.float64]:
    """Uniform floats in (0, 1)."""
    return ((hash64(k, a, b) >> _S11).astype(np.float64) + 0.5) * _INV_2_53


def normal(k: int, a: np.ndarray | int, b: np.ndarray | int = 0) -> npt.NDArray[np.float64]:
    """Standard normal floats (Box-Muller on two hashed uniforms)."""
    u1 = uniform(k, a, b)
    u2 = uniform(k ^ 0x5DEECE66D, a, b)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth(k: int, t: np.ndarray, scale: float, b: np.ndarray | int = 0) -> npt.NDArray[np.float64]:
    """Smooth standard-normal noise over ``t`` with correlation length ``scale`` (same unit as t).

    Normal values sit on knots every ``scale``; between knots they are blended with a smoothstep
    and rescaled so that the variance stays 1 everywhere.
    """
    x = np.asarray(t, dtype=np.float64) / scale
    i = np.floor(x)
    f = x - i
    w = f * f * (3.0 - 2.0 * f)
    ki = i.astype(np.int64)
    g0 = normal(k, ki, b)
    g1 = normal(k, ki + 1, b)
    return (g0 * (1.0 - w) + g1 * w) / np.sqrt((1.0 - w) ** 2 + w * w)
