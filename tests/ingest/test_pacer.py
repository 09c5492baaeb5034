"""Pacing of the producer: X times real time, or N messages per second."""

from __future__ import annotations

import time

import pytest

from smartcity.ingest.producer import Pacer


def test_speed_paces_event_time() -> None:
    pacer = Pacer(speed=10.0)
    polled: list[float] = []
    began = time.monotonic()
    for t_ms in (0, 1000, 2000, 3000):  # 3 s of event time at 10x real time: about 0.3 s
        pacer.wait(1_700_000_000_000 + t_ms, lambda s: (polled.append(s), time.sleep(s)))
    elapsed = time.monotonic() - began
    assert 0.28 <= elapsed < 0.6
    assert polled and all(0 < s <= 0.1 for s in polled)


def test_rate_caps_messages_per_second() -> None:
    pacer = Pacer(rate=200.0)
    began = time.monotonic()
    for _ in range(60):  # 60 messages at 200/s: about 0.3 s
        pacer.wait(0, time.sleep)
    assert 0.28 <= time.monotonic() - began < 0.6


@pytest.mark.parametrize("kwargs", [{}, {"speed": 1e9}])
def test_no_pacing_or_huge_speed_does_not_wait(kwargs: dict[str, float]) -> None:
    pacer = Pacer(**kwargs)
    began = time.monotonic()
    for t in range(1000):
        pacer.wait(t * 1000, time.sleep)
    assert time.monotonic() - began < 0.2
