"""GTFS-Realtime without guesses: a VehiclePosition without a position keeps null coordinates, and a
vehicle's identity follows vehicle.id, then vehicle.label, then the entity id, recorded in bus_id_source."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2

from smartcity.ingest.decode.gtfsrt import GtfsRtDecoder
from tests.sim.real_feeds import real_feed


def _feed() -> gtfs_realtime_pb2.FeedMessage:
    feed = gtfs_realtime_pb2.FeedMessage()
    feed.header.gtfs_realtime_version = "2.0"
    feed.header.timestamp = 1_760_000_000
    with_id = feed.entity.add(id="1").vehicle
    with_id.vehicle.id, with_id.vehicle.label = "V-17", "Bus 17"
    with_id.position.latitude, with_id.position.longitude = 41.88, -87.63
    labelled = feed.entity.add(id="2").vehicle
    labelled.vehicle.label = "Bus 18"
    labelled.trip.trip_id = "T18"  # a trip but no position: some agency feeds never send one
    bare = feed.entity.add(id="3").vehicle
    bare.trip.trip_id = "T19"
    return feed


def test_no_position_is_null_and_identity_names_its_source() -> None:
    decoded = GtfsRtDecoder().decode([_feed().SerializeToString()])
    rows = decoded.table.to_pylist()
    assert [(r["bus_id"], r["bus_id_source"]) for r in rows] == [
        ("V-17", "vehicle.id"), ("Bus 18", "vehicle.label"), ("3", "entity.id")]
    # float32 on the wire
    assert rows[0]["latitude"] == pytest.approx(41.88) and rows[0]["longitude"] == pytest.approx(-87.63)
    assert [(r["latitude"], r["longitude"]) for r in rows[1:]] == [(None, None), (None, None)]
    assert not decoded.errors


def test_a_real_subway_capture_without_positions_lands_nothing_invented() -> None:
    capture = Path(__file__).parent.parent / "data" / "gtfsrt" / "nyct-subway-l-2019-09-16.pb"
    decoded = GtfsRtDecoder().decode([capture.read_bytes()])
    rows = decoded.table.to_pylist()
    assert len(rows) == 23 and not decoded.errors  # one row per VehiclePosition, TripUpdates are not positions
    assert all(r["latitude"] is None and r["longitude"] is None for r in rows)
    assert {r["bus_id_source"] for r in rows} == {"entity.id"}  # the feed names no vehicle
    assert all(r["trip_id"] and r["event_time_ms"] > 1_568_600_000_000 for r in rows)
    assert len({r["bus_id"] for r in rows}) == 23


def test_a_real_trip_updates_capture_gives_no_vehicle_rows() -> None:
    capture = real_feed("ovapi_trip_updates")
    decoded = GtfsRtDecoder().decode([capture.read_bytes()])
    assert decoded.table.num_rows == 0 and not decoded.errors
