"""Passenger exchange at a stop: who alights, who boards up to capacity, and the TCQSM dwell time."""

from __future__ import annotations

import random

from smartcity.simulator.buses import BusState
from smartcity.simulator.config import DwellParams
from smartcity.simulator.demand import Pool
from smartcity.simulator.transit_network import PatternState


def alighting(rng: random.Random, pat: PatternState, k: int, on_board: int, load: float) -> int:
    """Passengers leaving at stop ``k``: everyone at the last stop, nobody at the first or during a crowding
    episode (``load >= 0``), else each with the stop's alighting odds."""
    if k == 0 or on_board == 0:
        return 0
    if k == pat.last:
        return on_board
    if load >= 0:
        return 0
    p = pat.p_alight[k]
    rnd = rng.random
    return sum(1 for _ in range(on_board) if rnd() < p)


def boarding(pool: Pool | None, t: int, on_board: int, capacity: int, load: float) -> int:
    """Passengers boarding from ``pool`` at ``t`` up to the capacity left (the rest keep waiting); a crowding
    episode (``load >= 0``) first tops the queue up to fill the bus to ``load`` of its capacity."""
    if pool is None:
        return 0
    waiting = pool.accrue(t)
    if load >= 0:
        extra = int(load * capacity) - on_board - waiting
        if extra > 0:
            pool.waiting = waiting = waiting + extra
    board = min(waiting, capacity - on_board)
    pool.waiting = waiting - board
    return board


def dwell_ms(dw: DwellParams, bus: BusState, alight: int, board: int, on_board: int,
             intermediate: bool) -> tuple[int, int]:
    """``(alighting, dwell)`` in ms: ``t_d = P_a*t_a + P_b*t_b + t_oc``, boarding slower once ``on_board``
    exceeds the seats; a bus passes an intermediate stop where nobody alights or boards."""
    if alight + board == 0 and intermediate:
        return 0, 0
    t_b = dw.board_s + (dw.crowding_s if on_board > bus.seats else 0.0)
    alight_ms = round((0.5 * dw.door_s + alight * bus.a_share * dw.alight_s) * 1000)
    return alight_ms, alight_ms + round((board * bus.b_share * t_b + 0.5 * dw.door_s) * 1000)
