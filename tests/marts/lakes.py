"""Hand-made lakes for the mart tests, landed by the real sink path (proto messages, ``process_batch``).

The scenario city has every number chosen so the marts can be checked by hand.

Transit (station events, day D = 2026-03-10, times UTC):

- Route R1 runs from station S1 to S2 with a 10-minute timetable: seven trips scheduled to arrive at
  S1 at 06:00, 06:10, …, 07:00. Buses really arrive at S1 at 06:00, 06:10, 06:20, 06:30, 06:58, 06:59,
  07:00: headways 10, 10, 10, 28, 1, 1 against 10. Each bus dwells 1 min at S1 and reaches S2 4 min
  after leaving, so S2 sees the same headways. Departure delays are 0, 0, 0, 0, 18, 9, 0 min. The same
  trips (same trip ids) ran on the previous day, like a GTFS timetable.
- Route R2 runs both ways between S3 and S2. Towards S2 (origin S3): trips leave S3 at 08:00, 08:15,
  08:30 on time and take 10, 12 and 20 min (timetable: 10). Towards S3 (origin S2): buses arrive at S2
  at 08:04, 08:19, 08:34, leave 1 min later on time and take 10 min.
- Passenger counts: S1 has 10, 50, 60, 20 waiting at 05:00, 05:10, 05:20, 05:30 and 45 at 09:00; S3 had
  50 waiting at 23:50 the day before and 55 at 00:10.

Air (readings at half past each hour):

- A1 reads PM2.5 10 µg/m³ for 12 hours from 00:00.
- A2 reads the EPA NowCast example (50, 80, 75, 90, 82, 53, 64, 74, 21, 10, 16, 13 µg/m³) from 18:00 the
  day before to 05:00.
- A3 reads O3 70 ppb and CO 8.4 ppm from 00:00 to 07:00, and NO2 100 and 140 ppb in hour 03.
- H1, H2, H3 read PM2.5 (5, 15, 40 µg/m³) and NO2 (10, 20, 30 ppb) all day; H1 and H2 are 330 m apart, H3
  1.3 km north of H2.
- A4 read PM2.5 once a month, on the 15th, from July 2025 to February 2026: 12, 11, 13, 12, 15, 14, 16, 18.

One R1 arrival at S1 (06:30) is landed twice, as a producer retry would.

Bus telemetry: R1 buses B1 (10 then 30 passengers; the 30 landed twice) and B2 (60) near S2 at
06:05–06:15; R2 bus B3 empty near S3 at 07:30; a bus out of service; a reading of the day before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from google.protobuf.message import Message

from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.ingest.sink.landing import process_batch
from smartcity.proto import AirQualityReading, BusTelemetry, StationEvent
from smartcity.proto.codec import AIR, BUS, STATION
from smartcity.storage.commit import Committer
from smartcity.storage.datasets import AIR_READINGS, BUS_TELEMETRY, STATION_EVENTS, Dataset
from smartcity.storage.formats import get_format

DAY = "2026-03-10"
PREVIOUS_DAY = "2026-03-09"
T0 = int(datetime(2026, 3, 10, tzinfo=UTC).timestamp() * 1000)  # 2026-03-10 00:00 UTC
MINUTE = 60_000
HOUR = 3_600_000
NOW = T0 + 400 * 24 * HOUR  # validation's clock: every test event lies in its past

_CODECS = {"bus_telemetry": BUS, "air_readings": AIR, "station_events": STATION}
_DATASETS = {"bus_telemetry": BUS_TELEMETRY, "air_readings": AIR_READINGS, "station_events": STATION_EVENTS}


def land(root: Path, fmt: str, dataset: str, messages: Sequence[Message], *, partition: int = 0,
         first_offset: int = 0) -> None:
    """Land ``messages`` into the lake at ``root`` in ``fmt`` through the sink's batch path."""
    ds: Dataset = _DATASETS[dataset]
    codec = _CODECS[dataset]
    committer = Committer(root, get_format(fmt))
    offsets = np.arange(first_offset, first_offset + len(messages))
    result = process_batch(ds, BatchDecoder(ds), committer, f"smartcity.{dataset}", partition,
                           [codec.encode(m) for m in messages], offsets, now_ms=NOW)
    assert not result.dead, result.dead


def reading(sensor: str, t_ms: int, *, lat: float = 47.37, lon: float = 8.54, **values: float) -> AirQualityReading:
    return AirQualityReading(sensor_id=sensor, event_time_ms=t_ms, latitude=lat, longitude=lon, **values)


def telemetry(bus: str, route: str, t_ms: int, passengers: int, *, stop: str = "S1", capacity: int = 70,
              seats: int = 40, status: int = 1, trip: str = "T1") -> BusTelemetry:
    return BusTelemetry(bus_id=bus, route_id=route, trip_id=trip, event_time_ms=t_ms, latitude=47.37, longitude=8.54,
                        passengers=passengers, capacity=capacity, seated_capacity=seats, next_stop_id=stop,
                        occupancy_status=status)


def station_event(station: str, t_ms: int, kind: int, *, bus: str = "", route: str = "", trip: str = "",
                  scheduled_ms: int = 0, waiting: int = 0, boarded: int = 0, alighted: int = 0,
                  dwell_s: float = 0.0, seq: int = 1) -> StationEvent:
    return StationEvent(station_id=station, event_time_ms=t_ms, kind=kind, bus_id=bus, route_id=route, trip_id=trip,
                        scheduled_time_ms=scheduled_ms, actual_time_ms=t_ms if kind != 3 else 0,
                        waiting_passengers=waiting, boarded=boarded, alighted=alighted, dwell_s=dwell_s,
                        stop_sequence=seq)


ARRIVAL, DEPARTURE, COUNT = 1, 2, 3
D_MINUS_1 = T0 - 24 * HOUR

R1_ACTUAL_MIN = (0, 10, 20, 30, 58, 59, 60)
R1_SCHEDULED_MIN = (0, 10, 20, 30, 40, 50, 60)
MONTHLY_A4 = (12.0, 11.0, 13.0, 12.0, 15.0, 14.0, 16.0, 18.0)
NOWCAST_N1 = (50.0, 80.0, 75.0, 90.0, 82.0, 53.0, 64.0, 74.0, 21.0, 10.0, 16.0, 13.0)


def _r1_trip(day0: int, k: int) -> list:
    base = day0 + 6 * HOUR
    arrive = base + R1_ACTUAL_MIN[k] * MINUTE
    scheduled = base + R1_SCHEDULED_MIN[k] * MINUTE
    trip, bus = f"R1-T{k}", f"B1{k}"
    common = {"bus": bus, "route": "R1", "trip": trip}
    return [
        station_event("S1", arrive, ARRIVAL, scheduled_ms=scheduled, alighted=0, seq=1, **common),
        station_event("S1", arrive + MINUTE, DEPARTURE, scheduled_ms=scheduled + MINUTE, boarded=5 + k,
                      dwell_s=60.0, seq=1, **common),
        station_event("S2", arrive + 5 * MINUTE, ARRIVAL, scheduled_ms=scheduled + 5 * MINUTE, alighted=4, seq=2,
                      **common),
        station_event("S2", arrive + 6 * MINUTE, DEPARTURE, scheduled_ms=scheduled + 6 * MINUTE, boarded=0,
                      dwell_s=60.0, seq=2, **common),
    ]


def _r2_trips() -> list:
    events = []
    for k, run_min in enumerate((10, 12, 20)):
        depart = T0 + 8 * HOUR + 15 * k * MINUTE
        common = {"bus": f"B2{k}", "route": "R2", "trip": f"R2-A{k}"}
        events += [
            station_event("S3", depart - MINUTE, ARRIVAL, scheduled_ms=depart - MINUTE, seq=1, **common),
            station_event("S3", depart, DEPARTURE, scheduled_ms=depart, dwell_s=60.0, seq=1, **common),
            station_event("S2", depart + run_min * MINUTE, ARRIVAL, scheduled_ms=depart + 10 * MINUTE, seq=2, **common),
        ]
    for k in range(3):
        arrive = T0 + 8 * HOUR + (4 + 15 * k) * MINUTE
        common = {"bus": f"B3{k}", "route": "R2", "trip": f"R2-B{k}"}
        events += [
            station_event("S2", arrive, ARRIVAL, scheduled_ms=arrive, seq=1, **common),
            station_event("S2", arrive + MINUTE, DEPARTURE, scheduled_ms=arrive + MINUTE, dwell_s=60.0, seq=1,
                          **common),
            station_event("S3", arrive + 11 * MINUTE, ARRIVAL, scheduled_ms=arrive + 11 * MINUTE, seq=2, **common),
        ]
    return events


def station_messages() -> list:
    events = []
    for k in range(7):
        events += _r1_trip(D_MINUS_1, k) + _r1_trip(T0, k)
    events += _r2_trips()
    counts = [("S1", 5 * HOUR, 10), ("S1", 5 * HOUR + 10 * MINUTE, 50), ("S1", 5 * HOUR + 20 * MINUTE, 60),
              ("S1", 5 * HOUR + 30 * MINUTE, 20), ("S1", 9 * HOUR, 45), ("S3", -10 * MINUTE, 50),
              ("S3", 10 * MINUTE, 55)]
    events += [station_event(station, T0 + offset, COUNT, waiting=waiting) for station, offset, waiting in counts]
    retried = _r1_trip(T0, 3)[0]
    return [*events, retried]


def air_messages() -> list:
    messages = [reading("A1", T0 + h * HOUR + 30 * MINUTE, pm25_ugm3=10.0) for h in range(12)]
    start = T0 - 6 * HOUR
    messages += [reading("A2", start + h * HOUR + 30 * MINUTE, lat=47.38, pm25_ugm3=value)
                 for h, value in enumerate(NOWCAST_N1)]
    messages += [reading("A3", T0 + h * HOUR + 30 * MINUTE, lat=47.39, o3_ppb=70.0, co_ppm=8.4) for h in range(8)]
    messages += [reading("A3", T0 + 3 * HOUR + 10 * MINUTE, lat=47.39, no2_ppb=100.0),
                 reading("A3", T0 + 3 * HOUR + 40 * MINUTE, lat=47.39, no2_ppb=140.0)]
    for i, (pm25, no2) in enumerate(((5.0, 10.0), (15.0, 20.0), (40.0, 30.0))):
        messages += [reading(f"H{i + 1}", T0 + h * HOUR + 15 * MINUTE, lat=(47.370, 47.373, 47.385)[i], lon=8.55,
                             pm25_ugm3=pm25, no2_ppb=no2) for h in range(24)]
    for month, value in zip(range(7, 15), MONTHLY_A4, strict=True):
        when = datetime(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 15, 12, tzinfo=UTC)
        messages.append(reading("A4", int(when.timestamp() * 1000), lat=47.36, pm25_ugm3=value))
    return messages


def bus_messages() -> list:
    six = T0 + 6 * HOUR
    return [
        telemetry("B1", "R1", six + 5 * MINUTE, 10, stop="S2", status=1),
        telemetry("B1", "R1", six + 10 * MINUTE, 30, stop="S2", status=2),
        telemetry("B1", "R1", six + 10 * MINUTE, 30, stop="S2", status=2),
        telemetry("B2", "R1", six + 15 * MINUTE, 60, stop="S2", status=3),
        telemetry("B3", "R2", T0 + 7 * HOUR + 30 * MINUTE, 0, stop="S3", status=0),
        telemetry("B4", "", six, 12, stop="", status=1),
        telemetry("B1", "R1", six - 24 * HOUR, 50, stop="S2", status=3),
    ]


def build_scenario(root: Path, fmt: str) -> Path:
    """Land the whole scenario into ``root`` in ``fmt``, in two batches per dataset."""
    for dataset, messages in (("station_events", station_messages()), ("air_readings", air_messages()),
                              ("bus_telemetry", bus_messages())):
        half = len(messages) // 2
        land(root, fmt, dataset, messages[:half], partition=0)
        land(root, fmt, dataset, messages[half:], partition=1, first_offset=1000)
    return root


FORMATS = ("parquet", "hdf5", "csv")
