"""What a mart is: its builder, the raw datasets and stored marts it reads, and which partitions a
change of raw data touches (see :class:`MartSpec`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any, Literal

import polars as pl

from smartcity.analysis.marts._common import as_date

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
    return a frame. The others return a lazy frame, collected on ``engine``: the air marts and
    ``station_service`` stream (Polars runs what it cannot stream, such as sorted grids and shifts, in
    memory), so the scan and the first aggregation of a day's rows stream: over a day of 2M air readings
    ``air_quality_hourly`` peaked at 1.2 GB in memory and 0.75 GB streaming, with the same table
    (``smartcity bench day_memory``). The marts of stop visits peak higher streaming, and stay in memory.
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
