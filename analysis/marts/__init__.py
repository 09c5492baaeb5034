"""The marts: tables computed from the lake's raw datasets, one row grain each.

Each mart is a pure function in its own module: lazy frames of raw rows in, a frame out. The
registry ``MARTS`` names them with the raw datasets they read and their grain, and
``compute_mart`` runs one for a day of a lake. ``smartcity.storage.marts.write_mart`` stores the result.

| mart | grain |
| --- | --- |
| ``air_quality_hourly`` | sensor × UTC hour |
| ``air_hotspots`` | sensor × day |
| ``air_daily_sums`` | sensor × pollutant × averaging day, per raw partition date |
| ``air_monthly`` | sensor × pollutant × calendar month |
| ``air_trends`` | sensor × pollutant, as of a date |
| ``bus_occupancy`` | route × UTC hour × stop |
| ``bus_window_stats`` | tumbling window × bus |
| ``bus_headways`` | arrival of a bus at a station |
| ``route_performance`` | route × day |
| ``station_service`` | station × day, and station × UTC hour |
| ``stop_visits`` | TIDES: a vehicle's visit to a stop on a performed trip |
| ``trips_performed`` | TIDES: a trip a vehicle performed |

All times are UTC; a mart's day is the lake partition's day. A mart may also read other marts'
stored partitions (``upstream``): ``air_trends`` reads ``air_monthly``, which reads
``air_daily_sums``, so no run reads more than a day of raw readings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl

from smartcity.analysis.marts import (
    air_hotspots,
    air_monthly,
    air_quality_hourly,
    air_trends,
    bus_headways,
    bus_occupancy,
    bus_window_stats,
    route_performance,
    station_service,
)
from smartcity.analysis.marts._common import as_date
from smartcity.analysis.tides import stop_visits, trips_performed
from smartcity.storage.layout import dataset_dir
from smartcity.storage.marts import mart_files, scan_mart
from smartcity.storage.scan import dataset_files, scan

Engine = Literal["streaming", "in-memory"]
Builder = Callable[..., pl.LazyFrame | pl.DataFrame]
Upstream = Literal["stored", "compute"]
DateRange = tuple[Date | None, Date]


def _same_day(day: Date) -> tuple[Date, ...]:
    return (day,)


def _up_to(day: Date) -> DateRange:
    return None, day


@dataclass(frozen=True)
class MartSpec:
    """A mart: its builder, the raw datasets it reads (passed to the builder in this order, then
    the day), how many days before the day it needs (``None``: all earlier days), its grain, its
    output columns and the engine that collects a lazy result.

    ``upstream`` marts are read from their stored partitions in the range ``upstream_dates`` gives
    for the partition being built (passed after the raw datasets). ``partitions`` maps a raw date
    with new data to the partitions of this mart it changes (the date itself for most marts, the
    month's first day for ``air_monthly``). ``result_key``, when set, says that partitions whose dates
    share a key hold the same rows but for ``date``, computed only from upstream partitions dated
    before the key: ``air_trends`` changes once a month, so a stored partition of the month can be
    reused while those upstream partitions are unchanged.

    Builders of the telemetry marts collect slice by slice on the streaming engine themselves and
    return a frame. The others return a lazy frame whose row-order work (sorted grids, shifts,
    cumulative sums) runs on the in-memory engine: their inputs are far smaller than telemetry.
    """

    name: str
    builder: Builder
    datasets: tuple[str, ...]
    grain: str
    description: str
    schema: Mapping[str, pl.DataType] = field(repr=False)
    history_days: int | None = 0
    engine: Engine = "in-memory"
    upstream: tuple[str, ...] = ()
    upstream_dates: Callable[[Date], DateRange] = _up_to
    partitions: Callable[[Date], tuple[Date, ...]] = _same_day
    result_key: Callable[[Date], Date] | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        """The raw datasets, then the upstream marts, in the builder's argument order."""
        return self.datasets + self.upstream

    def build(self, frames: Mapping[str, pl.LazyFrame], day: Date | str, **params: Any) -> pl.DataFrame:
        """Run the builder on ``frames`` (one lazy frame per dataset and upstream mart) and collect the result."""
        missing = [name for name in self.inputs if name not in frames]
        if missing:
            msg = f"mart {self.name!r} needs the datasets {', '.join(missing)}"
            raise ValueError(msg)
        out = self.builder(*(frames[name] for name in self.inputs), as_date(day), **params)
        return out.collect(engine=self.engine) if isinstance(out, pl.LazyFrame) else out


MARTS: dict[str, MartSpec] = {
    spec.name: spec
    for spec in (
        MartSpec(
            "air_quality_hourly",
            air_quality_hourly.air_quality_hourly,
            ("air_readings",),
            "sensor × UTC hour with readings",
            "Hourly means, PM NowCast, 8-h O3 and CO, EPA AQI per pollutant and overall, category, "
            "dominant pollutant and European AQI level.",
            air_quality_hourly.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "air_hotspots",
            air_hotspots.air_hotspots,
            ("air_readings",),
            "sensor × day",
            "Daily mean PM2.5 and NO2 with Getis–Ord Gi* z, p and hot/cold spot class in a distance band.",
            air_hotspots.SCHEMA,
        ),
        MartSpec(
            "air_daily_sums",
            air_monthly.air_daily_sums,
            ("air_readings",),
            "sensor × pollutant × averaging day, per raw partition date",
            "Micro-unit sums and counts of every pollutant's valid readings: what monthly means are built from.",
            air_monthly.DAILY_SCHEMA,
        ),
        MartSpec(
            "air_monthly",
            air_monthly.air_monthly,
            (),
            "sensor × pollutant × calendar month",
            "Sums, counts and exact means of every pollutant per month, from air_daily_sums.",
            air_monthly.MONTHLY_SCHEMA,
            upstream=("air_daily_sums",),
            upstream_dates=air_monthly.monthly_inputs,
            partitions=air_monthly.months_touched,
        ),
        MartSpec(
            "air_trends",
            air_trends.air_trends,
            (),
            "sensor × pollutant, as of the day",
            "openair's TheilSen on monthly means: STL-deseasonalised past 24 months, Sen slope per year with its "
            "block-bootstrap interval, and the Mann–Kendall test.",
            air_trends.SCHEMA,
            upstream=("air_monthly",),
            result_key=air_monthly.settled_months,
        ),
        MartSpec(
            "bus_occupancy",
            bus_occupancy.bus_occupancy,
            ("bus_telemetry",),
            "route × UTC hour × stop",
            "Mean and max passengers, load factor, TCQSM load level, crowded share and GTFS-RT occupancy "
            "status distribution.",
            bus_occupancy.SCHEMA,
        ),
        MartSpec(
            "bus_window_stats",
            bus_window_stats.bus_window_stats,
            ("bus_telemetry",),
            "tumbling window × bus",
            "Min, max and mean passengers per bus in tumbling windows (20 min), with the fleet mean.",
            bus_window_stats.SCHEMA,
        ),
        MartSpec(
            "bus_headways",
            bus_headways.bus_headways,
            ("station_events",),
            "arrival of a bus at a station",
            "Actual and scheduled headway, their ratio and the bunched flag of every arrival.",
            bus_headways.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "route_performance",
            route_performance.route_performance,
            ("station_events",),
            "route × day",
            "On-time performance, AWT/SWT/EWT, headway cv and TCQSM level, bunching, run-time "
            "percentiles and mean delay.",
            route_performance.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "station_service",
            station_service.station_service,
            ("station_events",),
            "station × day and station × UTC hour",
            "Departures served vs scheduled, headway-based wait, dwell, on-time share, peak waiting, "
            "overcrowding events, boardings and alightings.",
            station_service.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "stop_visits",
            stop_visits.stop_visits,
            ("station_events",),
            "stop visit (TIDES v1.0 stop_visits)",
            "Scheduled and actual arrival and departure, dwell, boardings and alightings of every vehicle "
            "at every stop it served, in the TIDES stop_visits table's fields.",
            stop_visits.SCHEMA,
            history_days=1,
        ),
        MartSpec(
            "trips_performed",
            trips_performed.trips_performed,
            ("station_events",),
            "performed trip (TIDES v1.0 trips_performed)",
            "Vehicle, first and last stop, scheduled and actual start and end of every trip performed, in "
            "the TIDES trips_performed table's fields.",
            trips_performed.SCHEMA,
            history_days=1,
        ),
    )
}


def mart_spec(name: str) -> MartSpec:
    """The registered mart ``name``; ``KeyError`` naming the known marts otherwise."""
    try:
        return MARTS[name]
    except KeyError:
        msg = f"unknown mart {name!r}; known: {', '.join(MARTS)}"
        raise KeyError(msg) from None


def scan_dates(root: Path, dataset: str, day: Date, history_days: int | None) -> list[Date]:
    """The partition dates a mart of ``day`` reads: the day and ``history_days`` before it, or
    every landed date up to the day when ``history_days`` is ``None``."""
    if history_days is not None:
        return [day - timedelta(days=k) for k in range(history_days, -1, -1)]
    base = dataset_dir(Path(root), dataset)
    dates = []
    for path in base.glob("date=*") if base.exists() else ():
        try:
            landed = Date.fromisoformat(path.name.removeprefix("date="))
        except ValueError:
            continue
        if landed <= day:
            dates.append(landed)
    return sorted(dates)


def raw_inputs(name: str) -> tuple[str, ...]:
    """The raw datasets a mart depends on, through its upstream marts too."""
    spec = mart_spec(name)
    found = list(spec.datasets)
    for up in spec.upstream:
        found += [ds for ds in raw_inputs(up) if ds not in found]
    return tuple(found)


def landed_dates(root: Path, dataset: str) -> list[Date]:
    """Every date partition of a raw dataset, in order."""
    base = dataset_dir(Path(root), dataset)
    dates = []
    for path in base.glob("date=*") if base.exists() else ():
        try:
            dates.append(Date.fromisoformat(path.name.removeprefix("date=")))
        except ValueError:
            continue
    return sorted(dates)


def _in(day: Date, window: DateRange) -> bool:
    first, last = window
    return (first is None or day >= first) and day <= last


def _upstream_frame(root: Path, name: str, window: DateRange, how: Upstream) -> pl.LazyFrame:
    """Partitions of mart ``name`` in ``window``: read from the lake (``stored``) or computed from the
    raw data now (``compute``: for ad-hoc use on a lake whose upstream marts were never built)."""
    spec = mart_spec(name)
    if how == "stored":
        return scan_mart(root, name, window, spec.schema)
    days = {p for ds in raw_inputs(name) for d in landed_dates(root, ds) for p in spec.partitions(d)}
    parts = [compute_mart(name, root, p, upstream="compute").lazy() for p in sorted(days) if _in(p, window)]
    return pl.concat(parts) if parts else pl.DataFrame(schema=dict(spec.schema)).lazy()


def mart_inputs(name: str, root: Path | str, date: Date | datetime | str) -> list[Path]:
    """The lake files ``compute_mart(name, root, date, upstream="stored")`` reads."""
    spec = mart_spec(name)
    day = as_date(date)
    files = [f for ds in spec.datasets
             for f in dataset_files(Path(root), ds, scan_dates(Path(root), ds, day, spec.history_days))]
    return files + [f for up in spec.upstream for f in mart_files(root, up, spec.upstream_dates(day))]


def compute_mart(name: str, root: Path | str, date: Date | datetime | str, *, upstream: Upstream = "compute",
                 **params: Any) -> pl.DataFrame:
    """Compute mart ``name`` for ``date`` from the lake at ``root``.

    Scans only the partitions the mart needs (the day, the day before for rolling windows) and passes
    ``params`` to the builder (e.g. ``window="wmata"``). Upstream marts (``air_trends`` reads
    ``air_monthly``) are read from the lake with ``upstream="stored"``, as the flows do after
    building them; the default computes them from the raw data, for a lake where they are not stored.
    """
    spec = mart_spec(name)
    day = as_date(date)
    frames = {ds: scan(Path(root), ds, scan_dates(Path(root), ds, day, spec.history_days)) for ds in spec.datasets}
    for up in spec.upstream:
        frames[up] = _upstream_frame(Path(root), up, spec.upstream_dates(day), upstream)
    return spec.build(frames, day, **params)


__all__ = ["MARTS", "MartSpec", "compute_mart", "landed_dates", "mart_inputs", "mart_spec", "raw_inputs",
           "scan_dates"]
