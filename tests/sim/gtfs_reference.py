"""An independent reading of a GTFS feed's trips on one date, written with Polars straight from the
reference's rules (calendar weekday flags between start_date and end_date, calendar_dates exceptions,
frequencies expanded while the start is before end_time, empty times interpolated linearly by the
distance between stops). The simulator's own reader is :mod:`smartcity.simulator.gtfs`; tests compare
the two."""

from __future__ import annotations

import io
import itertools
import math
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ReferenceTrip:
    trip_id: str
    route_id: str
    stop_ids: tuple[str, ...]
    arrivals: tuple[int, ...]
    departures: tuple[int, ...]


def _tables(source: Path) -> dict[str, pl.DataFrame]:
    raw: dict[str, bytes] = {}
    if source.is_dir():
        raw = {p.name: p.read_bytes() for p in source.glob("*.txt")}
    else:
        with zipfile.ZipFile(source) as z:
            raw = {Path(n).name: z.read(n) for n in z.namelist() if n.endswith(".txt")}
    out = {}
    for name, data in raw.items():
        frame = pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), infer_schema=False)
        out[name] = frame.rename({c: c.strip() for c in frame.columns}).with_columns(pl.all().str.strip_chars())
    return out


def _seconds(text: str | None) -> int | None:
    if not text:
        return None
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def _services(t: dict[str, pl.DataFrame], day: date) -> set[str]:
    stamp = day.strftime("%Y%m%d")
    running: set[str] = set()
    if "calendar.txt" in t:
        cal = t["calendar.txt"]
        running = set(cal.filter((pl.col(DAYS[day.weekday()]) == "1") & (pl.col("start_date") <= stamp)
                                 & (pl.col("end_date") >= stamp))["service_id"].to_list())
    if "calendar_dates.txt" in t:
        ex = t["calendar_dates.txt"].filter(pl.col("date") == stamp)
        running |= set(ex.filter(pl.col("exception_type") == "1")["service_id"].to_list())
        running -= set(ex.filter(pl.col("exception_type") == "2")["service_id"].to_list())
    return running


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    (la1, lo1), (la2, lo2) = a, b
    p1, p2 = math.radians(la1), math.radians(la2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lo2 - lo1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _fill(times: list[int | None], cum: list[float]) -> list[int]:
    known = [i for i, x in enumerate(times) if x is not None]
    out = list(times)
    for i in range(len(times)):
        if out[i] is None:
            a = max(k for k in known if k < i)
            b = min(k for k in known if k > i)
            ta, tb = times[a], times[b]
            assert ta is not None and tb is not None
            share = (cum[i] - cum[a]) / (cum[b] - cum[a]) if cum[b] > cum[a] else (i - a) / (b - a)
            out[i] = ta + round((tb - ta) * share)
    return [int(x) for x in out if x is not None]


def reference_trips(source: Path, day: date) -> list[ReferenceTrip]:
    t = _tables(source)
    services = _services(t, day)
    trips = t["trips.txt"].filter(pl.col("service_id").is_in(list(services)))
    stops = {r["stop_id"]: (float(r["stop_lat"] or "nan"), float(r["stop_lon"] or "nan"))
             for r in t["stops.txt"].iter_rows(named=True)}
    st = (t["stop_times.txt"].join(trips.select("trip_id", "route_id"), on="trip_id")
          .with_columns(pl.col("stop_sequence").cast(pl.Int64)).sort("trip_id", "stop_sequence"))
    frequencies: dict[str, list[tuple[int, int, int]]] = {}
    if "frequencies.txt" in t:
        for r in t["frequencies.txt"].iter_rows(named=True):
            start, end = _seconds(r["start_time"]), _seconds(r["end_time"])
            assert start is not None and end is not None
            frequencies.setdefault(r["trip_id"], []).append((start, end, int(r["headway_secs"])))
    out = []
    for (trip_id,), rows in st.group_by(["trip_id"], maintain_order=True):
        stop_ids = rows["stop_id"].to_list()
        if len(stop_ids) < 2:
            continue
        arr = [_seconds(x) for x in rows["arrival_time"].to_list()]
        dep = [_seconds(x) for x in rows["departure_time"].to_list()] if "departure_time" in rows.columns else arr
        arr = [a if a is not None else d for a, d in zip(arr, dep, strict=True)]
        dep = [d if d is not None else a for a, d in zip(arr, dep, strict=True)]
        cum = [0.0]
        for a, b in itertools.pairwise(stop_ids):
            cum.append(cum[-1] + _distance(stops[a], stops[b]))
        arrivals, departures = _fill(arr, cum), _fill(dep, cum)
        route = rows["route_id"][0]
        if trip_id not in frequencies:
            out.append(ReferenceTrip(str(trip_id), route, tuple(stop_ids), tuple(arrivals), tuple(departures)))
            continue
        for start, end, headway in frequencies[str(trip_id)]:
            for first in range(start, end, headway):
                shift = first - departures[0]
                h, rem = divmod(first, 3600)
                out.append(ReferenceTrip(f"{trip_id}@{h:02d}:{rem // 60:02d}:{rem % 60:02d}", route, tuple(stop_ids),
                                         tuple(x + shift for x in arrivals), tuple(x + shift for x in departures)))
    return out
