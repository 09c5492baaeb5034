"""The alerting engine (pure, no Kafka): decoded readings in, alert and window records out.

State is held per input partition, because every input topic is keyed by device: a partition's
buses, sensors or stations and their windows depend on that partition alone, so the state of a
partition can move to another consumer with it (:meth:`AlertEngine.dump_dirty` /
:meth:`AlertEngine.load_partition`). What spans partitions is derived: a stream's watermark, and the
fleet mean of the bus windows that close together.

Rules by stream:

* **bus**: per-bus tumbling windows of passengers (readings with a route and a stop, as the
  ``bus_window_stats`` mart counts them), and crowding (passengers / capacity);
* **air**: per-sensor buckets (``air_bucket``, an hour) of PM2.5, PM10, NO2 and O3; when a bucket
  closes its means feed the PM NowCast (12 buckets), whose AQI is the air-quality value, and the
  NO2 and O3 rules;
* **station**: departure delay per station and route (``actual - scheduled`` of DEPARTURE events),
  and waiting passengers per station;
* silence of the devices of the streams in ``silence_streams``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from smartcity.analysis.air.aqi import aqi
from smartcity.analysis.air.nowcast import WINDOW_HOURS, nowcast
from smartcity.ingest.alerts import records
from smartcity.ingest.alerts.rules import Change, Hysteresis, RuleState, Silence
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.alerts.state import (
    AIR_FIELDS,
    AirAgg,
    BusAgg,
    BusEntity,
    Entity,
    SensorEntity,
    StationEntity,
    dump_entity,
    dumps,
    load_entity,
)
from smartcity.ingest.alerts.windows import ClosedWindow, KeyedWindows, StreamClock
from smartcity.ingest.decode.validate import EPOCH_2000_MS, MAX_FUTURE_MS
from smartcity.proto import Alert, AlertKind, BusWindowStats

log = logging.getLogger("smartcity.alerts")

STREAMS = ("bus", "air", "station")
SUBJECT_TYPES = {"bus": "bus", "air": "sensor", "station": "station"}
DEPARTURE = "DEPARTURE"
IDLE_CHECK_S = 1.0


@dataclass(frozen=True, slots=True)
class Output:
    """A record for an output topic: ``topic_kind`` is ``alerts`` or ``bus_windows``."""

    topic_kind: str
    key: str
    message: Alert | BusWindowStats


@dataclass
class EngineStats:
    readings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    late: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    windows: int = 0
    idle_closes: int = 0
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, state) -> count
    last_late: str = ""


KEYS = {"bus": "bus_id", "air": "sensor_id", "station": "station_id"}
COUNTS = {"bus": ("passengers", "capacity"), "air": (), "station": ("waiting_passengers",)}


def sane_rows(kind: str, table: pa.Table, now_ms: int) -> pa.Array:
    """Rows the engine can use: a device id, an event time between 2000 and a day from now (one wild
    clock must not drag a watermark), and no negative counts. The sink dead-letters the rest."""
    t = table.column("event_time_ms")
    mask = pc.and_(pc.greater_equal(t, EPOCH_2000_MS), pc.less_equal(t, now_ms + MAX_FUTURE_MS))
    mask = pc.and_(mask, pc.greater(pc.utf8_length(table.column(KEYS[kind])), 0))
    for name in COUNTS[kind]:
        mask = pc.and_(mask, pc.greater_equal(table.column(name), 0))
    return pc.fill_null(mask, False)


@dataclass
class PartitionState:
    """Everything one input partition contributes: its devices and their open windows."""

    kind: str
    partition: int
    windows: KeyedWindows | None
    entities: dict[str, Entity] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    meta_dirty: bool = True


@dataclass
class StreamState:
    kind: str
    clock: StreamClock
    parts: dict[int, PartitionState] = field(default_factory=dict)
    checked_clock: int | None = None
    checked_at: float = -math.inf


class AlertEngine:
    """Windows and rules over the partitions one consumer owns."""

    def __init__(self, settings: AlertSettings) -> None:
        s = self.settings = settings
        self.stats = EngineStats()
        self.crowding = Hysteresis(s.crowding_ratio, s.crowding_close, s.crowding_readings,
                                   s.crowding_calm_readings, inclusive=False, critical_at=s.crowding_critical_ratio)
        self.aqi_rule = Hysteresis(s.aqi_level, s.aqi_close, 1, s.air_calm_buckets, inclusive=True,
                                   critical_at=s.aqi_critical_level)
        self.no2_rule = Hysteresis(s.no2_ppb, s.no2_ppb * s.air_close_ratio, 1, s.air_calm_buckets, inclusive=True,
                                   critical_at=s.no2_ppb * 650 / 361)
        self.o3_rule = Hysteresis(s.o3_ppb, s.o3_ppb * s.air_close_ratio, 1, s.air_calm_buckets, inclusive=True,
                                  critical_at=s.o3_ppb * 205 / 165)
        self.delay_rule = Hysteresis(s.delay_s, s.delay_close, 1, s.delay_calm_departures, inclusive=False,
                                     critical_at=2 * s.delay_s)
        self.waiting_rule = Hysteresis(s.waiting_passengers, s.waiting_close, 1, s.waiting_calm_events,
                                       inclusive=False, critical_at=2 * s.waiting_passengers)
        self.silence_ms = s.silence_after_ms
        self.watch_silence = {kind: kind in s.silence_streams for kind in STREAMS}
        self.streams: dict[str, StreamState] = {
            kind: StreamState(kind, StreamClock(s.idle_timeout)) for kind in STREAMS
        }

    # -- partitions ---------------------------------------------------------------------------------

    def _new_windows(self, kind: str) -> KeyedWindows | None:
        s = self.settings
        if kind == "bus":
            return KeyedWindows(s.window_ms, s.grace_ms, BusAgg)
        if kind == "air":
            return KeyedWindows(s.air_bucket_ms, s.grace_ms, AirAgg)
        return None

    def assign(self, kind: str, partition: int, now: float) -> PartitionState:
        """Start tracking a partition with empty state (``load_partition`` restores one)."""
        stream = self.streams[kind]
        part = stream.parts[partition] = PartitionState(kind, partition, self._new_windows(kind))
        stream.clock.assign(partition, None, now)
        return part

    def revoke(self, kind: str, partition: int) -> None:
        stream = self.streams[kind]
        stream.parts.pop(partition, None)
        stream.clock.revoke(partition)

    def assigned(self) -> list[tuple[str, int]]:
        return [(kind, p) for kind, stream in self.streams.items() for p in sorted(stream.parts)]

    def _part(self, kind: str, partition: int, now: float) -> PartitionState:
        part = self.streams[kind].parts.get(partition)
        return part if part is not None else self.assign(kind, partition, now)

    # -- readings -------------------------------------------------------------------------------------

    def process(self, kind: str, table: pa.Table, partitions: list[int], now: float) -> list[Output]:
        """Take decoded messages of one stream (their partitions alongside), in consumed order."""
        if table.num_rows == 0:
            return []
        self.stats.readings[kind] += table.num_rows
        if kind == "bus":
            return self._bus(table, partitions, now)
        if kind == "air":
            return self._air(table, partitions, now)
        return self._station(table, partitions, now)

    def _observe(self, kind: str, maxima: dict[int, int], now: float) -> None:
        clock = self.streams[kind].clock
        for p, t in maxima.items():
            if clock.observe(p, t, now):
                self.streams[kind].parts[p].meta_dirty = True

    def _late(self, kind: str, key: str, t: int) -> None:
        self.stats.late[kind] += 1
        self.stats.last_late = f"{SUBJECT_TYPES[kind]} {key} at {records.utc(t)} UTC"

    def _bus(self, table: pa.Table, partitions: list[int], now: float) -> list[Output]:
        out: list[Output] = []
        cols = [table.column(c) for c in ("bus_id", "route_id", "next_stop_id")]
        ids, routes, stops = (c.to_pylist() for c in cols)
        times = table.column("event_time_ms").to_numpy().tolist()
        pax = table.column("passengers").to_numpy().tolist()
        caps = table.column("capacity").to_numpy().tolist()
        rule = self.crowding
        watch = self.watch_silence["bus"]
        maxima: dict[int, int] = {}
        part: PartitionState | None = None
        last_p = -1
        for p, bus, route, stop, t, n, cap in zip(partitions, ids, routes, stops, times, pax, caps, strict=True):
            if p != last_p:
                part, last_p = self._part("bus", p, now), p
            assert part is not None and part.windows is not None
            ent = part.entities.get(bus)
            if ent is None:
                ent = part.entities[bus] = BusEntity()
            if t > maxima.get(p, -1):
                maxima[p] = t
            if route and stop:
                agg = part.windows.slot(bus, t)
                if agg is None:
                    self._late("bus", bus, t)
                else:
                    agg.add(t, n, route, cap)
            if cap > 0:
                change = ent.crowd.update(rule, t, n / cap)  # type: ignore[union-attr]
                if change is not None:
                    out.append(self._crowding_alert(bus, route, change))
            if watch:
                out += self._silence_reading("bus", ent, bus, t, route)
            part.dirty.add(bus)
        self._observe("bus", maxima, now)
        return out

    def _air(self, table: pa.Table, partitions: list[int], now: float) -> list[Output]:
        out: list[Output] = []
        ids = table.column("sensor_id").to_pylist()
        times = table.column("event_time_ms").to_numpy().tolist()
        values = [pc.fill_null(table.column(c), math.nan).to_numpy().tolist() for c in AIR_FIELDS]
        watch = self.watch_silence["air"]
        maxima: dict[int, int] = {}
        for p, sensor, t, v in zip(partitions, ids, times, zip(*values, strict=True), strict=True):
            part = self._part("air", p, now)
            assert part.windows is not None
            ent = part.entities.get(sensor)
            if ent is None:
                ent = part.entities[sensor] = SensorEntity()
            if t > maxima.get(p, -1):
                maxima[p] = t
            agg = part.windows.slot(sensor, t)
            if agg is None:
                self._late("air", sensor, t)
            else:
                agg.add(v)
            if watch:
                out += self._silence_reading("air", ent, sensor, t, "")
            part.dirty.add(sensor)
        self._observe("air", maxima, now)
        return out

    def _station(self, table: pa.Table, partitions: list[int], now: float) -> list[Output]:
        out: list[Output] = []
        ids = table.column("station_id").to_pylist()
        kinds = table.column("kind").to_pylist()
        routes = table.column("route_id").to_pylist()
        times = table.column("event_time_ms").to_numpy().tolist()
        scheduled = table.column("scheduled_time_ms").to_numpy().tolist()
        actual = table.column("actual_time_ms").to_numpy().tolist()
        waiting = table.column("waiting_passengers").to_numpy().tolist()
        watch = self.watch_silence["station"]
        maxima: dict[int, int] = {}
        for p, station, kind, route, t, sched, act, wait in zip(partitions, ids, kinds, routes, times, scheduled,
                                                               actual, waiting, strict=True):
            part = self._part("station", p, now)
            ent = part.entities.get(station)
            if ent is None:
                ent = part.entities[station] = StationEntity()
            assert isinstance(ent, StationEntity)
            if t > maxima.get(p, -1):
                maxima[p] = t
            if kind == DEPARTURE and sched > 0 and act > 0 and route:
                state = ent.delay.get(route)
                if state is None:
                    state = ent.delay[route] = RuleState()
                change = state.update(self.delay_rule, t, (act - sched) / 1000)
                if change is not None:
                    out.append(self._delay_alert(station, route, change))
                if state.idle:
                    del ent.delay[route]
            change = ent.waiting.update(self.waiting_rule, t, wait)
            if change is not None:
                out.append(self._waiting_alert(station, change))
            if watch:
                out += self._silence_reading("station", ent, station, t, "")
            part.dirty.add(station)
        self._observe("station", maxima, now)
        return out

    def _silence_reading(self, kind: str, ent: Entity, key: str, t: int, route: str) -> list[Output]:
        if ent.silence is None:
            ent.silence = Silence(t)
            return []
        return [self._silence_alert(kind, key, c, route) for c in ent.silence.reading(t, self.silence_ms)]

    # -- time -----------------------------------------------------------------------------------------

    def advance(self, now: float) -> list[Output]:
        """Close the windows the watermarks passed (or all of an idle stream's) and check for silence."""
        out: list[Output] = []
        for kind, stream in self.streams.items():
            if not stream.parts:
                continue
            if kind != "station":
                out += self._close_windows(stream, now)
            if self.watch_silence[kind]:
                out += self._check_silence(stream, now)
        return out

    def _close_windows(self, stream: StreamState, now: float) -> list[Output]:
        closed: list[tuple[PartitionState, ClosedWindow]] = []
        parts = list(stream.parts.values())
        if stream.kind == "bus" and stream.clock.idle(now) and any(p.windows and p.windows.by_start for p in parts):
            for part in parts:
                assert part.windows is not None
                closed += [(part, w) for w in part.windows.close_all()]
            through = max(part.windows.closed_through for part in parts)  # type: ignore[union-attr]
            for part in parts:
                part.windows.closed_through = through  # type: ignore[union-attr]
                part.meta_dirty = True
            self.stats.idle_closes += 1
            log.info("bus stream idle for %.0f s: closed %d open windows", stream.clock.idle_for(now), len(closed))
        else:
            watermark = stream.clock.watermark(now)
            if watermark is None:
                return []
            for part in parts:
                assert part.windows is not None
                done = part.windows.close_until(watermark)
                if done:
                    closed += [(part, w) for w in done]
                    part.meta_dirty = True
        if not closed:
            return []
        for part, w in closed:
            part.dirty.add(w.key)
        if stream.kind == "bus":
            return self._bus_windows(closed)
        return self._air_buckets(closed)

    def _bus_windows(self, closed: list[tuple[PartitionState, ClosedWindow]]) -> list[Output]:
        fleet: dict[int, list[int]] = {}
        for _, w in closed:
            agg = w.agg
            f = fleet.setdefault(w.start, [0, 0, 0])
            f[0] += 1
            f[1] += agg.total
            f[2] += agg.count
        out = []
        for _, w in sorted(closed, key=lambda pw: (pw[1].start, pw[1].key)):
            agg = w.agg
            buses, total, count = fleet[w.start]
            message = BusWindowStats(
                bus_id=w.key, route_id=agg.route, window_start_ms=w.start, window_end_ms=w.end,
                event_time_ms=w.end, readings=agg.count, passengers_min=agg.low, passengers_max=agg.high,
                passengers_mean=agg.total / agg.count, capacity=agg.capacity, fleet_buses=buses,
                fleet_passengers_mean=total / count, closed_on_idle=w.on_idle)
            out.append(Output("bus_windows", w.key, message))
        self.stats.windows += len(out)
        return out

    def _air_buckets(self, closed: list[tuple[PartitionState, ClosedWindow]]) -> list[Output]:
        out: list[Output] = []
        size = self.settings.air_bucket_ms
        for part, w in sorted(closed, key=lambda pw: (pw[1].start, pw[1].key)):
            ent = part.entities.get(w.key)
            if ent is None:
                ent = part.entities[w.key] = SensorEntity()
            assert isinstance(ent, SensorEntity)
            pm25, pm10, no2, o3 = w.agg.means()
            index = w.start // size
            ent.hours[index] = (pm25, pm10)
            for old in [h for h in ent.hours if h <= index - WINDOW_HOURS]:
                del ent.hours[old]
            recent = [ent.hours.get(index - k, (None, None)) for k in range(WINDOW_HOURS)]
            values = [a for a in (aqi("pm25", nowcast([r[0] for r in recent])),
                                  aqi("pm10", nowcast([r[1] for r in recent]))) if a is not None]
            window = (w.start, w.end)
            if values:
                change = ent.pm.update(self.aqi_rule, w.start, max(values))
                if change is not None:
                    out.append(self._air_alert("aqi", w.key, change, window))
            for name, state, rule, value in (("no2", ent.no2, self.no2_rule, no2), ("o3", ent.o3, self.o3_rule, o3)):
                if value is not None:
                    change = state.update(rule, w.start, value)
                    if change is not None:
                        out.append(self._air_alert(name, w.key, change, window))
        return out

    def _check_silence(self, stream: StreamState, now: float) -> list[Output]:
        clock = stream.clock.event_clock(now)
        if clock is None or clock == stream.checked_clock:
            return []
        if stream.clock.idle(now) and now - stream.checked_at < IDLE_CHECK_S:
            return []  # an idle stream's clock moves with the wall clock: a check a second is plenty
        stream.checked_clock, stream.checked_at = clock, now
        out = []
        for part in stream.parts.values():
            for key, ent in part.entities.items():
                if ent.silence is not None:
                    change = ent.silence.check(clock, self.silence_ms)
                    if change is not None:
                        part.dirty.add(key)
                        out.append(self._silence_alert(stream.kind, key, change, ""))
        return out

    # -- alert records --------------------------------------------------------------------------------

    def _emit(self, subject: str, record: Alert, transition: str) -> Output:
        key = (AlertKind.Name(record.kind), transition)
        self.stats.alerts[key] = self.stats.alerts.get(key, 0) + 1
        return Output("alerts", subject, record)

    def _crowding_alert(self, bus: str, route: str, c: Change) -> Output:
        rule = self.crowding
        return self._emit(bus, records.alert("crowding", AlertKind.CROWDING, "bus", bus, c, rule.open_at, "ratio",
                                             records.crowding_text(bus, route, c, rule), route=route), c.transition)

    def _air_alert(self, name: str, sensor: str, c: Change, window: tuple[int, int]) -> Output:
        rule = {"aqi": self.aqi_rule, "no2": self.no2_rule, "o3": self.o3_rule}[name]
        record = records.alert("air_pm" if name == "aqi" else f"air_{name}", AlertKind.AIR_QUALITY, "sensor", sensor,
                               c, rule.open_at, records.AIR_LABELS[name][1], records.air_text(name, sensor, c, rule),
                               window=window, event_time_ms=window[1])
        return self._emit(sensor, record, c.transition)

    def _delay_alert(self, station: str, route: str, c: Change) -> Output:
        rule = self.delay_rule
        record = records.alert("delay", AlertKind.SERVICE_DELAY, "station", station, c, rule.open_at, "s",
                               records.delay_text(station, route, c, rule), route=route,
                               id_subject=f"{station}:{route}")
        return self._emit(station, record, c.transition)

    def _waiting_alert(self, station: str, c: Change) -> Output:
        rule = self.waiting_rule
        record = records.alert("waiting", AlertKind.STATION_CROWDING, "station", station, c, rule.open_at,
                               "passengers", records.waiting_text(station, c, rule))
        return self._emit(station, record, c.transition)

    def _silence_alert(self, kind: str, key: str, c: Change, route: str) -> Output:
        subject_type = SUBJECT_TYPES[kind]
        record = records.alert("silence", AlertKind.SILENCE, subject_type, key, c, self.silence_ms / 1000, "s",
                               records.silence_text(subject_type, key, c, self.silence_ms), route=route)
        return self._emit(key, record, c.transition)

    # -- state for the changelog ----------------------------------------------------------------------

    def dump_dirty(self) -> list[tuple[str, int, str, bytes | None]]:
        """``(kind, partition, entity, json)`` of every entity changed since the last call (``None``: delete
        it; entity ``""`` is the partition's clock), forgetting entities with nothing left to keep."""
        out: list[tuple[str, int, str, bytes | None]] = []
        for kind, stream in self.streams.items():
            for p, part in stream.parts.items():
                if part.meta_dirty:
                    clock = stream.clock.partitions.get(p)
                    meta = {"wm": clock.watermark if clock else None,
                            "ct": part.windows.closed_through if part.windows else None}
                    out.append((kind, p, "", dumps(meta)))
                    part.meta_dirty = False
                for key in part.dirty:
                    ent = part.entities.get(key)
                    data = dump_entity(part.windows, key, ent) if ent is not None else None
                    if data is None:
                        part.entities.pop(key, None)
                        if part.windows is not None:
                            part.windows.drop(key)
                    out.append((kind, p, key, None if data is None else dumps(data)))
                part.dirty.clear()
        return out

    def load_partition(self, kind: str, partition: int, stored: dict[str, bytes], now: float) -> None:
        """Rebuild a partition from its changelog values (device -> JSON, ``""`` the partition's clock)."""
        part = self.assign(kind, partition, now)
        part.meta_dirty = False
        meta = json.loads(stored.get("", b"{}"))
        if meta.get("wm") is not None:
            self.streams[kind].clock.assign(partition, int(meta["wm"]), now)
        if part.windows is not None and meta.get("ct") is not None:
            part.windows.closed_through = int(meta["ct"])
        for key, text in stored.items():
            if key:
                part.entities[key] = load_entity(kind, text, part.windows, key)

    def open_windows(self) -> int:
        return sum(part.windows.open_windows for s in self.streams.values() for part in s.parts.values()
                   if part.windows is not None)

    def watermarks(self, now: float) -> dict[str, int | None]:
        return {kind: s.clock.watermark(now) for kind, s in self.streams.items() if s.parts}

