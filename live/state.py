"""The live picture, folded from decoded messages: pure (messages in, records and changes out, no I/O).

Every record is a plain JSON-ready dict, the same one the store keeps, the API returns and the page
draws. A record changes only for a newer event time, so a replay or a late message never moves a bus
back. Air quality is the EPA NowCast AQI of PM2.5 and PM10 (:mod:`smartcity.analysis.air.nowcast`)
over hourly means of the readings seen; the current, still open hour counts as the latest hour, as
AirNow's hourly NowCast does once the hour has data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smartcity.analysis.air.aqi import aqi_category
from smartcity.analysis.air.nowcast import WINDOW_HOURS, nowcast_aqi
from smartcity.ingest.alerts.fleet import FleetWindows
from smartcity.proto.codec import enum_names
from smartcity.proto.smartcity.v1.air_pb2 import AirQualityReading
from smartcity.proto.smartcity.v1.alert_pb2 import Alert
from smartcity.proto.smartcity.v1.bus_pb2 import BusTelemetry
from smartcity.proto.smartcity.v1.station_pb2 import StationEvent
from smartcity.proto.smartcity.v1.window_pb2 import BusWindowStats

Record = dict[str, Any]
HOUR_MS = 3_600_000
KINDS = ("vehicle", "sensor", "station", "alert", "fleet")
"""Record kinds; ``fleet`` has one record, ``current``."""

PRIVATE = ("hours", "windows")
"""Record fields the store keeps (to rebuild the NowCast and the fleet figures after a restart) but
readers don't need."""

_OCCUPANCY = enum_names(BusTelemetry.DESCRIPTOR.fields_by_name["occupancy_status"])
_STATUS = enum_names(BusTelemetry.DESCRIPTOR.fields_by_name["current_status"])
_STATION_KIND = enum_names(StationEvent.DESCRIPTOR.fields_by_name["kind"])
_ALERT_KIND = enum_names(Alert.DESCRIPTOR.fields_by_name["kind"])
_SEVERITY = enum_names(Alert.DESCRIPTOR.fields_by_name["severity"])
_ALERT_STATE = enum_names(Alert.DESCRIPTOR.fields_by_name["state"])
POLLUTANTS = ("pm25_ugm3", "pm10_ugm3", "no2_ppb", "o3_ppb", "so2_ppb", "co_ppm", "temperature_c", "humidity_pct")


@dataclass
class Changes:
    """What one batch changed: the newest record per key, and the alerts that closed."""

    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    produced_ms: int = 0
    """Newest Kafka timestamp among the messages behind these changes (for event-to-client latency)."""
    first_ms: int = 0
    """Oldest Kafka timestamp among them (it waited longest for the flush)."""

    def put(self, kind: str, key: str, record: Record) -> None:
        self.records[(kind, key)] = record

    def close(self, alert_id: str) -> None:
        self.records.pop(("alert", alert_id), None)
        self.closed.add(alert_id)

    def __bool__(self) -> bool:
        return bool(self.records or self.closed)

    def by_kind(self, kind: str) -> list[Record]:
        return [r for (k, _), r in self.records.items() if k == kind]

    def payload(self) -> Record:
        """The update sent to browsers: changed records by kind, closed alert ids."""
        out: Record = {f"{kind}s" if kind != "fleet" else kind: self.by_kind(kind) for kind in KINDS}
        out["closed"] = sorted(self.closed)
        out["first_ms"] = self.first_ms
        out["produced_ms"] = self.produced_ms
        return out


@dataclass
class LiveState:
    """The current picture: one record per vehicle, sensor and station, every open alert, fleet figures."""

    records: dict[str, dict[str, Record]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    @classmethod
    def from_records(cls, rows: Iterable[tuple[str, Record]]) -> LiveState:
        state = cls()
        for kind, record in rows:
            state.records[kind][record["id"]] = record
        return state

    def snapshot(self) -> Record:
        """Everything, in the shape of an update (what a new or lost browser starts from)."""
        changes = Changes()
        for kind, records in self.records.items():
            for key, record in records.items():
                changes.put(kind, key, record)
        return changes.payload()

    def _newer(self, kind: str, key: str, t: int) -> Record | None:
        """The current record when an event at ``t`` is not older than it, else None (skip the event)."""
        old = self.records[kind].get(key)
        if old is not None and old["t"] > t:
            return None
        return old if old is not None else {}

    def _set(self, changes: Changes, kind: str, record: Record) -> None:
        record = {k: v for k, v in record.items() if v is not None}  # absent, as the store keeps it
        self.records[kind][record["id"]] = record
        changes.put(kind, record["id"], record)

    def apply_bus(self, m: BusTelemetry, changes: Changes) -> None:
        old = self._newer("vehicle", m.bus_id, m.event_time_ms)
        if old is None:
            return
        has_position = m.HasField("latitude") and m.HasField("longitude")
        self._set(changes, "vehicle", {
            "id": m.bus_id, "route_id": m.route_id, "trip_id": m.trip_id, "t": m.event_time_ms,
            # a reading without a position keeps the last known one (never 0, 0)
            "lat": m.latitude if has_position else old.get("lat"),
            "lon": m.longitude if has_position else old.get("lon"),
            "bearing_deg": round(m.bearing_deg, 1), "speed_mps": round(m.speed_mps, 2),
            "passengers": m.passengers, "capacity": m.capacity,
            "occupancy": _OCCUPANCY.get(m.occupancy_status, "NO_DATA_AVAILABLE"),
            "occupancy_pct": m.occupancy_percentage,
            "status": _STATUS.get(m.current_status) if m.HasField("current_status") else None,
            "next_stop_id": m.next_stop_id, "delay_s": m.delay_s,
        })

    def apply_air(self, m: AirQualityReading, changes: Changes) -> None:
        old = self._newer("sensor", m.sensor_id, m.event_time_ms)
        if old is None:
            return
        hours = _add_to_hours(old.get("hours", []), m)
        record: Record = {"id": m.sensor_id, "t": m.event_time_ms, "lat": m.latitude, "lon": m.longitude,
                          "hours": hours}
        for name in POLLUTANTS:
            record[name] = getattr(m, name) if m.HasField(name) else old.get(name)
        record.update(_nowcast(hours))
        self._set(changes, "sensor", record)

    def apply_station(self, m: StationEvent, changes: Changes) -> None:
        old = self._newer("station", m.station_id, m.event_time_ms)
        if old is None:
            return
        kind = _STATION_KIND.get(m.kind, "STATION_EVENT_KIND_UNSPECIFIED")
        record = dict(old, id=m.station_id, t=m.event_time_ms, last_event=kind)
        if kind == "PASSENGER_COUNT":
            record["waiting_passengers"] = m.waiting_passengers
        else:
            record.update(last_bus_id=m.bus_id, last_route_id=m.route_id,
                          delay_s=round((m.actual_time_ms - m.scheduled_time_ms) / 1000) if m.scheduled_time_ms
                          else None)
        self._set(changes, "station", record)

    def apply_alert(self, m: Alert, changes: Changes) -> None:
        state = _ALERT_STATE.get(m.state, "")
        if state == "CLOSED":
            self.records["alert"].pop(m.alert_id, None)
            changes.close(m.alert_id)
            return
        old = self._newer("alert", m.alert_id, m.event_time_ms)
        if old is None:
            return
        changes.closed.discard(m.alert_id)
        self._set(changes, "alert", {
            "id": m.alert_id, "t": m.event_time_ms, "kind": _ALERT_KIND.get(m.kind, "ALERT_KIND_UNSPECIFIED"),
            "severity": _SEVERITY.get(m.severity, "SEVERITY_UNSPECIFIED"), "state": state,
            "subject_id": m.subject_id, "subject_type": m.subject_type, "route_id": m.route_id,
            "start_ms": m.start_time_ms, "observed": m.observed_value, "peak": m.peak_value,
            "threshold": m.threshold, "unit": m.unit, "message": m.message,
        })

    def apply_window(self, m: BusWindowStats, changes: Changes) -> None:
        """Merge one bus's window into the fleet figures of its window (a second stage keyed by window:
        the members of ``smartcity alerts`` each see some of the buses); the record shows the newest."""
        old = self.records["fleet"].get("current", {})
        windows = FleetWindows.load(old.get("windows", []))
        if windows.add(m) is None:
            return  # a window older than those kept
        latest = windows.latest()
        assert latest is not None
        self._set(changes, "fleet", {
            "id": "current", "t": latest.window_end_ms, "window_start_ms": latest.window_start_ms,
            "window_end_ms": latest.window_end_ms, "buses": latest.buses,
            "passengers_mean": round(latest.passengers_mean, 2), "windows": windows.dump(),
        })


def public(record: Record) -> Record:
    """A record without its :data:`PRIVATE` fields (the record itself when it has none)."""
    return {k: v for k, v in record.items() if k not in PRIVATE} if any(k in record for k in PRIVATE) else record


def _add_to_hours(hours: list[list[float]], m: AirQualityReading) -> list[list[float]]:
    """Hourly sums ``[hour_ms, pm25 sum, pm25 n, pm10 sum, pm10 n]`` of the last 12 hours, newest last."""
    hour = m.event_time_ms - m.event_time_ms % HOUR_MS
    kept = [list(h) for h in hours if hour - WINDOW_HOURS * HOUR_MS < h[0] <= hour]
    if not kept or kept[-1][0] != hour:
        kept.append([hour, 0.0, 0, 0.0, 0])
        kept.sort(key=lambda h: h[0])
    slot = next(h for h in kept if h[0] == hour)
    for i, name in ((1, "pm25_ugm3"), (3, "pm10_ugm3")):
        if m.HasField(name) and getattr(m, name) >= 0:
            slot[i] += getattr(m, name)
            slot[i + 1] += 1
    return kept


def _nowcast(hours: list[list[float]]) -> Record:
    """NowCast AQI of PM2.5 and PM10 over the hourly means (missing hours are None), the larger one
    with its category and colour (TAD Tables 1 and 2)."""
    if not hours:
        return {"aqi": None, "aqi_pollutant": None, "category": None, "colour": None}
    newest = int(hours[-1][0])
    by_hour = {int(h[0]): h for h in hours}
    out: Record = {}
    best: tuple[int, str] | None = None
    for i, name in ((1, "pm25"), (3, "pm10")):
        means = [(h[i] / h[i + 1]) if (h := by_hour.get(newest - k * HOUR_MS)) and h[i + 1] else None
                 for k in range(WINDOW_HOURS)]
        value = nowcast_aqi(means, name)  # type: ignore[arg-type]
        out[f"{name}_aqi"] = value
        if value is not None and (best is None or value > best[0]):
            best = (value, name)
    category = aqi_category(best[0]) if best else None
    out.update(aqi=best[0] if best else None, aqi_pollutant=best[1] if best else None,
               category=category.name if category else None, colour=category.hex if category else None)
    return out
