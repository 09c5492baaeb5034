"""NDJSON and length-delimited Protobuf files round-trip."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.simulator import City, SimEvent, read_file, simulate, write_stream
from smartcity.simulator.files import encode_varint, read_delimited, read_varint
from smartcity.simulator.records import CODECS

from .conftest import PEAK_START


@pytest.fixture(scope="module")
def events(city: City) -> list[SimEvent]:
    return list(simulate(city, PEAK_START, timedelta(minutes=5), seed=2))


def test_varint_is_the_protobuf_base128_encoding() -> None:
    assert encode_varint(0) == b"\x00"
    assert encode_varint(1) == b"\x01"
    assert encode_varint(127) == b"\x7f"
    assert encode_varint(300) == b"\xac\x02"
    assert encode_varint(2**32) == b"\x80\x80\x80\x80\x10"


@pytest.mark.parametrize("fmt", ["ndjson", "protobuf"])
def test_files_round_trip(tmp_path: Path, events: list[SimEvent], fmt: str) -> None:
    written = write_stream(events, tmp_path, fmt)  # type: ignore[arg-type]
    assert set(written) == {"bus", "air", "station"}
    for domain, info in written.items():
        expected = [e.message for e in events if e.domain == domain]
        assert info.messages == len(expected)
        back = list(read_file(info.path))
        if fmt == "protobuf":
            assert back == expected
        else:
            codec = CODECS[domain]
            lines = info.path.read_bytes().splitlines()
            assert [codec.encode(m, "json") for m in back] == lines
            assert [codec.encode(m, "json") for m in expected] == lines
            assert [(m.event_time_ms, getattr(m, "passengers", 0)) for m in back] == \
                   [(m.event_time_ms, getattr(m, "passengers", 0)) for m in expected]


def test_truncated_delimited_file_is_an_error(tmp_path: Path, events: list[SimEvent]) -> None:
    path = write_stream(events[:50], tmp_path, "protobuf")["bus"].path
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        list(read_delimited(path, "bus"))


@given(st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=20))
def test_varints_read_back(values: list[int]) -> None:
    stream = io.BytesIO(b"".join(encode_varint(v) for v in values))
    assert [read_varint(stream) for _ in values] == values
    assert read_varint(stream) is None
