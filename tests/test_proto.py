"""Schemas: generated code is current, codecs round-trip, decode failures are named."""

from __future__ import annotations

import filecmp
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.core.errors import DecodeError
from smartcity.proto import AirQualityReading, Alert, BusTelemetry, BusWindowStats, StationEvent
from smartcity.proto.codec import AIR, ALERT, BUS, BUS_WINDOW, CODECS, STATION, codec_for, encoding_from_headers
from smartcity.proto.generate import generate

from .conftest import REPO

SAMPLES = {
    "bus": BusTelemetry(bus_id="B17", route_id="R3", trip_id="R3-0715", event_time_ms=1_764_000_000_123,
                        latitude=47.3769, longitude=8.5417, speed_mps=8.25, bearing_deg=271.5, passengers=48,
                        capacity=70, seated_capacity=40, next_stop_id="S042", stop_sequence=7, current_status=1,
                        occupancy_status=3, occupancy_percentage=69, delay_s=-35, odometer_m=4210.5),
    "air": AirQualityReading(sensor_id="A05", event_time_ms=1_764_000_060_000, latitude=47.39, longitude=8.51,
                             pm25_ugm3=12.4, no2_ppb=31.0, co_ppm=0.4, temperature_c=-2.5, humidity_pct=81.0),
    "station": StationEvent(station_id="S042", event_time_ms=1_764_000_100_000, kind=2, bus_id="B17",
                            route_id="R3", trip_id="R3-0715", scheduled_time_ms=1_764_000_065_000,
                            actual_time_ms=1_764_000_100_000, waiting_passengers=3, boarded=11, alighted=4,
                            dwell_s=31.5, stop_sequence=7),
    "alert": Alert(alert_id="crowding:B17:1764000000000", kind=1, severity=2, state=1, subject_id="B17",
                   subject_type="bus", start_time_ms=1_764_000_000_000, observed_value=0.93, peak_value=0.93,
                   threshold=0.8, unit="ratio", message="bus B17 at 93% of capacity", route_id="R3",
                   event_time_ms=1_764_000_000_000),
    "window": BusWindowStats(bus_id="B17", route_id="R3", window_start_ms=1_764_000_000_000,
                             window_end_ms=1_764_001_200_000, event_time_ms=1_764_001_200_000, readings=240,
                             passengers_min=3, passengers_max=61, passengers_mean=33.5, capacity=70, fleet_buses=64,
                             fleet_passengers_mean=21.25, closed_on_idle=True),
}
CODEC_OF = {"bus": BUS, "air": AIR, "station": STATION, "alert": ALERT, "window": BUS_WINDOW}


def test_generated_code_is_current(tmp_path) -> None:
    written = generate(tmp_path)
    assert len(written) == 1 + 2 * 5
    for path in written:
        committed = REPO / "proto" / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} missing: run `make proto`"
        assert filecmp.cmp(path, committed, shallow=False), f"{committed} is stale: run `make proto`"


def test_descriptor_set_lists_every_schema() -> None:
    from google.protobuf import descriptor_pb2

    fds = descriptor_pb2.FileDescriptorSet.FromString((REPO / "proto" / "smartcity.desc").read_bytes())
    names = {m.name for f in fds.file for m in f.message_type}
    assert names == {"BusTelemetry", "AirQualityReading", "StationEvent", "Alert", "BusWindowStats"}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_round_trip(kind: str, encoding: str) -> None:
    codec, message = CODEC_OF[kind], SAMPLES[kind]
    data = codec.encode(message, encoding)
    assert codec.decode(data, codec.headers(encoding)) == message


def test_json_is_plain_and_readable() -> None:
    import json

    obj = json.loads(BUS.encode(SAMPLES["bus"], "json"))
    assert obj["event_time_ms"] == 1_764_000_000_123  # a number, not a string
    assert obj["current_status"] == "STOPPED_AT" and obj["occupancy_status"] == "STANDING_ROOM_ONLY"
    assert obj["speed_mps"] == 8.25


def test_optional_fields_keep_presence() -> None:
    reading = AirQualityReading(sensor_id="A1", event_time_ms=1, pm25_ugm3=0.0)
    for encoding in ("protobuf", "json"):
        back = AIR.decode(AIR.encode(reading, encoding), AIR.headers(encoding))
        assert back.HasField("pm25_ugm3") and back.pm25_ugm3 == 0.0
        assert not back.HasField("no2_ppb")


def test_no_content_type_means_protobuf() -> None:
    assert encoding_from_headers(None) == "protobuf"
    assert encoding_from_headers([("other", b"x")]) == "protobuf"
    assert encoding_from_headers([("Content-Type", b"application/json; charset=utf-8")]) == "json"
    assert BUS.decode(BUS.encode(SAMPLES["bus"])) == SAMPLES["bus"]


@pytest.mark.parametrize(
    ("data", "headers", "reason"),
    [
        (b"\xff\xff\xff\xff", None, "invalid Protobuf"),
        (b"{not json", [("content-type", b"application/json")], "invalid JSON"),
        (b"[1, 2]", [("content-type", b"application/json")], "expected an object"),
        (b'{"passengers": "many"}', [("content-type", b"application/json")], "passengers"),
        (None, None, "null value"),
        (b"x", [("content-type", b"text/csv")], "unsupported content-type"),
    ],
)
def test_decode_errors_name_type_and_reason(data: bytes | None, headers, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        BUS.decode(data, headers)
    assert "BusTelemetry" in str(info.value) or "message" in str(info.value)
    assert reason in str(info.value)


def test_codec_lookup() -> None:
    assert codec_for("smartcity.v1.Alert") is ALERT
    assert codec_for(BusTelemetry) is BUS
    assert set(CODECS) == {"smartcity.v1.BusTelemetry", "smartcity.v1.AirQualityReading",
                           "smartcity.v1.StationEvent", "smartcity.v1.Alert", "smartcity.v1.BusWindowStats"}


@settings(max_examples=200, deadline=None)
@given(
    bus_id=st.text(min_size=1, max_size=20),
    t=st.integers(min_value=0, max_value=2**62),
    lat=st.floats(-90, 90, allow_nan=False),
    passengers=st.integers(-(2**31), 2**31 - 1),
    speed=st.floats(0, 1000, allow_nan=False, width=32),
)
def test_any_bus_message_round_trips_in_json(bus_id: str, t: int, lat: float, passengers: int, speed: float) -> None:
    msg = BusTelemetry(bus_id=bus_id, event_time_ms=t, latitude=lat, passengers=passengers, speed_mps=speed)
    back = BUS.decode(BUS.encode(msg, "json"), BUS.headers("json"))
    assert back.bus_id == bus_id and back.event_time_ms == t and back.passengers == passengers
    assert math.isclose(back.latitude, lat, rel_tol=0, abs_tol=0) or back.latitude == lat
    assert back.speed_mps == msg.speed_mps
