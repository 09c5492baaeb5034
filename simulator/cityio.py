"""Read and write a city model as a folder of readable files.

Layout (GTFS-like names and columns where they exist in GTFS)::

    city.toml         name, timezone, description, industrial source, vehicle types
    stops.csv         stop_id, stop_name, stop_lat, stop_lon, is_station, demand_weight
    routes.csv        route_id, route_short_name, route_long_name, route_type, vehicle_type,
                      speed_kmh, peak_demand_pph
    route_stops.csv   route_id, direction_id, stop_sequence, stop_id
    headways.csv      route_id, service_id, start_time, end_time, headway_secs
    fleet.csv         bus_id, route_id, vehicle_type, seated_capacity, capacity
    sensors.csv       sensor_id, sensor_name, lat, lon, site_type, pollutants, emission_factor
"""

from __future__ import annotations

import csv
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from smartcity.core.resources import city_dir
from smartcity.simulator.model import Bus as FleetBus
from smartcity.simulator.model import (
    City,
    Headway,
    Route,
    Sensor,
    Stop,
    VehicleType,
    format_gtfs_time,
    parse_gtfs_time,
)

ROUTE_TYPE_BUS = 3


def default_city() -> City:
    """The committed default city in ``data/city/``."""
    return load_city(city_dir())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _num(x: float) -> str:
    """Shortest text that reads back as the same float."""
    return repr(float(x))


def load_city(path: str | Path) -> City:
    """Read a city folder written by :func:`write_city` (or committed by hand)."""
    folder = Path(path)
    meta = tomllib.loads((folder / "city.toml").read_text(encoding="utf-8"))
    vehicle_types = tuple(
        VehicleType(
            name=name,
            seated_capacity=int(spec["seated_capacity"]),
            capacity=int(spec["capacity"]),
            boarding_share=float(spec["boarding_share"]),
            alighting_share=float(spec["alighting_share"]),
        )
        for name, spec in meta.get("vehicle_types", {}).items()
    )
    stops = tuple(
        Stop(
            stop_id=r["stop_id"],
            name=r["stop_name"],
            lat=float(r["stop_lat"]),
            lon=float(r["stop_lon"]),
            is_station=r.get("is_station", "0").strip() in ("1", "true", "True"),
            demand_weight=float(r.get("demand_weight") or 1.0),
        )
        for r in _rows(folder / "stops.csv")
    )
    patterns: dict[str, dict[int, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
    for r in _rows(folder / "route_stops.csv"):
        patterns[r["route_id"]][int(r["direction_id"])].append((int(r["stop_sequence"]), r["stop_id"]))
    routes = []
    for r in _rows(folder / "routes.csv"):
        by_dir = patterns.get(r["route_id"], {})
        routes.append(
            Route(
                route_id=r["route_id"],
                short_name=r["route_short_name"],
                long_name=r["route_long_name"],
                vehicle_type=r["vehicle_type"],
                speed_kmh=float(r["speed_kmh"]),
                peak_demand_pph=float(r["peak_demand_pph"]),
                patterns=tuple(tuple(sid for _, sid in sorted(by_dir[d])) for d in sorted(by_dir)),
            )
        )
    headways = tuple(
        Headway(
            route_id=r["route_id"],
            service_id=r["service_id"],
            start_s=parse_gtfs_time(r["start_time"]),
            end_s=parse_gtfs_time(r["end_time"]),
            headway_s=int(r["headway_secs"]),
        )
        for r in _rows(folder / "headways.csv")
    )
    fleet = tuple(
        FleetBus(
            bus_id=r["bus_id"],
            route_id=r["route_id"],
            vehicle_type=r["vehicle_type"],
            seated_capacity=int(r["seated_capacity"]),
            capacity=int(r["capacity"]),
        )
        for r in _rows(folder / "fleet.csv")
    )
    sensors = tuple(
        Sensor(
            sensor_id=r["sensor_id"],
            name=r["sensor_name"],
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            site_type=r["site_type"],
            pollutants=tuple(r["pollutants"].split()),
            emission_factor=float(r["emission_factor"]),
        )
        for r in _rows(folder / "sensors.csv")
    )
    source = meta.get("industrial_source")
    return City(
        name=str(meta["name"]),
        timezone=str(meta.get("timezone", "UTC")),
        description=str(meta.get("description", "")),
        stops=stops,
        routes=tuple(routes),
        headways=headways,
        vehicle_types=vehicle_types,
        fleet=fleet,
        sensors=sensors,
        industrial_source=(float(source["lat"]), float(source["lon"])) if source else None,
    )


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _city_toml(city: City) -> str:
    lines = [
        f"name = {_toml_str(city.name)}",
        f"timezone = {_toml_str(city.timezone)}",
        f"description = {_toml_str(city.description)}",
    ]
    if city.industrial_source is not None:
        lat, lon = city.industrial_source
        lines += ["", "[industrial_source]", f"lat = {_num(lat)}", f"lon = {_num(lon)}"]
    for vt in city.vehicle_types:
        lines += [
            "",
            f"[vehicle_types.{vt.name}]",
            f"seated_capacity = {vt.seated_capacity}",
            f"capacity = {vt.capacity}",
            f"boarding_share = {_num(vt.boarding_share)}",
            f"alighting_share = {_num(vt.alighting_share)}",
        ]
    return "\n".join(lines) + "\n"


def write_city(city: City, folder: str | Path) -> Path:
    """Write ``city`` as the files :func:`load_city` reads; returns the folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "city.toml").write_text(_city_toml(city), encoding="utf-8")
    _write_rows(
        out / "stops.csv",
        ["stop_id", "stop_name", "stop_lat", "stop_lon", "is_station", "demand_weight"],
        ((s.stop_id, s.name, _num(s.lat), _num(s.lon), int(s.is_station), _num(s.demand_weight))
         for s in city.stops),
    )
    _write_rows(
        out / "routes.csv",
        ["route_id", "route_short_name", "route_long_name", "route_type", "vehicle_type", "speed_kmh",
         "peak_demand_pph"],
        ((r.route_id, r.short_name, r.long_name, ROUTE_TYPE_BUS, r.vehicle_type, _num(r.speed_kmh),
          _num(r.peak_demand_pph)) for r in city.routes),
    )
    _write_rows(
        out / "route_stops.csv",
        ["route_id", "direction_id", "stop_sequence", "stop_id"],
        ((r.route_id, d, i + 1, sid) for r in city.routes for d, p in enumerate(r.patterns)
         for i, sid in enumerate(p)),
    )
    _write_rows(
        out / "headways.csv",
        ["route_id", "service_id", "start_time", "end_time", "headway_secs"],
        ((h.route_id, h.service_id, format_gtfs_time(h.start_s), format_gtfs_time(h.end_s), h.headway_s)
         for h in city.headways),
    )
    _write_rows(
        out / "fleet.csv",
        ["bus_id", "route_id", "vehicle_type", "seated_capacity", "capacity"],
        ((b.bus_id, b.route_id, b.vehicle_type, b.seated_capacity, b.capacity) for b in city.fleet),
    )
    _write_rows(
        out / "sensors.csv",
        ["sensor_id", "sensor_name", "lat", "lon", "site_type", "pollutants", "emission_factor"],
        ((s.sensor_id, s.name, _num(s.lat), _num(s.lon), s.site_type, " ".join(s.pollutants),
          _num(s.emission_factor)) for s in city.sensors),
    )
    return out
