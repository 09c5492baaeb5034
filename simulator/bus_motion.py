"""How a bus moves between two stops: the run time of a segment and its speed profile."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

from smartcity.simulator.buses import BusState
from smartcity.simulator.config import SimConfig

ACCEL_MPS2 = 1.0  # acceleration and braking of a bus (m/s²)
MAX_SPEED_MPS = 15.0  # urban speed limit (54 km/h): no run between stops is faster than this allows


def _perturbed(rng: random.Random, cfg: SimConfig, run: float, delays: Iterable[tuple[int, int, float]],
               t: int) -> float:
    """``run`` seconds with lognormal noise, an occasional 20-120 s hold-up and the delay episodes at ``t``."""
    sigma = cfg.run_time_noise
    if sigma > 0:
        run *= rng.lognormvariate(-0.5 * sigma * sigma, sigma)
    if rng.random() < cfg.incident_rate:
        run += rng.uniform(20.0, 120.0)
    for a, b, factor in delays:
        if a <= t < b:
            run *= factor
    return run


def run_time_ms(rng: random.Random, cfg: SimConfig, length: float, speed_mps: float, congestion: float,
                trip_factor: float, delays: Iterable[tuple[int, int, float]], t: int) -> int:
    """Run time (ms) of a segment of ``length`` m left at ``t``: road traffic, the trip's factor, lognormal
    noise, an occasional hold-up and the delay episodes in force, never faster than ``MAX_SPEED_MPS``."""
    run = _perturbed(rng, cfg, length / speed_mps * congestion * trip_factor, delays, t)
    return max(round((length / MAX_SPEED_MPS + MAX_SPEED_MPS / ACCEL_MPS2) * 1000), round(run * 1000))


def scheduled_run_time_ms(rng: random.Random, cfg: SimConfig, scheduled_ms: int, trip_factor: float,
                          delays: Iterable[tuple[int, int, float]], t: int) -> int:
    """Run time (ms) of a segment whose timetable gives ``scheduled_ms`` (a feed's stop times already
    plan for the traffic of their hour): the trip's factor, lognormal noise, an occasional hold-up and the
    delay episodes in force."""
    return max(0, round(_perturbed(rng, cfg, scheduled_ms / 1000.0 * trip_factor, delays, t) * 1000))


def speed_profile(bus: BusState, length: float, duration_s: float) -> None:
    """Trapezoidal speed profile: accelerate at ``ACCEL_MPS2``, cruise, brake at the same rate.

    When the segment is too short for that, the profile is a triangle with the acceleration it
    needs. Sets the cruise speed (m/s), acceleration (m/s²) and the end of the acceleration and
    the start of the braking phase (s after departure).
    """
    a = ACCEL_MPS2
    if duration_s <= 0.0 or length <= 0.0:  # a stop served twice in a row, or no time to get there
        duration_s = max(0.0, duration_s)
        bus.v_cruise, bus.accel, bus.t_acc, bus.t_dec, bus.dt_s = 0.0, a, 0.0, duration_s, duration_s
        return
    disc = duration_s * duration_s - 4.0 * length / a
    if disc > 0.0:
        v = 0.5 * a * (duration_s - math.sqrt(disc))
    else:
        v = 2.0 * length / duration_s
        a = v / (0.5 * duration_s)
    bus.v_cruise = v
    bus.accel = a
    bus.t_acc = v / a
    bus.t_dec = duration_s - v / a
    bus.dt_s = duration_s
