"""The batch decoders agree with the reference Protobuf parser and JSON codec, message by message."""

from __future__ import annotations

import math

import numpy as np
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError as PbDecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.ingest.decode.rows import BatchDecoder, message_row
from smartcity.ingest.decode.validate import validate
from smartcity.ingest.decode.wire import WireDecoder
from smartcity.proto import BusTelemetry
from smartcity.proto.codec import BUS, codec_for
from smartcity.storage.datasets import DATASETS

TYPES = [d.message_type for d in DATASETS.values()]

_INT32 = st.integers(-(2**31), 2**31 - 1)
_INT64 = st.integers(-(2**63), 2**63 - 1)
_DOUBLE = st.floats(allow_nan=False, allow_infinity=False)
_FLOAT = st.floats(allow_nan=False, allow_infinity=False, width=32)


def _value(field: FieldDescriptor) -> st.SearchStrategy[object]:
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=12)
    if t == FieldDescriptor.TYPE_INT32:
        return _INT32
    if t == FieldDescriptor.TYPE_INT64:
        return _INT64
    if t == FieldDescriptor.TYPE_DOUBLE:
        return _DOUBLE
    if t == FieldDescriptor.TYPE_FLOAT:
        return _FLOAT
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return st.integers(0, 2**32 - 1)
    if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return st.integers(0, 2**64 - 1)
    if t == FieldDescriptor.TYPE_ENUM:
        return st.integers(0, max(v.number for v in field.enum_type.values) + 2)  # unknown numbers too
    raise AssertionError(f"no strategy for {field.full_name}")


@st.composite
def messages(draw: st.DrawFn, cls: type) -> object:
    msg = cls()
    for field in cls.DESCRIPTOR.fields:
        if draw(st.booleans()):
            setattr(msg, field.name, draw(_value(field)))
    return msg


@st.composite
def wire_bytes(draw: st.DrawFn, cls: type) -> bytes:
    """A serialised message, sometimes with a field repeated (last wins) or unknown fields appended."""
    data = draw(messages(cls)).SerializeToString()
    if draw(st.booleans()):
        data += draw(messages(cls)).SerializeToString()  # concatenation = merge: later fields win
    if draw(st.booleans()):
        data += b"\xf8\x07" + bytes([draw(st.integers(0, 127))])  # unknown varint field 127
    return data


def _reference_rows(cls: type, values: list[bytes]) -> list[dict[str, object] | None]:
    rows = []
    for v in values:
        try:
            rows.append(message_row(cls.FromString(v)))
        except PbDecodeError:
            rows.append(None)
    return rows


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_batch_decoding_equals_the_reference_parser(cls: type, data: st.DataObject) -> None:
    """The vectorised path, and the per-message fallback for what it leaves to the reference parser."""
    values = data.draw(st.lists(wire_bytes(cls), min_size=1, max_size=25))
    dataset = next(d for d in DATASETS.values() if d.message_type is cls)
    decoded = BatchDecoder(dataset).decode(values)
    assert not decoded.errors and decoded.index.tolist() == list(range(len(values)))
    rows = decoded.table.to_pylist()
    for row, ref in zip(rows, _reference_rows(cls, values), strict=True):
        for name, expected in ref.items():  # type: ignore[union-attr]
            assert _same(row[name], expected), (name, row[name], expected)


def test_edge_cases_the_reference_parser_rejects() -> None:
    cases = [
        b"\x80\x80\x80\x80\x10\x00",  # field number 2**29: beyond the largest legal field number
        b"\x0a\x02\xb1\x31\x0a\x00",  # bus_id twice, the first not UTF-8 (the last alone would be fine)
    ]
    decoded = BatchDecoder(DATASETS["bus_telemetry"]).decode(cases)
    assert sorted(decoded.errors) == [0, 1] and decoded.table.num_rows == 0


@settings(max_examples=60, deadline=None)
@given(junk=st.lists(st.binary(max_size=40), min_size=1, max_size=20))
def test_malformed_bytes_are_flagged_exactly_when_the_reference_parser_fails(junk: list[bytes]) -> None:
    decoded = WireDecoder(BusTelemetry.DESCRIPTOR).decode(junk)
    reference = _reference_rows(BusTelemetry, junk)
    rows = decoded.table.to_pylist()
    for bad, ref, row in zip(decoded.bad, reference, rows, strict=True):
        if ref is None:
            assert bad
        elif not bad:
            assert all(_same(row[k], v) for k, v in ref.items())


@pytest.mark.parametrize("name", sorted(DATASETS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_batch_decoder_json_equals_protobuf(name: str, data: st.DataObject) -> None:
    dataset = DATASETS[name]
    codec = codec_for(dataset.message_type)
    msgs = data.draw(st.lists(messages(dataset.message_type), min_size=1, max_size=20))
    pb = BatchDecoder(dataset).decode([codec.encode(m, "protobuf") for m in msgs])
    js = BatchDecoder(dataset).decode([codec.encode(m, "json") for m in msgs])
    assert not pb.errors and not js.errors
    assert pb.table.equals(js.table)


def test_headers_decide_the_encoding_named_in_errors() -> None:
    values = [b"[1, 2]", b"\x12\x03abc", BUS.encode(BusTelemetry(bus_id="B", event_time_ms=1))]
    headers = [BUS.headers("json"), BUS.headers("protobuf"), BUS.headers("protobuf")]
    decoded = BatchDecoder(DATASETS["bus_telemetry"]).decode(values, headers_of=lambda i: headers[i])
    assert decoded.index.tolist() == [1, 2]
    assert "expected an object" in decoded.errors[0]


def test_validation_names_each_impossible_value() -> None:
    now = 1_800_000_000_000
    ok = dict(bus_id="B", event_time_ms=now, capacity=70, latitude=47.0, longitude=8.0)
    cases = {
        "negative passengers": dict(passengers=-1),
        "coordinates off the planet": dict(longitude=190.0),
        "event_time_ms before 1970-01-01T00:00Z ([ingest] earliest_event_time)": dict(event_time_ms=-3_600_000),
        "more than 24 h in the future ([ingest] max_event_time_ahead_s)": dict(event_time_ms=now + 2 * 86_400_000),
        "missing required field bus_id": dict(bus_id=""),
        "speed_mps outside": dict(speed_mps=-3.0),
    }
    msgs = [BusTelemetry(**ok)] + [BusTelemetry(**{**ok, **extra}) for extra in cases.values()]
    table = BatchDecoder(DATASETS["bus_telemetry"]).decode([BUS.encode(m) for m in msgs]).table
    result = validate("bus_telemetry", table, now_ms=now)
    assert result.valid.tolist() == [True] + [False] * len(cases)
    for i, reason in enumerate(cases, start=1):
        assert reason in result.reasons[i]
    assert np.all(validate("bus_telemetry", table.slice(0, 1), now_ms=now).valid)
    archive = BatchDecoder(DATASETS["bus_telemetry"]).decode([BUS.encode(BusTelemetry(**{**ok, "event_time_ms": t}))
                                                              for t in (900_000_000_000, 473_385_600_000)]).table
    assert validate("bus_telemetry", archive, now_ms=now).valid.tolist() == [True, True]  # 1998 and 1985 land
    later = validate("bus_telemetry", archive, now_ms=now, earliest_ms=946_684_800_000, max_future_ms=0)
    assert later.reasons == {0: "event_time_ms before 2000-01-01T00:00Z ([ingest] earliest_event_time)",
                             1: "event_time_ms before 2000-01-01T00:00Z ([ingest] earliest_event_time)"}
