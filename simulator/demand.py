"""Passenger demand: waiting passengers per (stop, route direction) as Poisson arrivals.

Each queue draws its own arrival times from its own random stream, seeded per service day, so
the demand a run sees does not depend on when anyone looks at the queue. The arrival rate is

    route peak demand (pass/h) x stop share x demand profile(service, local hour) x demand scale

where the stop share is the stop's demand weight over the weights of the stops that can board on
that pattern. Passengers who find the queue longer than ``max_waiting`` walk away.
"""

from __future__ import annotations

import random

QUARTER_MS = 900_000
NEVER_MS = 1 << 62


class Pool:
    """Passengers waiting at one stop for one direction of one route."""

    __slots__ = ("_quarters", "_rates", "day_start_ms", "max_waiting", "next_ms", "rng", "share", "waiting")

    def __init__(self, share_per_s: float, max_waiting: int) -> None:
        self.share = share_per_s  # arrivals per second when the profile is 1.0
        self.max_waiting = max_waiting
        self.rng = random.Random()
        self.waiting = 0
        self.day_start_ms = 0
        self._rates: list[float] = []
        self._quarters = 0
        self.next_ms = NEVER_MS

    def reset(self, seed_text: str, day_start_ms: int, profile: list[float]) -> None:
        """Start a service day: empty queue, new random stream, quarter-hourly ``profile``."""
        self.rng.seed(seed_text)
        self.waiting = 0
        self.day_start_ms = day_start_ms
        self._rates = [p * self.share for p in profile]
        self._quarters = len(profile)
        self.next_ms = self._next_after(day_start_ms)

    def _next_after(self, t_ms: int) -> int:
        e = self.rng.expovariate(1.0)
        rel = (t_ms - self.day_start_ms) / 1000.0
        q = int(rel // 900.0)
        rates = self._rates
        while q < self._quarters:
            r = rates[q]
            end = (q + 1) * 900.0
            if r > 0.0:
                need = e / r
                if rel + need <= end:
                    return max(t_ms, self.day_start_ms + int((rel + need) * 1000.0))
                e -= r * (end - rel)
            rel = end
            q += 1
        return NEVER_MS

    def accrue(self, t_ms: int) -> int:
        """Add the arrivals up to ``t_ms`` (inclusive); returns the number waiting."""
        while self.next_ms <= t_ms:
            if self.waiting < self.max_waiting:
                self.waiting += 1
            self.next_ms = self._next_after(self.next_ms)
        return self.waiting
