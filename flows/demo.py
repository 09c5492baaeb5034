"""The one-command demo: a simulated day (and 13 months of air history) through the storage writers
or through Kafka, then every flow, the catalog and the report."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

DEMO_DAY = date(2026, 3, 10)
HISTORY_DAYS = 396  # 13 months of hourly air readings before the day, for trends
CALENDAR_DAYS = 92  # hourly AQI marts before the day, for the report's AQI calendar


def offline_prefect(home: Path) -> None:
    """Prefect offline, quiet, and out of the user's home (set before Prefect is imported)."""
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@dataclass
class DemoResult:
    lake: Path
    day: str
    steps: list[tuple[str, float, str]] = field(default_factory=list)
    report: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)


def run_demo(lake: Path, day: date = DEMO_DAY, seed: int = 7, history_days: int = HISTORY_DAYS,
             kafka_bootstrap: str | None = None, step: Callable[[str], None] = print) -> DemoResult:
    from smartcity.simulator import air_history, default_city, simulate
    from smartcity.simulator.config import to_ms
    from smartcity.simulator.to_lake import events_to_lake, frame_to_lake
    from smartcity.storage.datasets import AIR_READINGS
    from smartcity.storage.settings import LakeSettings

    lake = lake.resolve()
    result = DemoResult(lake, day.isoformat())
    city = default_city()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    history_start = start - timedelta(days=history_days)

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        step(name)
        began = time.perf_counter()
        value = fn()
        result.steps.append((name, time.perf_counter() - began, ""))
        return value

    settings = LakeSettings(path=lake)
    config = demo_config(start)
    history = timed(f"air history {history_start.date()} .. {day - timedelta(days=1)} (hourly)",
                    lambda: air_history(city, history_start, start, seed)) if history_days else None
    if kafka_bootstrap is None:
        if history is not None:
            timed("air history into the lake", lambda: frame_to_lake(history, AIR_READINGS, settings,
                                                                       to_ms(history_start), to_ms(start)))
        timed(f"simulate {day} into the lake (no Kafka)", lambda: events_to_lake(
            simulate(city, start, timedelta(days=1), seed, config=config), settings, to_ms(start)))
        timed("alerts and window statistics over the day (the alert engine, no Kafka)",
              lambda: _alerts_to_lake(simulate(city, start, timedelta(days=1), seed, config=config), settings,
                                      to_ms(start)))
    else:
        _through_kafka(kafka_bootstrap, lake, city, start, seed, history, timed, config)

    from smartcity.flows import pipelines

    calendar_start = max(history_start.date(), day - timedelta(days=CALENDAR_DAYS))
    if calendar_start < day:  # some history to show in the calendar
        timed(f"flow air_quality (hourly AQI back to {calendar_start}, for the calendar)",
              lambda: pipelines.air_quality(str(lake), start=calendar_start.isoformat(),
                                            end=(day - timedelta(days=1)).isoformat(), marts=["air_quality_hourly"]))
    timed("flow air_quality", lambda: pipelines.air_quality(str(lake), date=day.isoformat()))
    timed("flow bus_operations", lambda: pipelines.bus_operations(str(lake), date=day.isoformat()))
    timed("flow station_service", lambda: pipelines.station_service(str(lake), date=day.isoformat()))
    timed("flow maintenance (compaction, catalog)", lambda: pipelines.maintenance(str(lake)))
    report = timed("flow daily_report", lambda: pipelines.daily_report(str(lake), date=day.isoformat()))
    result.report = Path(report)
    from smartcity.storage.catalog import catalog_path, connect

    con = connect(catalog_path(lake))
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        for name in names:
            if not name.endswith("__hdf5"):
                result.counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
    finally:
        con.close()
    return result


def demo_config(start: datetime) -> Any:
    """The demo day's simulation: default knobs plus a crowded bus, a pollution episode and a late route,
    so the alerts have something to say."""
    from smartcity.simulator import CrowdingEpisode, DelayEpisode, PollutionEpisode, SimConfig

    return SimConfig(episodes=(
        CrowdingEpisode("B001", start + timedelta(hours=6, minutes=30), start + timedelta(hours=7, minutes=30)),
        PollutionEpisode("AQ002", start + timedelta(hours=5), start + timedelta(hours=11), factor=9.0),
        DelayEpisode("R03", start + timedelta(hours=15), start + timedelta(hours=16, minutes=30), factor=3.0),
    ))


def _alerts_to_lake(events: Any, settings: Any, start_ms: int) -> Any:
    from smartcity.ingest.alerts.offline import run_offline
    from smartcity.ingest.alerts.settings import AlertSettings
    from smartcity.simulator.events import SimEvent
    from smartcity.simulator.to_lake import LakeWriter

    writer = LakeWriter(settings, start_ms)
    for output in run_offline(AlertSettings(), events):
        writer.add(SimEvent(output.topic_kind, output.key, output.message.event_time_ms, output.message))
    writer.flush()
    return writer.stats


def _through_kafka(bootstrap: str, lake: Path, city: Any, start: datetime, seed: int, history: Any,
                   timed: Callable[[str, Callable[[], Any]], Any], config: Any) -> None:
    from smartcity.ingest.kafka.admin import create_topics
    from smartcity.ingest.kafka.settings import KafkaSettings
    from smartcity.ingest.producer import produce_records
    from smartcity.proto import AirQualityReading
    from smartcity.proto.codec import AIR
    from smartcity.simulator import simulate, to_records

    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    timed("create topics", lambda: create_topics(kafka))
    topics = {d: kafka.topic(d) for d in ("bus", "air", "station")}

    def history_records() -> Any:
        headers = AIR.headers("protobuf")
        fields = history.columns
        for row in history.iter_rows():
            msg = AirQualityReading(**{k: v for k, v in zip(fields, row, strict=True) if v is not None})
            yield topics["air"], msg.sensor_id.encode(), msg.SerializeToString(), headers, msg.event_time_ms

    if history is not None:
        timed("air history into Kafka", lambda: produce_records(kafka, history_records()))
    timed("simulate the day into Kafka", lambda: produce_records(
        kafka, to_records(simulate(city, start, timedelta(days=1), seed, config=config), topics=topics)))
    timed("smartcity alerts over the day (until idle)", lambda: _alerts_daemon(kafka))
    from smartcity.flows import pipelines

    timed("flow ingest_batch (until caught up)", lambda: pipelines.ingest_batch(
        str(lake), topics=["bus", "air", "station", "alerts", "bus_windows"], group="smartcity-demo",
        bootstrap_servers=bootstrap))


def _alerts_daemon(kafka: Any) -> Any:
    from smartcity.ingest.alerts.daemon import AlertDaemon
    from smartcity.ingest.alerts.settings import AlertSettings

    return AlertDaemon(kafka, AlertSettings(group="smartcity-demo-alerts"), until_idle=5.0).run()
