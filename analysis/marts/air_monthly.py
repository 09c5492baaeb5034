"""Marts ``air_daily_sums`` and ``air_monthly``: the stored aggregates long-term trends are built from.

``air_trends`` needs the monthly mean of every pollutant at every sensor over the whole history.
Reading the raw history for it on every run would cost what the archive costs; instead each day's
readings are summed once, and each month's sums once, so a run reads one day of raw readings, one
month of daily sums and the monthly rows.

``air_daily_sums`` — grain: sensor × pollutant × averaging day, per raw partition date:

- ``date`` (date): the raw partition the readings were landed in (their event time's UTC day).
- ``sensor_id``, ``pollutant`` (``pm25`` … ``co``), ``day`` (date): the UTC day of the hour each
  reading counts towards (``reading_hour``: an end-marked reading at 00:00 counts towards the
  previous day, so ``day`` can be ``date`` − 1).
- ``micro_sum`` (Int64): the sum of the valid readings in micro-units (10⁻⁶ of the unit, rounded
  half-to-even, as every air mart); ``n`` (UInt32): how many. Readings are deduplicated by sensor
  and event time first, as in ``air_quality_hourly``.

``air_monthly`` — grain: sensor × pollutant × calendar month (UTC):

- ``date`` (date): the month's first day, also the partition. ``sensor_id``, ``pollutant``.
- ``micro_sum``, ``n``: the month's sums; ``value`` (Float64): the exact mean, ``micro_sum / n``
  as one correctly rounded division, so a month's mean equals the mean of its readings whatever
  the order they landed in.

The month's rows come from the daily sums of the partitions from its first day to the next
month's first day (which can hold the end-marked reading of the month's last hour).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from smartcity.analysis.marts._air import readings
from smartcity.analysis.marts._common import conform, exact_mean, micro_units
from smartcity.storage.datasets import POLLUTANT_COLUMNS

DAILY_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "sensor_id": pl.String(),
    "pollutant": pl.String(),
    "day": pl.Date(),
    "micro_sum": pl.Int64(),
    "n": pl.UInt32(),
}
MONTHLY_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "sensor_id": pl.String(),
    "pollutant": pl.String(),
    "micro_sum": pl.Int64(),
    "n": pl.UInt32(),
    "value": pl.Float64(),
}


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (month_start(day) + timedelta(days=32)).replace(day=1)


def months_touched(day: date) -> tuple[date, ...]:
    """The ``air_monthly`` partitions that raw readings landed on ``day`` can change: its month, and
    on a first day also the previous month (its last hour's end-marked reading)."""
    month = month_start(day)
    return (month_start(day - timedelta(days=1)), month) if day == month else (month,)


def settled_months(day: date) -> date:
    """The first day of the month after the last month ended by ``day``: trends as of two days with the
    same value read the same complete months (every ``air_monthly`` partition before it)."""
    return month_start(day + timedelta(days=1))


def monthly_inputs(month: date) -> tuple[date, date]:
    """The ``air_daily_sums`` partitions (first, last; inclusive) that the month ``month`` sums."""
    return month_start(month), next_month(month)


def air_daily_sums(readings_frame: pl.LazyFrame, day: date) -> pl.LazyFrame:
    """Per sensor, pollutant and averaging day: the micro-unit sum and count of one raw partition."""
    rows = readings(readings_frame)
    sums = []
    for name, column in POLLUTANT_COLUMNS.items():
        sums += [micro_units(column).sum().alias(f"s_{name}"), micro_units(column).count().alias(f"n_{name}")]
    wide = rows.group_by("sensor_id", pl.col("hour").dt.date().alias("day")).agg(sums)
    long = [
        wide.select("sensor_id", pl.lit(name).alias("pollutant"), "day",
                    pl.col(f"s_{name}").alias("micro_sum"), pl.col(f"n_{name}").alias("n"))
        for name in POLLUTANT_COLUMNS
    ]
    out = pl.concat(long).filter(pl.col("n") > 0).with_columns(pl.lit(day).alias("date"))
    return conform(out, DAILY_SCHEMA).sort("sensor_id", "pollutant", "day")


def month_totals(daily_frame: pl.LazyFrame) -> pl.LazyFrame:
    """``air_daily_sums`` rows summed per sensor, pollutant and month of their ``day``: the ``air_monthly``
    columns, ``date`` being the month's first day."""
    month = pl.col("day").dt.truncate("1mo").alias("date")
    totals = daily_frame.group_by("sensor_id", "pollutant", month).agg(pl.col("micro_sum").sum(), pl.col("n").sum())
    return conform(totals.with_columns(exact_mean("micro_sum", "n").alias("value")), MONTHLY_SCHEMA)


def air_monthly(daily_frame: pl.LazyFrame, day: date) -> pl.LazyFrame:
    """Per sensor and pollutant: the sums and exact mean of the month starting ``day`` (a first day)."""
    month = month_start(day)
    rows = daily_frame.filter((pl.col("day") >= month) & (pl.col("day") < next_month(month)))
    return month_totals(rows).sort("sensor_id", "pollutant")
