"""Computing a mart for a date from a lake: which partitions it reads, raw and stored."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from smartcity.analysis.marts._common import as_date
from smartcity.analysis.marts.registry import mart_spec
from smartcity.analysis.marts.spec import DateRange, Upstream
from smartcity.storage.layout import dataset_dir
from smartcity.storage.marts import mart_files, scan_mart
from smartcity.storage.scan import dataset_files, scan


def scan_dates(root: Path, dataset: str, day: Date, history_days: int | None) -> list[Date]:
    """The partition dates a mart of ``day`` reads: the day and ``history_days`` before it, or
    every landed date up to the day when ``history_days`` is ``None``."""
    if history_days is not None:
        return [day - timedelta(days=k) for k in range(history_days, -1, -1)]
    return [landed for landed in landed_dates(root, dataset) if landed <= day]


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
