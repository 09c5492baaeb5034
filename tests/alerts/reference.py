"""Scenario data and an independent reference for the alerts tests.

The reference computes, straight from the simulated messages, what the alerting consumer must
publish: window statistics with Polars group-bys, the PM NowCast with ``smartcity.analysis.air.nowcast_frame``
(the vectorised implementation, not the scalar one the engine calls), and alert episodes by scanning
each subject's readings for runs, not with the engine's state machines.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

import polars as pl

from smartcity.analysis.air import aqi, nowcast_frame
from smartcity.ingest.alerts.engine import AlertEngine
from smartcity.ingest.alerts.engine_types import Output
from smartcity.ingest.alerts.fleet import fleet_by_window
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.proto import AlertState, BusWindowStats
from smartcity.proto.codec import AIR, BUS, STATION
from smartcity.simulator import (
    CrowdingEpisode,
    DelayEpisode,
    OutageEpisode,
    PollutionEpisode,
    SimConfig,
    SimEvent,
    default_city,
    simulate,
)
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY, STATION_EVENTS

SEED = 7
TRANSIT_START = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)  # 10:00 in Zurich: off-peak, no crowding of its own
TRANSIT_HOURS = 1.5
AIR_START = datetime(2025, 3, 11, 0, 0, tzinfo=UTC)
AIR_HOURS = 14
CROWDED_BUS, LATE_ROUTE, POLLUTED_SENSOR, SILENT_SENSOR = "B010", "R05", "AQ012", "AQ005"
EPISODES = (
    CrowdingEpisode(CROWDED_BUS, TRANSIT_START + timedelta(minutes=20), TRANSIT_START + timedelta(minutes=50)),
    DelayEpisode(LATE_ROUTE, TRANSIT_START + timedelta(minutes=20), TRANSIT_START + timedelta(minutes=50), 2.5),
    PollutionEpisode(POLLUTED_SENSOR, AIR_START + timedelta(hours=4), AIR_START + timedelta(hours=10), 9.0,
                     ("pm25", "pm10")),
    OutageEpisode(SILENT_SENSOR, AIR_START + timedelta(hours=6, minutes=10),
                  AIR_START + timedelta(hours=6, minutes=40)),
)
DATASETS = {"bus": BUS_TELEMETRY, "air": AIR_READINGS, "station": STATION_EVENTS}
CODECS = {"bus": BUS, "air": AIR, "station": STATION}


def scenario_settings(**overrides: object) -> AlertSettings:
    base: dict[str, object] = {"window": "5m", "grace": "10s", "idle_timeout": "2s"}
    base.update(overrides)
    return AlertSettings.model_validate(base)


@cache
def scenario() -> tuple[SimEvent, ...]:
    """Bus and station events 09:00-10:30 UTC with a crowded bus and a late route; air readings
    00:00-14:00 UTC with a pollution episode at one sensor and a 30-minute outage at another."""
    city = default_city()
    config = SimConfig(outage_rate_per_day=0.0, episodes=EPISODES)
    transit = simulate(city, TRANSIT_START, timedelta(hours=TRANSIT_HOURS), SEED, ("bus", "station"), config)
    air = simulate(city, AIR_START, timedelta(hours=AIR_HOURS), SEED, ("air",), config)
    return (*transit, *air)


def frames(events: Iterable[SimEvent]) -> dict[str, pl.DataFrame]:
    """Decoded rows per domain, in event order (the lake's columns)."""
    by_domain: dict[str, list[bytes]] = {"bus": [], "air": [], "station": []}
    for ev in events:
        by_domain[ev.domain].append(CODECS[ev.domain].encode(ev.message))
    out = {}
    for domain, values in by_domain.items():
        table = BatchDecoder(DATASETS[domain]).decode(values).table
        out[domain] = pl.from_arrow(table)  # type: ignore[assignment]
    return out


def run_engine(settings: AlertSettings, events: Iterable[SimEvent], chunk: int = 5000) -> list[Output]:
    """The engine over ``events`` without Kafka: one partition per stream, the wall clock frozen."""
    engine = AlertEngine(settings)
    out: list[Output] = []
    for domain, frame in frames(events).items():
        if domain not in settings.streams:
            continue
        table = frame.to_arrow()
        for start in range(0, table.num_rows, chunk):
            part = table.slice(start, chunk)
            out += engine.process(domain, part, [0] * part.num_rows, now=0.0)
            out += engine.advance(now=0.0)
    return out


# -- the reference --------------------------------------------------------------------------------------


Episode = tuple[str, str, int, int, float]  # (subject, transition, start, end, peak)


def episodes(subject: str, readings: list[tuple[int, float]], hot: Callable[[float], bool],
             calm: Callable[[float], bool], open_after: int, close_after: int) -> list[Episode]:
    """Alert episodes in one subject's readings: OPEN at the end of the first run of ``open_after`` hot
    readings, CLOSED at the end of the first later run of ``close_after`` calm ones."""
    out: list[Episode] = []
    i, n = 0, len(readings)
    while i < n:
        j = i
        while j < n and hot(readings[j][1]):
            j += 1
        if j - i < open_after:
            i = max(j, i + 1)
            continue
        start = readings[i][0]
        out.append((subject, "OPEN", start, 0, max(v for _, v in readings[i:i + open_after])))
        k = i + open_after
        while k < n:
            run = readings[k:k + close_after]
            if len(run) == close_after and all(calm(v) for _, v in run):
                break
            k += 1
        if k >= n:
            return out
        peak = max(v for _, v in readings[i:k])
        out.append((subject, "CLOSED", start, readings[k][0], peak))
        i = k + close_after
    return out


def _by_subject(frame: pl.DataFrame, subject: str | list[str], value: pl.Expr) -> dict:
    keys = [subject] if isinstance(subject, str) else subject
    rows = frame.select(*keys, "event_time_ms", value.alias("v")).rows()
    out: dict = {}
    for row in rows:
        key = row[0] if len(keys) == 1 else tuple(row[:len(keys)])
        out.setdefault(key, []).append((row[-2], row[-1]))
    return out


def expected_alerts(settings: AlertSettings, events: Iterable[SimEvent], air_closed_until_ms: int,
                    ) -> dict[str, set[Episode]]:
    """Alert episodes per rule, from the readings."""
    s = settings
    f = frames(events)
    out: dict[str, set[Episode]] = {}
    bus = f["bus"].filter(pl.col("capacity") > 0)
    out["crowding"] = {e for b, r in _by_subject(bus, "bus_id", pl.col("passengers") / pl.col("capacity")).items()
                       for e in episodes(b, r, lambda v: v > s.crowding_ratio, lambda v: v < s.crowding_close,
                                         s.crowding_readings, s.crowding_calm_readings)}
    station = f["station"]
    departures = station.filter((pl.col("kind") == "DEPARTURE") & (pl.col("scheduled_time_ms") > 0)
                                & (pl.col("actual_time_ms") > 0) & (pl.col("route_id") != ""))
    delays = _by_subject(departures, ["station_id", "route_id"],
                         (pl.col("actual_time_ms") - pl.col("scheduled_time_ms")) / 1000)
    out["delay"] = {e for (st, route), r in delays.items()
                    for e in episodes(f"{st}:{route}", r, lambda v: v > s.delay_s, lambda v: v < s.delay_close, 1,
                                      s.delay_calm_departures)}
    waiting = _by_subject(station, "station_id", pl.col("waiting_passengers").cast(pl.Float64))
    out["waiting"] = {e for st, r in waiting.items()
                      for e in episodes(st, r, lambda v: v > s.waiting_passengers, lambda v: v < s.waiting_close, 1,
                                        s.waiting_calm_events)}
    out["air_pm"] = expected_pm(settings, f["air"], air_closed_until_ms)
    out["silence"] = set()
    for kind in s.silence_streams:
        frame, key = (f["air"], "sensor_id") if kind == "air" else (f["station"], "station_id")
        if kind == "station":  # stations count their queues; stops that only record visits are not watched
            # from each station's first count on (the inner join keeps only the stations that count)
            first = frame.filter(pl.col("kind") == "PASSENGER_COUNT").group_by(key).agg(pl.col("event_time_ms").min())
            frame = frame.join(first.rename({"event_time_ms": "_first"}), on=key).filter(
                pl.col("event_time_ms") >= pl.col("_first"))
        for subject, rows in _by_subject(frame, key, pl.lit(0.0)).items():
            times = [t for t, _ in rows]
            for a, b in itertools.pairwise(times):
                if b - a >= s.silence_after_ms:
                    out["silence"].add((subject, "OPEN", a, 0, s.silence_after))
                    out["silence"].add((subject, "CLOSED", a, b, (b - a) / 1000))
    return out


def hourly_pm_aqi(air: pl.DataFrame, bucket_ms: int) -> pl.DataFrame:
    """PM NowCast AQI per sensor and closed hour (``nowcast_frame`` over hourly means)."""
    hourly = (
        air.with_columns((pl.col("event_time_ms") - pl.col("event_time_ms") % bucket_ms).alias("start"))
        .group_by("sensor_id", "start")
        .agg(pl.col("pm25_ugm3").mean(), pl.col("pm10_ugm3").mean())
        .with_columns(pl.col("start").cast(pl.Datetime("ms", "UTC")).alias("hour"))
        .sort("sensor_id", "start")
    )
    hourly = nowcast_frame(hourly, value="pm25_ugm3", output="nc25")
    hourly = nowcast_frame(hourly, value="pm10_ugm3", output="nc10")
    values = [max([a for a in (aqi("pm25", x), aqi("pm10", y)) if a is not None], default=None)
              for x, y in zip(hourly["nc25"].to_list(), hourly["nc10"].to_list(), strict=True)]
    return hourly.with_columns(pl.Series("aqi", values, dtype=pl.Float64))


def expected_pm(settings: AlertSettings, air: pl.DataFrame, closed_until_ms: int) -> set[Episode]:
    s = settings
    hourly = hourly_pm_aqi(air, s.air_bucket_ms).filter(
        (pl.col("start") + s.air_bucket_ms + s.grace_ms <= closed_until_ms) & pl.col("aqi").is_not_null())
    out = set()
    for sensor, rows in _by_subject(hourly.rename({"start": "event_time_ms"}), "sensor_id", pl.col("aqi")).items():
        out |= set(episodes(sensor, rows, lambda v: v >= s.aqi_level, lambda v: v < s.aqi_close, 1,
                            s.air_calm_buckets))
    return out


def expected_windows(settings: AlertSettings, events: Iterable[SimEvent]) -> pl.DataFrame:
    size = settings.window_ms
    bus = frames(events)["bus"].filter((pl.col("route_id") != "") & (pl.col("next_stop_id") != ""))
    per_bus = (
        bus.with_columns((pl.col("event_time_ms") - pl.col("event_time_ms") % size).alias("window_start_ms"))
        .group_by("window_start_ms", "bus_id")
        .agg(pl.col("route_id").sort_by("event_time_ms").last(), pl.len().alias("readings"),
             pl.col("passengers").min().alias("passengers_min"), pl.col("passengers").max().alias("passengers_max"),
             pl.col("passengers").sum().alias("total"))
    )
    return per_bus.with_columns(
        (pl.col("window_start_ms") + size).alias("window_end_ms"),
        (pl.col("total") / pl.col("readings")).alias("passengers_mean"),
        pl.len().over("window_start_ms").alias("fleet_buses"),
        (pl.col("total").sum().over("window_start_ms") / pl.col("readings").sum().over("window_start_ms"))
        .alias("fleet_passengers_mean"),
    ).drop("total").sort("window_start_ms", "bus_id")


def window_rows(messages: Iterable[BusWindowStats]) -> pl.DataFrame:
    """Per-bus window records as rows, with the fleet figures of their window merged from all of them
    (the second stage: no member of the daemon sees the whole fleet)."""
    messages = list(messages)
    fleet = fleet_by_window(messages)
    return pl.DataFrame([{f.name: getattr(m, f.name) for f in m.DESCRIPTOR.fields}
                         | {"fleet_buses": fleet[m.window_start_ms].buses,
                            "fleet_passengers_mean": fleet[m.window_start_ms].passengers_mean} for m in messages])


def assert_same_rows(got: pl.DataFrame, want: pl.DataFrame) -> None:
    got, want = got.sort("window_start_ms", "bus_id"), want.sort("window_start_ms", "bus_id")
    assert got.height == want.height > 500
    for name in want.columns:
        if want[name].dtype.is_float():
            assert (got[name] - want[name]).abs().max() < 1e-9, name
        else:
            assert got[name].to_list() == want[name].to_list(), name


# -- reading outputs back ----------------------------------------------------------------------------------

def observed_alerts(alerts: Iterable) -> dict[str, set[Episode]]:
    """OPEN and CLOSED records as reference episodes, keyed by rule (the alert id's first part)."""
    out: dict[str, set[Episode]] = {}
    for a in alerts:
        state = AlertState.Name(a.state)
        if state == "UPDATE":
            continue
        rule = a.alert_id.split(":", 1)[0]
        subject = a.alert_id[len(rule) + 1:a.alert_id.rindex(":")]
        out.setdefault(rule, set()).add((subject, state, a.start_time_ms, a.end_time_ms, round(a.peak_value, 9)))
    return out


def rounded(expected: dict[str, set[Episode]]) -> dict[str, set[Episode]]:
    return {rule: {(s, t, a, b, round(p, 9)) for s, t, a, b, p in eps} for rule, eps in expected.items() if eps}
