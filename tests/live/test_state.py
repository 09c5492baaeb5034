"""The live picture folded from messages: newer events win, positions are never invented, NowCast as
EPA defines it, alerts open and close."""

from __future__ import annotations

import random

from smartcity.analysis.air.aqi import aqi_category
from smartcity.analysis.air.nowcast import nowcast_aqi
from smartcity.live.state import HOUR_MS, Changes, LiveState, public
from smartcity.proto.smartcity.v1.air_pb2 import AirQualityReading
from smartcity.proto.smartcity.v1.alert_pb2 import Alert
from smartcity.proto.smartcity.v1.bus_pb2 import BusTelemetry
from smartcity.proto.smartcity.v1.window_pb2 import BusWindowStats

T0 = 1_780_000_000_000 - 1_780_000_000_000 % HOUR_MS


def _bus(t: int, **fields: object) -> BusTelemetry:
    base: dict[str, object] = dict(bus_id="B1", route_id="R1", event_time_ms=t, latitude=47.0, longitude=8.0,
                                   passengers=30, capacity=80, occupancy_status=2)
    base.update(fields)
    return BusTelemetry(**base)


def test_a_vehicle_moves_only_forward_in_event_time() -> None:
    state, changes = LiveState(), Changes()
    state.apply_bus(_bus(T0 + 2000, latitude=47.2), changes)
    state.apply_bus(_bus(T0 + 1000, latitude=47.1), changes)  # late: ignored
    assert state.records["vehicle"]["B1"]["lat"] == 47.2
    state.apply_bus(_bus(T0 + 3000, latitude=47.3, occupancy_status=5), changes)
    record = changes.payload()["vehicles"][0]
    assert (record["lat"], record["occupancy"], record["t"]) == (47.3, "FULL", T0 + 3000)


def test_a_reading_without_a_position_keeps_the_last_known_one_and_never_invents_zero() -> None:
    state, changes = LiveState(), Changes()
    state.apply_bus(_bus(T0, latitude=None, longitude=None), changes)
    assert "lat" not in state.records["vehicle"]["B1"]
    state.apply_bus(_bus(T0 + 1000, latitude=47.5, longitude=8.5), changes)
    state.apply_bus(_bus(T0 + 2000, latitude=None, longitude=None, passengers=70), changes)
    record = state.records["vehicle"]["B1"]
    assert (record["lat"], record["lon"], record["passengers"]) == (47.5, 8.5, 70)


def test_sensor_aqi_is_the_epa_nowcast_of_the_hourly_means() -> None:
    rng = random.Random(4)
    state, changes = LiveState(), Changes()
    readings: dict[int, list[float]] = {}
    for hour in range(15):
        if hour in (9, 12):  # two hours without data
            continue
        for minute in range(0, 60, 10):
            value = round(rng.uniform(5, 80), 1)
            readings.setdefault(hour, []).append(value)
            state.apply_air(AirQualityReading(sensor_id="AQ1", event_time_ms=T0 + hour * HOUR_MS + minute * 60_000,
                                              latitude=47, longitude=8, pm25_ugm3=value), changes)
    means = [sum(readings[h]) / len(readings[h]) if h in readings else None for h in range(14, 2, -1)]
    expected = nowcast_aqi(means, "pm25")
    record = state.records["sensor"]["AQ1"]
    assert record["aqi"] == expected and record["aqi_pollutant"] == "pm25"
    category = aqi_category(expected)
    assert category is not None and (record["category"], record["colour"]) == (category.name, category.hex)
    assert len(record["hours"]) == 10  # 12 hours back, two of them empty


def test_nowcast_needs_two_of_the_three_latest_hours() -> None:
    state, changes = LiveState(), Changes()
    for hour in (0, 1, 4):  # the latest hour (4) alone among hours 2..4
        state.apply_air(AirQualityReading(sensor_id="AQ1", event_time_ms=T0 + hour * HOUR_MS, pm25_ugm3=40.0),
                        changes)
    assert "aqi" not in state.records["sensor"]["AQ1"]


def test_alerts_open_update_and_close() -> None:
    state, changes = LiveState(), Changes()
    state.apply_alert(Alert(alert_id="a1", kind=1, severity=2, state=1, subject_id="B1", subject_type="bus",
                            event_time_ms=T0, message="<b>crowded</b>"), changes)
    assert changes.payload()["alerts"][0]["message"] == "<b>crowded</b>"  # data, kept as it came
    state.apply_alert(Alert(alert_id="a1", kind=1, severity=3, state=2, subject_id="B1", subject_type="bus",
                            event_time_ms=T0 + 60_000, peak_value=1.3), changes)
    assert state.records["alert"]["a1"]["severity"] == "CRITICAL"
    first = changes.payload()
    assert [a["id"] for a in first["alerts"]] == ["a1"] and first["closed"] == []
    later = Changes()
    state.apply_alert(Alert(alert_id="a1", state=3, event_time_ms=T0 + 120_000), later)
    assert "a1" not in state.records["alert"]
    assert later.payload()["alerts"] == [] and later.payload()["closed"] == ["a1"]


def _window(bus: str, end: int, readings: int, total: int) -> BusWindowStats:
    return BusWindowStats(bus_id=bus, window_start_ms=end - 300_000, window_end_ms=end, readings=readings,
                          passengers_mean=total / readings)


def test_the_fleet_record_merges_every_member_s_buses_by_window() -> None:
    state, changes = LiveState(), Changes()
    late = T0 + 600_000
    # two members close the window at different times; one bus's record comes twice (a replay)
    for m in (_window("B1", late, 3, 100), _window("B9", late - 300_000, 2, 5), _window("B2", late, 7, 33),
              _window("B1", late, 3, 100)):
        state.apply_window(m, changes)
    fleet = public(state.records["fleet"]["current"])
    assert (fleet["window_end_ms"], fleet["buses"], fleet["passengers_mean"]) == (late, 2, round(133 / 10, 2))
    # a restarted server goes on counting the same window from the stored record
    rows = [(kind, record) for kind, records in state.records.items() for record in records.values()]
    again = LiveState.from_records(rows)
    again.apply_window(_window("B3", late, 10, 67), Changes())
    assert again.records["fleet"]["current"]["buses"] == 3
    assert again.records["fleet"]["current"]["passengers_mean"] == round(200 / 20, 2)


def test_a_stored_picture_restores_the_same_snapshot() -> None:
    state, changes = LiveState(), Changes()
    state.apply_bus(_bus(T0), changes)
    state.apply_alert(Alert(alert_id="a1", state=1, event_time_ms=T0, subject_id="B1"), changes)
    rows = [(kind, record) for kind, records in state.records.items() for record in records.values()]
    assert LiveState.from_records(rows).snapshot() == state.snapshot()
