"""The engine without Kafka: simulated scenarios against an independent reference, and state that
survives being written out and read back at any point."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pyarrow as pa
import pytest

from smartcity.core.durations import format_duration, parse_duration
from smartcity.ingest.alerts.engine import AlertEngine
from smartcity.ingest.alerts.inputs import sane_rows
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.proto import AlertKind, AlertState, BusTelemetry, Severity
from smartcity.proto.codec import BUS
from smartcity.simulator.config import to_ms

from .reference import (
    AIR_START,
    CROWDED_BUS,
    EPISODES,
    LATE_ROUTE,
    POLLUTED_SENSOR,
    SILENT_SENSOR,
    TRANSIT_START,
    assert_same_rows,
    expected_alerts,
    expected_windows,
    frames,
    observed_alerts,
    rounded,
    run_engine,
    scenario,
    scenario_settings,
    window_rows,
)


@pytest.fixture(scope="module")
def outputs():
    return run_engine(scenario_settings(), scenario())


def alerts_of(outputs):
    return [o.message for o in outputs if o.topic_kind == "alerts"]


def air_end_ms() -> int:
    return max(e.event_time_ms for e in scenario() if e.domain == "air")


def test_alerts_match_the_reference_rule_by_rule(outputs) -> None:
    expected = rounded(expected_alerts(scenario_settings(), scenario(), air_end_ms()))
    observed = observed_alerts(alerts_of(outputs))
    assert set(observed) == set(expected) == {"crowding", "delay", "waiting", "air_pm", "silence"}
    for rule in expected:
        assert observed[rule] == expected[rule], rule


def test_the_injected_episodes_raise_the_right_alerts(outputs) -> None:
    alerts = alerts_of(outputs)
    crowding = [a for a in alerts if a.kind == AlertKind.CROWDING]
    assert {a.subject_id for a in crowding} == {CROWDED_BUS}
    opened, update, closed = crowding
    assert [AlertState.Name(a.state) for a in crowding] == ["OPEN", "UPDATE", "CLOSED"]
    episode = EPISODES[0]
    assert to_ms(episode.start) <= opened.start_time_ms < closed.end_time_ms <= to_ms(episode.end) + 10 * 60_000
    assert closed.peak_value == 1.0 and closed.severity == Severity.CRITICAL and update.observed_value == 1.0
    assert opened.alert_id == update.alert_id == closed.alert_id == f"crowding:{CROWDED_BUS}:{opened.start_time_ms}"
    assert opened.unit == "ratio" and opened.threshold == 0.8 and opened.route_id

    air = [a for a in alerts if a.kind == AlertKind.AIR_QUALITY]
    assert [(a.subject_id, AlertState.Name(a.state)) for a in air] == [(POLLUTED_SENSOR, "OPEN"),
                                                                       (POLLUTED_SENSOR, "CLOSED")]
    pollution = EPISODES[2]
    assert to_ms(pollution.start) < air[0].start_time_ms < to_ms(pollution.end) <= air[1].end_time_ms
    assert air[0].unit == "AQI" and air[0].observed_value >= 151 and air[1].peak_value >= air[0].observed_value
    assert air[0].window_end_ms - air[0].window_start_ms == 3_600_000 == air[0].event_time_ms - air[0].start_time_ms

    silence = [a for a in alerts if a.kind == AlertKind.SILENCE]
    assert [(a.subject_id, AlertState.Name(a.state)) for a in silence] == [(SILENT_SENSOR, "OPEN"),
                                                                           (SILENT_SENSOR, "CLOSED")]
    outage = EPISODES[3]
    assert to_ms(outage.start) - 60_000 <= silence[0].start_time_ms < to_ms(outage.start)
    assert to_ms(outage.end) <= silence[1].end_time_ms < to_ms(outage.end) + 60_000
    assert silence[0].event_time_ms == silence[0].start_time_ms + 600_000

    late = [a for a in alerts if a.kind == AlertKind.SERVICE_DELAY and a.route_id == LATE_ROUTE]
    delay = EPISODES[1]
    during = [a for a in late if a.start_time_ms >= to_ms(delay.start)]
    assert len({a.subject_id for a in during}) >= 5  # the late route's stops, each on its own
    assert max(a.peak_value for a in during) > 2 * 300
    # every stop reports visits now, so ordinary lateness can open an alert before the episode; never as much
    assert all(a.peak_value < 2 * 300 for a in late if a.start_time_ms < to_ms(delay.start))


def test_windows_match_the_reference_and_merge_into_the_fleet_mean(outputs) -> None:
    rows = [o.message for o in outputs if o.topic_kind == "bus_windows"]
    want = expected_windows(scenario_settings(), scenario())
    # the engine run has no idle close, so the last window is still open
    want = want.filter(pl.col("window_start_ms") < want["window_start_ms"].max())
    got = window_rows(rows).select(want.columns)
    assert_same_rows(got, want)
    assert not any(r.fleet_buses or r.fleet_passengers_mean for r in rows)  # no member sees the whole fleet
    assert {r.event_time_ms - r.window_end_ms for r in rows} == {0}
    assert not any(r.closed_on_idle for r in rows)


@pytest.mark.parametrize("cut", [1, 5, 11, 16])
def test_state_written_out_and_read_back_at_any_point_changes_nothing(cut: int, outputs) -> None:
    settings = scenario_settings()
    tables = {d: f.to_arrow() for d, f in frames(scenario()).items()}
    chunks = [(d, t.slice(i, 5000)) for d, t in tables.items() for i in range(0, t.num_rows, 5000)]
    assert cut < len(chunks)
    engine = AlertEngine(settings)
    changelog: dict[tuple[str, int, str], bytes | None] = {}
    got = []
    for n, (domain, chunk) in enumerate(chunks):
        if n == cut:  # a crash after the last commit: a new engine from the changelog alone
            engine = AlertEngine(settings)
            by_partition: dict[tuple[str, int], dict[str, bytes]] = {}
            for (kind, p, entity), value in changelog.items():
                if value is not None:
                    by_partition.setdefault((kind, p), {})[entity] = value
            for (kind, p), records in by_partition.items():
                engine.load_partition(kind, p, records, now=0.0)
        got += engine.process(domain, chunk, [0] * chunk.num_rows, now=0.0)
        got += engine.advance(now=0.0)
        for kind, p, entity, value in engine.dump_dirty():
            changelog[(kind, p, entity)] = value
    assert [(o.topic_kind, o.key, o.message) for o in got] == [(o.topic_kind, o.key, o.message) for o in outputs]


def test_idle_close_flushes_the_bus_windows() -> None:
    settings = scenario_settings(streams=["bus"])
    events = [e for e in scenario() if e.domain == "bus"][:3000]
    engine = AlertEngine(settings)
    table = frames(events)["bus"].to_arrow()
    engine.process("bus", table, [0] * table.num_rows, now=100.0)
    before = [o for o in engine.advance(now=101.0) if o.topic_kind == "bus_windows"]
    idle = [o.message for o in engine.advance(now=102.5) if o.topic_kind == "bus_windows"]
    assert idle and all(w.closed_on_idle for w in idle) and not any(o.message.closed_on_idle for o in before)
    assert engine.open_windows() == 0 and engine.advance(now=200.0) == []
    late = frames(events[-50:])["bus"].to_arrow()
    engine.process("bus", late, [0] * late.num_rows, now=300.0)
    assert engine.stats.late["bus"] == sum(1 for e in events[-50:] if e.message.route_id and e.message.next_stop_id)


def test_unusable_rows_are_filtered_before_the_engine() -> None:
    now = to_ms(TRANSIT_START + timedelta(days=1))
    rows = [BusTelemetry(bus_id="B1", event_time_ms=now - 1000, passengers=3, capacity=10),
            BusTelemetry(bus_id="B1", event_time_ms=now + 2 * 86_400_000, passengers=3, capacity=10),
            BusTelemetry(bus_id="", event_time_ms=now, passengers=3, capacity=10),
            BusTelemetry(bus_id="B2", event_time_ms=5_000, passengers=3, capacity=10),
            BusTelemetry(bus_id="B3", event_time_ms=now, passengers=-1, capacity=10)]
    from smartcity.ingest.decode.rows import BatchDecoder
    from smartcity.storage.datasets import BUS_TELEMETRY

    table = BatchDecoder(BUS_TELEMETRY).decode([BUS.encode(m) for m in rows]).table
    assert sane_rows("bus", table, now).to_pylist() == [True, False, False, False, False]
    assert sane_rows("bus", pa.table({"bus_id": ["x"], "event_time_ms": [now], "passengers": [None],
                                      "capacity": [1]}), now).to_pylist() == [False]


def test_durations_and_derived_thresholds() -> None:
    assert [parse_duration(x) for x in ("20s", "20m", "1h", "250ms", 90, "1.5m", " 2 h ")] == \
        [20, 1200, 3600, 0.25, 90, 90, 7200]
    assert [format_duration(x) for x in (1200, 0.25, 90, 86400)] == ["20m", "250ms", "90s", "1d"]
    for bad in ("20x", "", "-5s", "m", True):
        with pytest.raises(ValueError):
            parse_duration(bad)
    s = AlertSettings(window="20s", delay_s=120, crowding_ratio=0.9)
    assert (s.window_ms, s.delay_close, s.crowding_close, s.aqi_close, s.waiting_close) == (20_000, 72, 0.8, 141, 100)
    with pytest.raises(ValueError, match="crowding_close_ratio"):
        AlertSettings(crowding_ratio=0.8, crowding_close_ratio=0.85)
    with pytest.raises(ValueError, match="extra"):
        AlertSettings(windw="20s")  # type: ignore[call-arg]
    assert AlertSettings().window == 1200 and AIR_START < TRANSIT_START


def _bus_table(*readings: tuple[str, int, int]) -> pa.Table:
    from smartcity.ingest.decode.rows import BatchDecoder
    from smartcity.storage.datasets import BUS_TELEMETRY

    messages = [BusTelemetry(bus_id=b, route_id="R1", next_stop_id="S1", event_time_ms=t, passengers=n, capacity=50)
                for b, t, n in readings]
    return BatchDecoder(BUS_TELEMETRY).decode([BUS.encode(m) for m in messages]).table


def test_a_restored_partition_remembers_which_windows_it_already_emitted() -> None:
    settings = AlertSettings(window="10s", grace="2s", streams=["bus"])
    t0 = to_ms(TRANSIT_START)
    engine = AlertEngine(settings)
    engine.process("bus", _bus_table(("B1", t0 + 1000, 5), ("B1", t0 + 15_000, 6)), [0, 0], now=0.0)
    assert [o.message.window_start_ms for o in engine.advance(now=0.0)] == [t0]
    state = {entity: value for _, _, entity, value in engine.dump_dirty() if value is not None}
    restored = AlertEngine(settings)
    restored.load_partition("bus", 0, state, now=0.0)
    restored.process("bus", _bus_table(("B2", t0 + 9000, 7)), [0], now=0.0)
    assert restored.stats.late["bus"] == 1 and restored.open_windows() == 1  # only B1's [10 s, 20 s)
    assert restored.advance(now=0.0) == []


def test_changelog_records_are_grouped_per_group_and_partition_and_tombstones_delete() -> None:
    from smartcity.ingest.alerts.changelog import changelog_key, group_records

    records = [
        (changelog_key("g", "bus", 0, "B1"), b'{"c":1}'),
        (changelog_key("g", "bus", 0, "B1"), b'{"c":2}'),
        (changelog_key("g", "bus", 1, "B2"), b'{"c":3}'),
        (changelog_key("g", "bus", 1, "B2"), None),
        (changelog_key("other", "bus", 0, "B1"), b'{"c":9}'),
        (changelog_key("g", "air", 0, ""), b'{"wm":5}'),
        (b"not json", b"{}"),
    ]
    assert group_records("g", records) == {("bus", 0): {"B1": b'{"c":2}'}, ("bus", 1): {},
                                           ("air", 0): {"": b'{"wm":5}'}}
    assert changelog_key("g/x", "station", 3, "S/1") == b'["g/x","station",3,"S/1"]'
