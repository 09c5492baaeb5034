"""Synthetic busy days for sizing the marts: millions of rows, written straight as Arrow into a lake.

Not a model of a city (``smartcity.simulator`` is): buses report every ``interval_s`` with random-walk loads,
routes run a fixed timetable through their stations in both directions with random delays, and
sensors report every minute. Rows go through the lake's own committer in the chosen format.

    python -c "from smartcity.bench.lakes import synthetic_day; synthetic_day('lake', buses=1000)"
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from smartcity.storage.commit import Committer, Part
from smartcity.storage.datasets import AIR_READINGS, AVERAGING_HOUR, BUS_TELEMETRY, STATION_EVENTS, Dataset
from smartcity.storage.formats import get_format
from smartcity.storage.layout import HOUR_MS

DAY_MS = 24 * HOUR_MS
BUS_CHUNK = 250  # buses generated and landed at a time (1.4M rows at 15 s)
STATUSES = np.array(["EMPTY", "MANY_SEATS_AVAILABLE", "FEW_SEATS_AVAILABLE", "STANDING_ROOM_ONLY",
                     "CRUSHED_STANDING_ROOM_ONLY", "FULL"])


def _land(committer: Committer, dataset: Dataset, columns: dict[str, np.ndarray], partition: int,
          offset: int) -> int:
    n = len(columns["event_time_ms"])
    order = np.argsort(columns["event_time_ms"], kind="stable")
    arrays = {name: values[order] for name, values in columns.items()}
    times = arrays["event_time_ms"]
    arrays |= {
        "event_time": times,
        "_topic": np.full(n, f"smartcity.{dataset.name}"),
        "_partition": np.full(n, partition, dtype=np.int32),
        "_offset": np.arange(offset, offset + n, dtype=np.int64),
        "_ingested_at": times,
    }
    if AVERAGING_HOUR.name in dataset.schema.names:  # readings stamped at the start of their minute
        arrays["averaging_hour"] = times // HOUR_MS * HOUR_MS
    table = pa.Table.from_arrays(
        [pa.nulls(n, f.type) if f.name not in arrays
         else pa.array(arrays[f.name]).cast(f.type) if not pa.types.is_timestamp(f.type)
         else pa.array(arrays[f.name], pa.int64()).cast(f.type) for f in dataset.schema],
        schema=dataset.schema,
    )
    hours = times // HOUR_MS
    parts = []
    for hour in np.unique(hours):
        lo, hi = np.searchsorted(hours, [hour, hour + 1])
        stamp = datetime.fromtimestamp(int(hour) * 3600, tz=UTC)
        parts.append(Part(dataset.name, stamp.strftime("%Y-%m-%d"), stamp.hour, table.slice(lo, hi - lo),
                          offset + int(lo), offset + int(hi) - 1))
    committer.land(f"smartcity.{dataset.name}", partition, offset, offset + n - 1, parts, fence=False)
    return offset + n


def _telemetry(rng: np.random.Generator, start: int, bus_ids: np.ndarray, routes: int, stops: int, interval_s: int
               ) -> dict[str, np.ndarray]:
    per_bus = DAY_MS // (interval_s * 1000)
    local = np.repeat(np.arange(len(bus_ids)), per_bus)
    bus = bus_ids[local]
    tick = np.tile(np.arange(per_bus), len(bus_ids))
    phase = rng.integers(0, interval_s * 1000, len(bus_ids))
    times = start + tick * interval_s * 1000 + phase[local]
    route = bus % routes
    articulated = (route % 5) == 0
    capacity = np.where(articulated, 110, 70)[bus]
    seats = np.where(articulated, 55, 40)[bus]
    steps = rng.integers(-3, 4, len(bus)).astype(np.int32)
    steps[tick == 0] = 0
    walk = np.cumsum(steps) - np.repeat(np.cumsum(steps)[tick == 0], per_bus)
    passengers = np.clip(20 + walk, 0, capacity).astype(np.int32)
    status = np.clip((passengers * 6) // np.maximum(capacity, 1), 0, 5)
    stop = (tick // 8 + bus) % stops
    n = len(bus)
    return {
        "bus_id": np.char.add("B", bus.astype(str)),
        "route_id": np.char.add("R", route.astype(str)),
        "trip_id": np.char.add(np.char.add("R", route.astype(str)), np.char.add("-", (tick // 240).astype(str))),
        "event_time_ms": times,
        "latitude": 47.3 + rng.random(n) * 0.1,
        "longitude": 8.5 + rng.random(n) * 0.1,
        "speed_mps": rng.random(n).astype(np.float32) * 15,
        "bearing_deg": rng.random(n).astype(np.float32) * 360,
        "passengers": passengers,
        "capacity": capacity.astype(np.int32),
        "seated_capacity": seats.astype(np.int32),
        "next_stop_id": np.char.add("S", stop.astype(str)),
        "stop_sequence": (stop + 1).astype(np.int32),
        "current_status": np.where(tick % 8 == 0, "STOPPED_AT", "IN_TRANSIT_TO"),
        "occupancy_status": STATUSES[status],
        "occupancy_percentage": (100 * passengers // np.maximum(capacity, 1)).astype(np.int32),
        "delay_s": rng.integers(-60, 600, n).astype(np.int32),
        "odometer_m": tick * 50.0,
    }


def _stations(rng: np.random.Generator, start: int, routes: int, stations: int, headway_min: int
              ) -> dict[str, np.ndarray]:
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("station_id", "kind", "bus_id", "route_id", "trip_id",
                                                          "scheduled_time_ms", "actual_time_ms", "stop_sequence")}
    for route in range(routes):
        for direction in range(2):
            departures = start + np.arange(5 * 60, 24 * 60, headway_min) * 60_000
            trips = len(departures)
            seq = np.arange(stations)
            order = seq if direction == 0 else seq[::-1]
            scheduled = departures[:, None] + seq[None, :] * 3 * 60_000
            delay = np.cumsum(rng.normal(20_000, 40_000, (trips, stations)), axis=1).astype(np.int64)
            actual = scheduled + np.maximum(delay, -60_000)
            station = np.char.add(f"R{route}-", order[None, :].repeat(trips, 0).astype(str)).ravel()
            bus = np.repeat(np.char.add(f"B{route}-{direction}-", (np.arange(trips) % 12).astype(str)), stations)
            trip = np.repeat(np.char.add(f"R{route}-{direction}-", np.arange(trips).astype(str)), stations)
            sequence = (seq + 1)[None, :].repeat(trips, 0).ravel().astype(np.int32)
            for kind, shift in (("ARRIVAL", 0), ("DEPARTURE", 30_000)):
                rows["station_id"].append(station)
                rows["kind"].append(np.full(trips * stations, kind))
                rows["bus_id"].append(bus)
                rows["route_id"].append(np.full(trips * stations, f"R{route}"))
                rows["trip_id"].append(trip)
                rows["scheduled_time_ms"].append((scheduled + shift).ravel())
                rows["actual_time_ms"].append((actual + shift).ravel())
                rows["stop_sequence"].append(sequence)
    out = {k: np.concatenate(v) for k, v in rows.items()}
    n = len(out["kind"])
    departure = out["kind"] == "DEPARTURE"
    return out | {
        "event_time_ms": out["actual_time_ms"],
        "waiting_passengers": rng.integers(0, 60, n).astype(np.int32),
        "boarded": np.where(departure, rng.integers(0, 20, n), 0).astype(np.int32),
        "alighted": np.where(~departure, rng.integers(0, 20, n), 0).astype(np.int32),
        "dwell_s": np.where(departure, 30.0, 0.0).astype(np.float32),
    }


def _air(rng: np.random.Generator, start: int, sensors: int) -> dict[str, np.ndarray]:
    minutes = 2 * 24 * 60
    sensor = np.repeat(np.arange(sensors), minutes)
    times = start - DAY_MS + np.tile(np.arange(minutes), sensors) * 60_000 + 30_000
    n = len(sensor)
    base = rng.random(sensors) * 20
    return {
        "sensor_id": np.char.add("A", sensor.astype(str)),
        "event_time_ms": times,
        "latitude": (47.3 + rng.random(sensors) * 0.1)[sensor],
        "longitude": (8.5 + rng.random(sensors) * 0.1)[sensor],
        "pm25_ugm3": np.round(base[sensor] + rng.random(n) * 10, 1),
        "pm10_ugm3": np.round(base[sensor] * 1.5 + rng.random(n) * 10, 1),
        "no2_ppb": np.round(rng.random(n) * 60, 1),
        "o3_ppb": np.round(rng.random(n) * 70, 1),
        "so2_ppb": np.round(rng.random(n) * 20, 1),
        "co_ppm": np.round(rng.random(n) * 3, 2),
        "temperature_c": np.full(n, 12.0),
        "humidity_pct": np.full(n, 60.0),
        "wind_speed_mps": np.full(n, 2.0),
        "wind_dir_deg": np.full(n, 180.0),
    }


def synthetic_day(root: Path | str, fmt: str = "parquet", *, day: date = date(2026, 3, 10), buses: int = 1000,
                  interval_s: int = 15, routes: int = 50, stops: int = 30, stations: int = 12,
                  headway_min: int = 8, sensors: int = 200, seed: int = 0) -> dict[str, int]:
    """Land a busy ``day`` into the lake at ``root``; returns the rows landed per dataset.

    ``buses`` × 86 400 / ``interval_s`` telemetry rows (1000 buses every 15 s: 5.76 M), two directions of
    ``routes`` through ``stations`` stations every ``headway_min`` minutes, and ``sensors`` air sensors
    every minute over the day and the day before.
    """
    rng = np.random.default_rng(seed)
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    committer = Committer(Path(root), get_format(fmt))
    offset = 0
    for first in range(0, buses, BUS_CHUNK):  # a few hundred buses at a time: a 20M-row day in bounded memory
        chunk = _telemetry(rng, start, np.arange(first, min(buses, first + BUS_CHUNK)), routes, stops, interval_s)
        offset = _land(committer, BUS_TELEMETRY, chunk, 0, offset)
    counts = {BUS_TELEMETRY.name: offset}
    for dataset, columns in ((STATION_EVENTS, _stations(rng, start, routes, stations, headway_min)),
                             (AIR_READINGS, _air(rng, start, sensors))):
        n = len(columns["event_time_ms"])
        step = 2_000_000
        offset = 0
        for lo in range(0, n, step):
            chunk = {k: v[lo:lo + step] for k, v in columns.items()}
            offset = _land(committer, dataset, chunk, 0, offset)
        counts[dataset.name] = n
    return counts

