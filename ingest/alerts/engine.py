"""The alerting engine (pure, no Kafka): decoded readings in, alert and window records out.

State is held per input partition, because every input topic is keyed by device: a partition's
buses, sensors or stations and their windows depend on that partition alone, so the state of a
partition can move to another consumer with it (:meth:`AlertEngine.dump_dirty` /
:meth:`AlertEngine.load_partition`). What spans partitions is derived: a stream's watermark. Fleet
figures span every partition, so they are merged downstream (:mod:`~smartcity.ingest.alerts.fleet`).

Rules by stream:

* **bus**: per-bus tumbling windows of passengers (readings with a route and a stop, as the
  ``bus_window_stats`` mart counts them), and crowding (passengers / capacity);
* **air**: per-sensor buckets (``air_bucket``, an hour) of PM2.5, PM10, NO2 and O3; when a bucket
  closes its means feed the PM NowCast (12 buckets), whose AQI is the air-quality value, and the
  NO2 and O3 rules;
* **station**: departure delay per station and route (``actual - scheduled`` of DEPARTURE events),
  and waiting passengers per station;
* silence of the devices of the streams in ``silence_streams``.

Around the engine: :mod:`~smartcity.ingest.alerts.partitions` (assignment, clocks and the changelog
form), :mod:`~smartcity.ingest.alerts.ruleset` (thresholds and alert records),
:mod:`~smartcity.ingest.alerts.closing` (closing windows, bus window records),
:mod:`~smartcity.ingest.alerts.engine_types` and :mod:`~smartcity.ingest.alerts.inputs` (usable rows).
"""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc

from smartcity.analysis.air.aqi import aqi
from smartcity.analysis.air.nowcast import WINDOW_HOURS, nowcast
from smartcity.ingest.alerts import records
from smartcity.ingest.alerts.closing import bus_window_outputs, close_windows
from smartcity.ingest.alerts.engine_types import (
    STREAMS,
    SUBJECT_TYPES,
    EngineStats,
    Output,
    PartitionState,
    StreamState,
)
from smartcity.ingest.alerts.partitions import StreamPartitions
from smartcity.ingest.alerts.rules import RuleState, Silence
from smartcity.ingest.alerts.ruleset import RuleSet
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.alerts.state import AIR_FIELDS, Agg, BusEntity, Entity, SensorEntity, StationEntity
from smartcity.ingest.alerts.windows import ClosedWindow

DEPARTURE = "DEPARTURE"
PASSENGER_COUNT = "PASSENGER_COUNT"
IDLE_CHECK_S = 1.0


class AlertEngine(StreamPartitions):
    """Windows and rules over the partitions one consumer owns."""

    def __init__(self, settings: AlertSettings) -> None:
        super().__init__(settings)
        self.stats = EngineStats()
        self.rules = RuleSet(settings, self.stats)
        self.watch_silence = {kind: kind in settings.silence_streams for kind in STREAMS}

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

    def _late(self, kind: str, key: str, t: int) -> None:
        self.stats.late[kind] += 1
        self.stats.last_late[kind] = f"{SUBJECT_TYPES[kind]} {key} at {records.utc(t)} UTC"

    def _bus(self, table: pa.Table, partitions: list[int], now: float) -> list[Output]:
        out: list[Output] = []
        cols = [table.column(c) for c in ("bus_id", "route_id", "next_stop_id")]
        ids, routes, stops = (c.to_pylist() for c in cols)
        times = table.column("event_time_ms").to_numpy().tolist()
        pax = table.column("passengers").to_numpy().tolist()
        caps = table.column("capacity").to_numpy().tolist()
        rule = self.rules.crowding
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
                    out.append(self.rules.crowding_alert(bus, route, change))
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
                change = state.update(self.rules.delay_rule, t, (act - sched) / 1000)
                if change is not None:
                    out.append(self.rules.delay_alert(station, route, change))
                if state.idle:
                    del ent.delay[route]
            change = ent.waiting.update(self.rules.waiting_rule, t, wait)
            if change is not None:
                out.append(self.rules.waiting_alert(station, change))
            # every stop reports visits, but only stations report all the time (their passenger counts): a
            # station is watched for silence from its first count on, a stop that only sees buses never is
            if watch and (ent.silence is not None or kind == PASSENGER_COUNT):
                out += self._silence_reading("station", ent, station, t, "")
            part.dirty.add(station)
        self._observe("station", maxima, now)
        return out

    def _silence_reading(self, kind: str, ent: Entity, key: str, t: int, route: str) -> list[Output]:
        if ent.silence is None:
            ent.silence = Silence(t)
            return []
        return [self.rules.silence_alert(kind, key, c, route) for c in ent.silence.reading(t, self.rules.silence_ms)]

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
        closed = close_windows(stream, now, self.stats)
        if not closed:
            return []
        if stream.kind == "bus":
            return bus_window_outputs(closed, self.stats)
        return self._air_buckets(closed)

    def _air_buckets(self, closed: list[tuple[PartitionState, ClosedWindow[Agg]]]) -> list[Output]:
        out: list[Output] = []
        rules = self.rules
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
                change = ent.pm.update(rules.aqi_rule, w.start, max(values))
                if change is not None:
                    out.append(rules.air_alert("aqi", w.key, change, window))
            for name, state, rule, value in (("no2", ent.no2, rules.no2_rule, no2), ("o3", ent.o3, rules.o3_rule, o3)):
                if value is not None:
                    change = state.update(rule, w.start, value)
                    if change is not None:
                        out.append(rules.air_alert(name, w.key, change, window))
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
                    change = ent.silence.check(clock, self.rules.silence_ms)
                    if change is not None:
                        part.dirty.add(key)
                        out.append(self.rules.silence_alert(stream.kind, key, change, ""))
        return out
