"""A lake holding years of history, built compactly, for measuring what an hourly run costs.

Days of a real-sized city are large (500 buses every 15 s: 2.9 M telemetry rows), and years of them
would take hours to write and tens of gigabytes. But an hourly run should only read the day that
changed, the day before and the stored aggregates, so the history only has to *be there*, in its real
shape: the same folders and the same number of files. So:

- the day before the run and the run's own day until the hour before are real synthetic days
  (``smartcity.bench.lakes`` generators);
- every earlier day of ``bus_telemetry`` and ``station_events`` is the day before's files, hard-linked
  into that day's folders (no disk space, one file per hour and partition, as after compaction);
- ``air_readings`` history is real: every day's readings, each sensor every ``air_interval_s``, so the
  ``air_daily_sums`` and ``air_monthly`` marts (built for every day and month) hold real sums and
  long-term trends have years of months to work on;
- mart partitions of earlier days, which no hourly run reads, are the day before's, hard-linked.

``derive`` makes a lake of a shorter history from a longer one by hard-linking its last days.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from smartcity.analysis.marts import MARTS
from smartcity.bench.lakes import DAY_MS, _land, _stations, _telemetry
from smartcity.flows import jobs
from smartcity.storage.commit import Committer, read_landed_offset
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY, STATION_EVENTS
from smartcity.storage.formats import get_format
from smartcity.storage.layout import HOUR_MS, RAW, STATE, dataset_dir
from smartcity.storage.layout import MARTS as MARTS_DIR

REAL_MARTS = ("air_daily_sums", "air_monthly")  # built for every day and month of the history


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def air_day(rng: np.random.Generator, day: date, sensors: int, interval_s: int) -> dict[str, np.ndarray]:
    """One day of readings of ``sensors`` sensors, each every ``interval_s``; a yearly cycle and a slow
    rise in NO2 so that trends have something to find."""
    per_sensor = 86_400 // interval_s
    sensor = np.repeat(np.arange(sensors), per_sensor)
    times = _ms(day) + np.tile(np.arange(per_sensor), sensors) * interval_s * 1000 + interval_s * 500
    n = len(sensor)
    season = np.cos(2 * np.pi * (day.timetuple().tm_yday - 15) / 365.25)
    years = (day - date(2024, 1, 1)).days / 365.25
    site = np.random.default_rng(0).random(sensors)
    return {
        "sensor_id": np.char.add("A", sensor.astype(str)),
        "event_time_ms": times,
        "latitude": (47.3 + site * 0.1)[sensor],
        "longitude": (8.5 + site[::-1] * 0.1)[sensor],
        "pm25_ugm3": np.round(8 + 6 * site[sensor] + 4 * season + rng.random(n) * 6, 1),
        "pm10_ugm3": np.round(14 + 8 * site[sensor] + 5 * season + rng.random(n) * 8, 1),
        "no2_ppb": np.round(20 + 10 * site[sensor] + 6 * season + 0.8 * years + rng.random(n) * 10, 1),
        "o3_ppb": np.round(30 - 10 * season + rng.random(n) * 10, 1),
        "so2_ppb": np.round(2 + rng.random(n) * 3, 1),
        "co_ppm": np.round(0.3 + rng.random(n) * 0.3, 2),
        "temperature_c": np.full(n, 12.0),
        "humidity_pct": np.full(n, 60.0),
        "wind_speed_mps": np.full(n, 2.0),
        "wind_dir_deg": np.full(n, 180.0),
    }


def _before(columns: dict[str, np.ndarray], end_ms: int, after_ms: int = 0) -> dict[str, np.ndarray]:
    keep = (columns["event_time_ms"] < end_ms) & (columns["event_time_ms"] >= after_ms)
    return {k: v[keep] for k, v in columns.items()}


class Archive:
    """A lake of ``history_days`` days before ``now`` (a date), landed up to ``hour`` on that day."""

    def __init__(self, root: Path, now: date, hour: int, *, buses: int, routes: int, stations: int, sensors: int,
                 interval_s: int, air_interval_s: int, seed: int = 0) -> None:
        self.root, self.now, self.hour = Path(root), now, hour
        self.buses, self.routes, self.stations, self.sensors = buses, routes, stations, sensors
        self.interval_s, self.air_interval_s = interval_s, air_interval_s
        self.rng = np.random.default_rng(seed)
        self.committer = Committer(self.root, get_format("parquet"))
        self.offsets = {BUS_TELEMETRY.name: 0, STATION_EVENTS.name: 0, AIR_READINGS.name: 0}

    def _land(self, name: str, columns: dict[str, np.ndarray]) -> None:
        dataset = {d.name: d for d in (BUS_TELEMETRY, STATION_EVENTS, AIR_READINGS)}[name]
        if len(columns["event_time_ms"]):
            self.offsets[name] = _land(self.committer, dataset, columns, 0, self.offsets[name])

    def day_of_city(self, day: date, end_ms: int | None = None, after_ms: int = 0) -> dict[str, int]:
        """Land ``day``'s buses, stations and air readings (before ``end_ms``, from ``after_ms``)."""
        end = end_ms if end_ms is not None else _ms(day) + DAY_MS
        counts = {}
        fleet = np.arange(self.buses)
        for name, columns in ((BUS_TELEMETRY.name, _telemetry(self.rng, _ms(day), fleet, self.routes, 30,
                                                              self.interval_s)),
                              (STATION_EVENTS.name, _stations(self.rng, _ms(day), self.routes, self.stations, 8)),
                              (AIR_READINGS.name, air_day(self.rng, day, self.sensors, self.air_interval_s))):
            part = _before(columns, end, after_ms)
            self._land(name, part)
            counts[name] = len(part["event_time_ms"])
        return counts

    def build(self, history_days: int, progress: Callable[[str], None] = print) -> dict[str, int]:
        """Land the history, the day before and ``now`` up to ``hour``, and build every mart."""
        first = self.now - timedelta(days=history_days)
        template = self.now - timedelta(days=1)
        for k in range((template - first).days):
            day = first + timedelta(days=k)
            if k % 30 == 0:
                progress(f"archive: air readings of {day} ({k + 1} of {history_days - 1} days)")
            self._land(AIR_READINGS.name, air_day(self.rng, day, self.sensors, self.air_interval_s))
        counts = self.day_of_city(template)
        self.day_of_city(self.now, end_ms=_ms(self.now) + self.hour * HOUR_MS)
        for dataset in (BUS_TELEMETRY.name, STATION_EVENTS.name):
            progress(f"archive: linking {dataset} history")
            _link_history(dataset_dir(self.root, dataset), template, first)
        progress("archive: marts of the day before and of today so far")
        for mart, when in jobs.plan(self.root, jobs.ALL_MARTS, [template.isoformat(), self.now.isoformat()]):
            jobs.build_mart(self.root, mart, when)
        progress("archive: air_daily_sums and air_monthly of every day and month")
        for mart, when in jobs.plan(self.root, REAL_MARTS):
            jobs.build_mart(self.root, mart, when)
        for name in MARTS:
            if name not in REAL_MARTS:
                _link_history(self.root / MARTS_DIR / name, template, first)
        for mart, when in jobs.plan(self.root, jobs.ALL_MARTS):
            jobs.build_mart(self.root, mart, when)  # whatever linking left stale (none, normally)
        return counts

    def new_hour(self) -> dict[str, dict[str, np.ndarray]]:
        """The rows the hour ``hour`` of ``now`` brings, generated once to land in every lake alike."""
        start = _ms(self.now) + self.hour * HOUR_MS
        return {name: _before(columns, start + HOUR_MS, start) for name, columns in (
            (BUS_TELEMETRY.name, _telemetry(self.rng, _ms(self.now), np.arange(self.buses), self.routes, 30,
                                            self.interval_s)),
            (STATION_EVENTS.name, _stations(self.rng, _ms(self.now), self.routes, self.stations, 8)),
            (AIR_READINGS.name, air_day(self.rng, self.now, self.sensors, self.air_interval_s)))}


def land_hour(root: Path, rows: dict[str, dict[str, np.ndarray]]) -> None:
    """Land one hour's ``rows`` into the lake at ``root``, after what its offsets record holds."""
    committer = Committer(Path(root), get_format("parquet"))
    for dataset in (BUS_TELEMETRY, STATION_EVENTS, AIR_READINGS):
        offset = (read_landed_offset(Path(root), f"smartcity.{dataset.name}", 0) or -1) + 1
        if len(rows[dataset.name]["event_time_ms"]):
            _land(committer, dataset, rows[dataset.name], 0, offset)


def _link_history(base: Path, template: date, first: date) -> None:
    """Hard-link ``template``'s folder under ``base`` into every day from ``first`` to the day before it."""
    source = base / f"date={template.isoformat()}"
    if not source.exists():
        return
    day = first
    while day < template:
        target = base / f"date={day.isoformat()}"
        if not target.exists():
            shutil.copytree(source, target, copy_function=os.link)
        day += timedelta(days=1)


def derive(source: Path, target: Path, now: date, history_days: int) -> None:
    """A lake at ``target`` holding the last ``history_days`` days of ``source`` before ``now``, hard-linked."""
    first = now - timedelta(days=history_days)
    month = first.replace(day=1)
    for top in (RAW, MARTS_DIR):
        for folder in sorted((source / top).glob("*/date=*")):
            day = date.fromisoformat(folder.name.removeprefix("date="))
            keep = day >= (month if folder.parent.name == "air_monthly" else first)
            if keep:
                shutil.copytree(folder, target / top / folder.parent.name / folder.name, copy_function=os.link)
    shutil.copytree(source / STATE, target / STATE, ignore=shutil.ignore_patterns("locks"))

