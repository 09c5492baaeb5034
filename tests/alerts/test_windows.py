"""Event-time windows: alignment, grace, late events, idle close, and the stream watermark."""

from __future__ import annotations

import pytest

from smartcity.ingest.alerts.windows import KeyedWindows, StreamClock, window_start


class Count:
    def __init__(self) -> None:
        self.times: list[int] = []


def windows(size: int = 10, grace: int = 5) -> KeyedWindows[Count]:
    return KeyedWindows(size, grace, Count)


def add(w: KeyedWindows[Count], key: str, t: int) -> bool:
    agg = w.slot(key, t)
    if agg is None:
        return False
    agg.times.append(t)
    return True


def test_windows_are_aligned_to_the_epoch() -> None:
    assert window_start(1_741_683_645_450, 20_000) == 1_741_683_640_000
    assert window_start(1_741_683_640_000, 20_000) == 1_741_683_640_000
    assert window_start(1_741_683_600_000 + 19 * 60_000, 1_200_000) == 1_741_683_600_000


def test_a_window_closes_only_when_the_watermark_passes_end_plus_grace() -> None:
    w = windows()
    for t in (1, 4, 9, 12):
        assert add(w, "B1", t)
    assert w.close_until(14) == []          # 10 + 5 not reached
    closed = w.close_until(15)
    assert [(c.key, c.start, c.end, c.agg.times, c.on_idle) for c in closed] == [("B1", 0, 10, [1, 4, 9], False)]
    assert w.close_until(15) == []          # closes once
    assert w.open_windows == 1              # [10, 20) is still open


def test_out_of_order_events_within_grace_count_in_their_own_window() -> None:
    w = windows()
    add(w, "B1", 3)
    add(w, "B1", 13)
    w.close_until(13)                       # the watermark is past [0, 10) but not past its grace
    assert add(w, "B1", 7)                  # late by 6, within grace 5 + the window
    assert add(w, "B2", 9)                  # another key's first event in the same old window
    closed = {(c.key, c.start): sorted(c.agg.times) for c in w.close_until(15)}
    assert closed == {("B1", 0): [3, 7], ("B2", 0): [9]}


def test_events_beyond_grace_are_late_and_never_reopen_a_window() -> None:
    w = windows()
    add(w, "B1", 2)
    add(w, "B1", 16)
    assert [c.start for c in w.close_until(16)] == [0]
    assert not add(w, "B1", 9)              # its window was emitted: late
    assert not add(w, "B9", 0)              # any key: the window is closed for the stream
    assert add(w, "B1", 10)                 # the next window is open
    assert [c.start for c in w.close_until(100)] == [10]
    assert w.by_key == {} and w.by_start == {}


def test_close_all_on_idle_closes_every_window_and_later_events_for_them_are_late() -> None:
    w = windows()
    for key, t in (("B1", 1), ("B1", 12), ("B2", 27)):
        add(w, key, t)
    closed = w.close_all()
    assert [(c.key, c.start, c.on_idle) for c in closed] == [("B1", 0, True), ("B1", 10, True), ("B2", 20, True)]
    assert w.closed_through == 20 + 10 + 5
    assert not add(w, "B2", 29)             # the idle-closed window is not emitted twice
    assert add(w, "B2", 31)
    assert w.close_all()[0].start == 30


def test_state_can_be_dropped_and_loaded_per_key() -> None:
    w = windows()
    add(w, "B1", 1)
    add(w, "B2", 2)
    saved = dict(w.windows_of("B1"))
    w.drop("B1")
    assert w.open_windows == 1
    w.load("B1", saved)
    assert sorted(c.key for c in w.close_until(100)) == ["B1", "B2"]


def test_stream_watermark_is_the_slowest_active_partition() -> None:
    clock = StreamClock(idle_timeout_s=10)
    clock.assign(0, None, now=0)
    clock.assign(1, None, now=0)
    clock.observe(0, 5_000, now=1)
    assert clock.watermark(now=1) is None   # partition 1 has carried nothing yet
    clock.observe(1, 3_000, now=2)
    assert clock.watermark(now=2) == 3_000
    clock.observe(0, 9_000, now=3)
    assert clock.watermark(now=3) == 3_000  # partition 0 racing ahead does not make 1's events late
    assert clock.watermark(now=12.5) == 9_000  # partition 1 idle for 10 s: it no longer holds time back
    assert not clock.idle(now=12.5)
    assert clock.idle(now=13.5) and clock.watermark(now=13.5) is None


def test_a_partition_with_messages_waiting_is_never_idle() -> None:
    # the consumer spends 30 s on partition 0's backlog while partition 1's waits in the log
    clock = StreamClock(idle_timeout_s=2)
    clock.assign(0, None, now=0)
    clock.assign(1, None, now=0)
    clock.observe(1, 1_000, now=0.5)
    for second in range(1, 31):
        clock.observe(0, 1_000 + second * 60_000, now=second)
        clock.hold(1, now=second)
        assert clock.watermark(now=second) == 1_000  # partition 1's waiting events are not late
    clock.observe(0, 1_000 + 31 * 60_000, now=32)
    assert clock.watermark(now=32.5) == 1_000 + 31 * 60_000  # 1 caught up and quiet: it no longer holds time back
    clock.hold(7, now=40)  # a partition not (or no longer) tracked is ignored
    assert 7 not in clock.partitions


def test_an_empty_partition_stops_blocking_after_the_idle_timeout() -> None:
    clock = StreamClock(idle_timeout_s=2)
    clock.assign(0, None, now=100)
    clock.assign(1, None, now=100)
    clock.observe(0, 50, now=100.5)
    assert clock.watermark(now=101.9) is None
    assert clock.watermark(now=102.1) == 50


def test_restored_watermarks_count_at_once() -> None:
    clock = StreamClock(idle_timeout_s=5)
    clock.assign(0, 70_000, now=0)
    clock.assign(1, 60_000, now=0)
    assert clock.watermark(now=1) == 60_000


def test_event_clock_runs_on_with_the_wall_clock_once_the_stream_is_idle() -> None:
    clock = StreamClock(idle_timeout_s=10)
    clock.assign(0, None, now=0)
    clock.observe(0, 1_000_000, now=0)
    assert clock.event_clock(now=5) == 1_000_000
    assert clock.event_clock(now=15) == 1_000_000 + 15_000
    assert clock.idle_for(now=15) == pytest.approx(15)
