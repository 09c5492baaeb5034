"""The alerting daemon on a real broker: simulated scenarios give exactly the expected alerts and
windows, out-of-order events count in their window, and kill -9 duplicates and loses nothing."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from smartcity.ingest.alerts.daemon import AlertDaemon
from smartcity.ingest.alerts.fleet import fleet_by_window
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.producer import produce_records
from smartcity.proto import AlertKind, AlertState, BusTelemetry
from smartcity.proto.codec import BUS

from .brokers import alerts_command, alerts_env, committed, create_inputs, produce_events, read_topic
from .reference import (
    CROWDED_BUS,
    LATE_ROUTE,
    POLLUTED_SENSOR,
    SILENT_SENSOR,
    assert_same_rows,
    expected_alerts,
    expected_windows,
    observed_alerts,
    rounded,
    run_engine,
    scenario,
    scenario_settings,
    window_rows,
)

pytestmark = pytest.mark.kafka


def alert_key(a) -> tuple:
    return (a.alert_id, a.state, a.start_time_ms, a.end_time_ms, a.event_time_ms, a.observed_value, a.peak_value,
            a.severity, a.message)


def window_key(w) -> tuple:
    return (w.bus_id, w.route_id, w.window_start_ms, w.readings, w.passengers_min, w.passengers_max,
            w.passengers_mean, w.capacity, w.fleet_buses, w.fleet_passengers_mean, w.closed_on_idle)


def fleet_key(messages) -> dict:
    return {start: (f.buses, round(f.passengers_mean, 9)) for start, f in fleet_by_window(messages).items()}


def test_scenario_gives_exactly_the_expected_alerts_and_windows(kafka_settings, unique: str) -> None:
    create_inputs(kafka_settings)
    events = scenario()
    produce_events(kafka_settings, events)
    settings = scenario_settings(group=f"g-{unique}")
    printed = []
    # until_idle well past the idle timeout (2 s): the last windows close on it even on a busy machine
    stats = AlertDaemon(kafka_settings, settings, until_idle=8.0, on_alert=printed.append).run()
    assert stats.consumed == len(events) and stats.invalid == 0 and stats.aborts == 0

    alerts = read_topic(kafka_settings, "alerts")
    assert Counter((a.alert_id, a.state) for a in alerts).most_common(1)[0][1] == 1  # each transition once
    assert sorted(map(alert_key, printed)) == sorted(map(alert_key, alerts))
    air_end = max(e.event_time_ms for e in events if e.domain == "air")
    expected = rounded(expected_alerts(settings, events, air_end))
    observed = observed_alerts(alerts)
    assert set(observed) == set(expected)
    for rule in expected:
        assert observed[rule] == expected[rule], rule
    opened = {a.alert_id for a in alerts if a.state == AlertState.OPEN}
    closed = {a.alert_id for a in alerts if a.state == AlertState.CLOSED}
    assert closed <= opened and len(opened) >= 20
    # the injected episodes, by subject and peak
    by_kind = {(AlertKind.Name(a.kind), a.subject_id, AlertState.Name(a.state)): a for a in alerts}
    assert by_kind[("CROWDING", CROWDED_BUS, "CLOSED")].peak_value == 1.0
    assert {a.subject_id for a in alerts if a.kind == AlertKind.CROWDING} == {CROWDED_BUS}
    assert {(a.subject_id, a.state) for a in alerts if a.kind == AlertKind.AIR_QUALITY} == {
        (POLLUTED_SENSOR, AlertState.OPEN), (POLLUTED_SENSOR, AlertState.CLOSED)}
    assert by_kind[("AIR_QUALITY", POLLUTED_SENSOR, "CLOSED")].peak_value >= 151
    assert {a.subject_id for a in alerts if a.kind == AlertKind.SILENCE} == {SILENT_SENSOR}
    assert len({a.subject_id for a in alerts if a.kind == AlertKind.SERVICE_DELAY and a.route_id == LATE_ROUTE}) >= 5

    windows = read_topic(kafka_settings, "bus_windows")
    assert len({(w.bus_id, w.window_start_ms) for w in windows}) == len(windows)  # each window once
    rows = window_rows(windows)
    want = expected_windows(settings, events)
    assert_same_rows(rows.select(want.columns), want)  # the last windows closed on the idle timeout
    last = want["window_start_ms"].max()
    assert rows.filter(pl.col("closed_on_idle"))["window_start_ms"].unique().to_list() == [last]


def test_out_of_order_within_grace_counts_in_its_window_and_later_events_are_counted_late(
        kafka_settings, unique: str) -> None:
    create_topics(kafka_settings, [kafka_settings.topic("bus")], partitions=1)
    settings = AlertSettings(group=f"g-{unique}", streams=["bus"], window="10s", grace="5s", idle_timeout="1m")
    daemon = AlertDaemon(kafka_settings, settings, max_seconds=120)
    runner = threading.Thread(target=daemon.run)
    runner.start()
    t0 = 1_741_683_600_000  # a multiple of 10 s

    def send(*readings: tuple[str, float, int]) -> None:
        records = [(kafka_settings.topic("bus"), bus.encode(), BUS.encode(BusTelemetry(
            bus_id=bus, route_id="R1", next_stop_id="S1", event_time_ms=t0 + int(s * 1000), passengers=n,
            capacity=50)), BUS.headers("protobuf"), 0) for bus, s, n in readings]
        produce_records(kafka_settings, records)

    def windows_until(start_s: int, timeout: float = 60) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = read_topic(kafka_settings, "bus_windows")
            if any(w.window_start_ms == t0 + start_s * 1000 for w in rows):
                return rows
            time.sleep(0.3)
        raise AssertionError(f"window {start_s} s never closed")

    try:
        # 8 s and 9 s arrive after 12 s (the watermark), within the 5 s grace of [0 s, 10 s)
        send(("B1", 1, 10), ("B1", 4, 20), ("B2", 12, 5), ("B1", 8, 30), ("B2", 9, 40), ("B1", 16, 7))
        rows = windows_until(0)
        first = {w.bus_id: w for w in rows if w.window_start_ms == t0}
        assert {b: (w.readings, w.passengers_min, w.passengers_max) for b, w in first.items()} == {
            "B1": (3, 10, 30), "B2": (1, 40, 40)}
        assert fleet_by_window(first.values())[t0].passengers_mean == pytest.approx(25.0)
        # now [0 s, 10 s) has closed: 7 s and 2 s are late; 27 s closes [10 s, 20 s)
        send(("B1", 7, 99), ("B3", 2, 99), ("B1", 27, 1))
        rows = windows_until(10)
        assert daemon.engine.stats.late["bus"] == 2
        assert Counter(w.window_start_ms for w in rows) == {t0: 2, t0 + 10_000: 2}  # nothing emitted twice
        second = {w.bus_id: w.readings for w in rows if w.window_start_ms == t0 + 10_000}
        assert second == {"B1": 1, "B2": 1}
        assert all(w.passengers_max < 99 for w in rows)
    finally:
        daemon.stop()
        runner.join(60)
    assert not runner.is_alive()


def assert_outputs_are_the_reference(kafka, events) -> tuple[Counter, Counter]:  # type: ignore[no-untyped-def]
    """The committed alerts and windows are the engine's over ``events`` (no window closed on the wall
    clock), record for record: nothing duplicated, nothing missing. Returns the expected ones."""
    reference = run_engine(scenario_settings(idle_timeout="10m"), events)
    want_alerts = Counter(alert_key(o.message) for o in reference if o.topic_kind == "alerts")
    want_windows = Counter(window_key(o.message) for o in reference if o.topic_kind == "bus_windows")
    got_alerts = Counter(map(alert_key, read_topic(kafka, "alerts")))
    got_windows = Counter(map(window_key, read_topic(kafka, "bus_windows")))
    assert got_alerts - want_alerts == Counter(), "duplicated or unexpected alerts"
    assert want_alerts - got_alerts == Counter(), "missing alerts"
    assert got_windows == want_windows
    return want_alerts, want_windows


def wait_for_progress(kafka, group: str, floor: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while committed(kafka, group) <= floor:
        assert time.monotonic() < deadline, "the daemon made no progress"
        time.sleep(0.1)


def test_kill_9_and_restart_neither_duplicates_nor_loses_an_alert(kafka_settings, tmp_path: Path,
                                                                    unique: str) -> None:
    create_inputs(kafka_settings)
    events = list(scenario())
    # idle_timeout is longer than the test, so no window closes on the wall clock and the run is
    # deterministic: it must equal the engine's run over the same events, record for record
    flags = ["--window", "5m", "--grace", "10s", "--idle-timeout", "10m", "--commit-interval", "50ms",
             "--instance-id", "a", "-q"]
    group = f"g-{unique}"
    env = alerts_env(kafka_settings, tmp_path)
    rng = random.Random(5)
    rounds = 3
    produced, progress, restored = 0, [], []
    for r in range(rounds):
        chunk = events[r * len(events) // rounds:(r + 1) * len(events) // rounds]
        head, tail = chunk[:len(chunk) // 5], chunk[len(chunk) // 5:]
        proc = subprocess.Popen(alerts_command(kafka_settings, group, *flags), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        before = produced
        produced += produce_events(kafka_settings, head)
        wait_for_progress(kafka_settings, group, before)
        # the rest trickles in for about 2.5 s; the kill lands while the daemon is busy with it
        feeder = threading.Thread(target=produce_events, args=(kafka_settings, tail, 10_000))
        feeder.start()
        time.sleep(rng.uniform(0.3, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        feeder.join()
        produced += len(tail)
        restored.append(proc.stderr.read() if proc.stderr else "")
        progress.append((before, committed(kafka_settings, group), produced))
    interrupted = sum(before < done < after for before, done, after in progress)
    final = subprocess.run(alerts_command(kafka_settings, group, *flags, "--until-idle", "3s"), env=env,
                           capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr[-3000:]
    assert committed(kafka_settings, group) == produced == len(events)
    assert interrupted >= 2, progress
    assert any("state records" in text and "(0 state records)" not in text for text in restored[1:])

    want_alerts, want_windows = assert_outputs_are_the_reference(kafka_settings, events)
    assert len(want_alerts) >= 40 and len(want_windows) > 500


def test_cli_prints_alert_lines_serves_metrics_and_exits_0_on_sigterm(kafka_settings, tmp_path: Path,
                                                                      unique: str) -> None:
    import socket

    create_inputs(kafka_settings)
    events = [e for e in scenario() if e.domain == "bus"]
    produce_events(kafka_settings, events)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = alerts_command(kafka_settings, f"g-{unique}", "--streams", "bus", "--window", "20s", "--grace", "5s",
                         "--metrics-port", str(port))
    proc = subprocess.Popen(cmd, env=alerts_env(kafka_settings, tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        text = ""
        consumed = f'smartcity_alerts_messages_consumed_total{{topic="{kafka_settings.topic("bus")}"}} ' \
                   f"{float(len(events))}"
        for _ in range(60):
            time.sleep(0.5)
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                continue
            if consumed in text and "CROWDING" in text:
                break
        assert consumed in text
        assert 'smartcity_alerts_alerts_total{kind="CROWDING",state="OPEN"} 1.0' in text
        assert "smartcity_alerts_commit_seconds_bucket" in text and "smartcity_alerts_windows_total" in text
        assert (tmp_path / "heartbeat").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    lines = [line for line in out.splitlines() if "CROWDING" in line]
    assert len(lines) == 3 and "OPEN" in lines[0] and "CLOSED" in lines[-1]
    assert lines[0].startswith("2025-03-11 ") and "[crowding:B010:" in lines[0]
    assert "alert records:" in err


def test_two_members_rebalancing_mid_stream_neither_duplicate_nor_lose_an_alert(kafka_settings, tmp_path: Path,
                                                                                 unique: str) -> None:
    create_inputs(kafka_settings)
    events = list(scenario())
    flags = ["--window", "5m", "--grace", "10s", "--idle-timeout", "10m", "-q"]
    group = f"g-{unique}"
    env = alerts_env(kafka_settings, tmp_path)
    half = len(events) // 2
    produce_events(kafka_settings, events[:half])

    def member() -> subprocess.Popen:
        return subprocess.Popen(alerts_command(kafka_settings, group, *flags), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    first = member()
    wait_for_progress(kafka_settings, group, 0)
    second = member()  # takes some partitions from the first: state moves through the changelog
    feeder = threading.Thread(target=produce_events, args=(kafka_settings, events[half:], 10_000))
    feeder.start()
    time.sleep(2.5)
    first.send_signal(signal.SIGTERM)  # its partitions move to the second member
    assert first.wait(60) == 0, first.stderr.read()[-2000:] if first.stderr else ""
    feeder.join()
    wait_for_progress(kafka_settings, group, len(events) - 1, timeout=90)  # the second took over and caught up
    second.send_signal(signal.SIGTERM)
    err = second.communicate(timeout=60)[1]
    assert second.returncode == 0, err[-2000:]
    assert "restored" in err and "revoked" in (first.stderr.read() if first.stderr else "")
    final = subprocess.run(alerts_command(kafka_settings, group, *flags, "--until-idle", "3s"), env=env,
                           capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr[-3000:]
    assert committed(kafka_settings, group) == len(events)

    reference = run_engine(scenario_settings(idle_timeout="10m"), events)
    want_alerts = Counter(alert_key(o.message) for o in reference if o.topic_kind == "alerts")
    got_alerts = Counter(map(alert_key, read_topic(kafka_settings, "alerts")))
    assert got_alerts == want_alerts
    # every bus window once, as one member makes it, and the fleet figures merged by window the same
    want_windows = [o.message for o in reference if o.topic_kind == "bus_windows"]
    got_windows = read_topic(kafka_settings, "bus_windows")
    assert Counter(map(window_key, got_windows)) == Counter(map(window_key, want_windows))
    assert fleet_key(got_windows) == fleet_key(want_windows)
