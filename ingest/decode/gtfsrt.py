"""GTFS-Realtime ``FeedMessage``s with VehiclePositions as ``bus_telemetry`` rows.

Field mapping (GTFS-Realtime VehiclePosition -> bus_telemetry):

| bus_telemetry | GTFS-Realtime |
| --- | --- |
| bus_id | vehicle.vehicle.id, else vehicle.vehicle.label, else the entity id |
| bus_id_source | which of those it was: ``vehicle.id``, ``vehicle.label`` or ``entity.id`` |
| route_id, trip_id | vehicle.trip.route_id, vehicle.trip.trip_id |
| event_time_ms | vehicle.timestamp x 1000 (else the feed header's timestamp) |
| latitude, longitude | vehicle.position.* (no position: null, never 0, 0) |
| speed_mps, bearing_deg, odometer_m | vehicle.position.* (absent: 0) |
| next_stop_id, stop_sequence | vehicle.stop_id, vehicle.current_stop_sequence |
| current_status | vehicle.current_status (absent: IN_TRANSIT_TO) |
| occupancy_status | vehicle.occupancy_status (absent: NO_DATA_AVAILABLE) |
| occupancy_percentage | vehicle.occupancy_percentage (absent: -1) |
| passengers, capacity, seated_capacity, delay_s | not in VehiclePosition: 0 (capacity 0 means unknown) |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
from google.protobuf.message import DecodeError as PbDecodeError
from google.transit import gtfs_realtime_pb2

from smartcity.ingest.decode.rows import Decoded
from smartcity.proto.codec import Encoding, Headers
from smartcity.storage.datasets import BUS_TELEMETRY

_VP = gtfs_realtime_pb2.VehiclePosition


def vehicle_identity(v: gtfs_realtime_pb2.VehiclePosition, entity_id: str) -> tuple[str, str]:
    """The vehicle's id and where it came from: ``vehicle.id``, then ``vehicle.label``, then the entity id
    (which many feeds number per message, so it identifies a vehicle only within one FeedMessage)."""
    if v.vehicle.id:
        return v.vehicle.id, "vehicle.id"
    if v.vehicle.label:
        return v.vehicle.label, "vehicle.label"
    return entity_id, "entity.id"


def vehicle_rows(feed: gtfs_realtime_pb2.FeedMessage) -> list[dict[str, object]]:
    rows = []
    header_ts = feed.header.timestamp if feed.header.HasField("timestamp") else 0
    for entity in feed.entity:
        if not entity.HasField("vehicle") or entity.is_deleted:
            continue
        v = entity.vehicle
        pos = v.position
        located = v.HasField("position")
        ts = v.timestamp if v.HasField("timestamp") else header_ts
        bus_id, source = vehicle_identity(v, entity.id)
        rows.append({
            "bus_id": bus_id,
            "bus_id_source": source,
            "route_id": v.trip.route_id,
            "trip_id": v.trip.trip_id,
            "event_time_ms": int(ts) * 1000,
            "latitude": float(pos.latitude) if located else None,
            "longitude": float(pos.longitude) if located else None,
            "speed_mps": float(pos.speed),
            "bearing_deg": float(pos.bearing),
            "passengers": 0,
            "capacity": 0,
            "seated_capacity": 0,
            "next_stop_id": v.stop_id,
            "stop_sequence": int(v.current_stop_sequence),
            "current_status": _VP.VehicleStopStatus.Name(v.current_status) if v.HasField("current_status")
            else "IN_TRANSIT_TO",
            "occupancy_status": _VP.OccupancyStatus.Name(v.occupancy_status) if v.HasField("occupancy_status")
            else "NO_DATA_AVAILABLE",
            "occupancy_percentage": int(v.occupancy_percentage) if v.HasField("occupancy_percentage") else -1,
            "delay_s": 0,
            "odometer_m": float(pos.odometer),
        })
    return rows


class GtfsRtDecoder:
    """Decodes a batch of FeedMessages; one row per vehicle, ``index`` says which message it came from."""

    def decode(self, values: Sequence[bytes | None], encodings: Sequence[Encoding] | None = None,
               headers_of: Callable[[int], Headers] | None = None) -> Decoded:
        rows: list[dict[str, object]] = []
        index: list[int] = []
        errors: dict[int, str] = {}
        for i, value in enumerate(values):
            if value is None:
                errors[i] = "cannot decode transit_realtime.FeedMessage: empty message (null value)"
                continue
            feed = gtfs_realtime_pb2.FeedMessage()
            try:
                feed.ParseFromString(value)
            except PbDecodeError as exc:
                errors[i] = f"cannot decode transit_realtime.FeedMessage: {exc}"
                continue
            found = vehicle_rows(feed)
            rows += found
            index += [i] * len(found)
        table = pa.Table.from_pylist(rows, schema=BUS_TELEMETRY.message_schema)
        return Decoded(table, np.array(index, np.int64), errors)
