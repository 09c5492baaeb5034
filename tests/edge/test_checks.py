"""What the gateway checks of a device message, and how replays are told apart by device_seq
(pure functions, hand-made cases)."""

from __future__ import annotations

import json

import pytest

from smartcity.ingest.device_seq import SeqMarks
from smartcity.ingest.edge.checks import MAX_VALUE_BYTES, Incoming, check, parse_address, wire_encoding
from smartcity.ingest.edge.envelope import Envelope
from smartcity.proto import AirQualityReading, BusTelemetry
from smartcity.proto.codec import AIR, BUS

T = 1_764_000_000_000


def bus(seq: int | None = 1, bus_id: str = "B7") -> BusTelemetry:
    m = BusTelemetry(bus_id=bus_id, route_id="R1", event_time_ms=T, capacity=70, passengers=3)
    if seq is not None:
        m.device_seq = seq
    return m


def run(message: Incoming) -> tuple[Envelope, int | None]:
    return check(message, prefix="smartcity", default_encoding="protobuf", received_ms=T)


def test_addresses() -> None:
    assert parse_address("smartcity", "smartcity/bus/B7") == ("bus", "B7", None)
    for bad, why in [("city/bus/B7", "not under"), ("smartcity/bus", "is not smartcity/"),
                     ("smartcity/bus/B7/x", "is not smartcity/"), ("smartcity/tram/T1", "no known domain"),
                     ("smartcity/bus/", "is not smartcity/")]:
        assert why in (parse_address("smartcity", bad)[2] or ""), bad


def test_a_good_message_keeps_its_bytes_and_number_in_either_encoding() -> None:
    value = BUS.encode(bus(42))
    envelope, seq = run(Incoming("smartcity/bus/B7", value))
    assert (envelope.reason, seq, envelope.value, envelope.encoding, envelope.device) == (None, 42, value, "protobuf",
                                                                                          "B7")
    text = BUS.encode(bus(43), "json")
    envelope, seq = run(Incoming("smartcity/bus/B7", text))  # no content type: JSON by its first byte
    assert (envelope.reason, seq, envelope.encoding) == (None, 43, "json")
    assert run(Incoming("smartcity/bus/B7", text, "application/json"))[1] == 43
    assert run(Incoming("smartcity/bus/B7", BUS.encode(bus(None))))[1] is None  # unnumbered: fine
    assert wire_encoding(None, b"  {", "protobuf") == "json" and wire_encoding(None, b"\x0a", "json") == "json"


@pytest.mark.parametrize(("message", "reason"), [
    (Incoming("smartcity/bus/B7", b"\xff\xff\xff"), "invalid Protobuf"),
    (Incoming("smartcity/bus/B7", b'{"bus_id": "B7", "passengers": "many"}'), "passengers"),
    (Incoming("smartcity/bus/B7", BUS.encode(bus(1, "B8"))), "'B8' is not the address's device 'B7'"),
    (Incoming("smartcity/air/B7", BUS.encode(bus(1), "json")), "sensor_id '' is not"),  # a bus on an air address
    (Incoming("smartcity/bus/B7", BUS.encode(bus(1)), "text/csv"), "unsupported content-type"),
    (Incoming("smartcity/tram/B7", BUS.encode(bus(1))), "no known domain"),
    (Incoming("smartcity/bus/B7", b"\x0a" * (MAX_VALUE_BYTES + 1)), "more than"),
])
def test_bad_messages_become_dead_letters_with_the_reason(message: Incoming, reason: str) -> None:
    envelope, seq = run(message)
    assert envelope.dead and reason in (envelope.reason or "") and seq is None
    assert envelope.value == message.value  # kept as sent, for the dead-letter topic


def test_a_non_positive_number_is_refused() -> None:
    reading = AirQualityReading(sensor_id="S1", event_time_ms=T, device_seq=0)
    envelope, _ = run(Incoming("smartcity/air/S1", AIR.encode(reading)))
    assert "device_seq 0" in (envelope.reason or "")


def test_envelopes_survive_the_spool_byte_for_byte() -> None:
    for envelope in [Envelope("bus", "B7", "smartcity/bus/B7", b"\x00\x01", "protobuf", T),
                     Envelope(None, "x" * 5000, "weird/\u00e9", b"", "json", T, "no known domain")]:
        back = Envelope.unpack(envelope.pack())
        assert back.value == envelope.value and back.reason == envelope.reason and back.domain == envelope.domain
        assert back.device == envelope.device[:1024] and back.source == envelope.source


def test_replays_are_dropped_and_late_messages_are_not() -> None:
    marks = SeqMarks()
    taken = [marks.take("B7", s) for s in [1, 2, 3, 6, 6, 4, 3, 5, 7, 5]]
    assert taken == [True, True, True, True, False, True, False, True, True, False]
    assert marks.to_json() == {"B7": [7, []]}


def test_the_first_number_seen_leaves_room_below_it_but_not_forever() -> None:
    marks = SeqMarks(window=100)
    assert marks.take("S1", 500) and marks.take("S1", 450) and not marks.take("S1", 450)
    assert not marks.take("S1", 399)  # further below the first than the window: taken as seen
    assert marks.take("S1", 700) and not marks.take("S1", 560)  # holes more than a window behind are given up
    assert marks.take("S1", 650)


def test_marks_round_trip_through_json_and_keep_at_most_max_holes() -> None:
    marks = SeqMarks()
    for s in range(1, 400, 3):  # every third number: a hole after each
        marks.take("B1", s)
    state = json.loads(json.dumps(marks.to_json()))
    back = SeqMarks.from_json(state)
    assert len(back.devices["B1"].holes) <= 64
    assert [back.take("B1", s) for s in (397, 398, 399, 400)] == [False, True, True, True]
    assert SeqMarks.from_json({"B2": 9}).devices["B2"].highest == 9
    assert marks.keep(["B1", "B1", "B9"], [None, 397, 1]) == ([True, False, True], {"B1", "B9"})
