"""The alert rules configured by the settings, and each of their transitions as a counted ``alerts`` output."""

from __future__ import annotations

from smartcity.ingest.alerts import records
from smartcity.ingest.alerts.engine_types import SUBJECT_TYPES, EngineStats, Output
from smartcity.ingest.alerts.rules import Change, Hysteresis
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.proto import Alert, AlertKind


class RuleSet:
    """The thresholds of every rule (with hysteresis) and the ``Alert`` record of a rule's :class:`Change`."""

    def __init__(self, settings: AlertSettings, stats: EngineStats) -> None:
        s = settings
        self.stats = stats
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

    def _emit(self, subject: str, record: Alert, transition: str) -> Output:
        key = (AlertKind.Name(record.kind), transition)
        self.stats.alerts[key] = self.stats.alerts.get(key, 0) + 1
        return Output("alerts", subject, record)

    def crowding_alert(self, bus: str, route: str, c: Change) -> Output:
        rule = self.crowding
        return self._emit(bus, records.alert("crowding", AlertKind.CROWDING, "bus", bus, c, rule.open_at, "ratio",
                                             records.crowding_text(bus, route, c, rule), route=route), c.transition)

    def air_alert(self, name: str, sensor: str, c: Change, window: tuple[int, int]) -> Output:
        rule = {"aqi": self.aqi_rule, "no2": self.no2_rule, "o3": self.o3_rule}[name]
        record = records.alert("air_pm" if name == "aqi" else f"air_{name}", AlertKind.AIR_QUALITY, "sensor", sensor,
                               c, rule.open_at, records.AIR_LABELS[name][1], records.air_text(name, sensor, c, rule),
                               window=window, event_time_ms=window[1])
        return self._emit(sensor, record, c.transition)

    def delay_alert(self, station: str, route: str, c: Change) -> Output:
        rule = self.delay_rule
        record = records.alert("delay", AlertKind.SERVICE_DELAY, "station", station, c, rule.open_at, "s",
                               records.delay_text(station, route, c, rule), route=route,
                               id_subject=f"{station}:{route}")
        return self._emit(station, record, c.transition)

    def waiting_alert(self, station: str, c: Change) -> Output:
        rule = self.waiting_rule
        record = records.alert("waiting", AlertKind.STATION_CROWDING, "station", station, c, rule.open_at,
                               "passengers", records.waiting_text(station, c, rule))
        return self._emit(station, record, c.transition)

    def silence_alert(self, kind: str, key: str, c: Change, route: str) -> Output:
        subject_type = SUBJECT_TYPES[kind]
        record = records.alert("silence", AlertKind.SILENCE, subject_type, key, c, self.silence_ms / 1000, "s",
                               records.silence_text(subject_type, key, c, self.silence_ms), route=route)
        return self._emit(key, record, c.transition)
