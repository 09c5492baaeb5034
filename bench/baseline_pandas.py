"""A straightforward pandas version of three marts, the baseline the benchmarks compare with.

``bus_occupancy``, ``bus_headways`` and ``air_quality_hourly`` are written the way an analyst would
write them in pandas (group-bys, shifts, per-value lookups with the scalar AQI functions), following
the rules of ``smartcity.analysis.marts`` step by step so that they give the same numbers. pandas is imported
inside the functions: nothing else in smartcity needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcity.analysis.air.aqi import AQI_GROUPS, aqi, aqi_category, o3_aqi, so2_aqi
from smartcity.analysis.air.eaqi import EAQI_LEVELS, eaqi_level
from smartcity.analysis.air.units import MOLAR_MASS, MOLAR_VOLUME_20C, Gas
from smartcity.analysis.marts._bus import OCCUPANCY_STATUSES
from smartcity.analysis.marts._common import MICRO, as_date, day_start
from smartcity.analysis.transit.load import passenger_load_los
from smartcity.storage.datasets import POLLUTANT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

TRIP_GAP_MS = 3 * 3_600_000
MAX_HEADWAY_MS = 120 * 60_000


def load(root: Path | str, dataset: str, dates: list[date]) -> pd.DataFrame:
    """Rows of a raw dataset of ``dates`` as a pandas frame (timestamps tz-aware UTC)."""
    from smartcity.storage.scan import read_table

    frame: pd.DataFrame = read_table(Path(root), dataset, dates).to_pandas()  # pyarrow is untyped
    return frame


def _on_day(times: pd.Series, day: date) -> pd.Series:
    import pandas as pd

    start = pd.Timestamp(day_start(day))
    return (times >= start) & (times < start + pd.Timedelta(days=1))


def _first_landed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values([*keys, "_partition", "_offset"], kind="stable").drop_duplicates(keys, keep="first")


def bus_occupancy(telemetry: pd.DataFrame, day: date | str, crowded_at: float = 0.8) -> pd.DataFrame:
    """``smartcity.analysis.marts.bus_occupancy`` in pandas."""
    import pandas as pd

    day = as_date(day)
    df = telemetry[_on_day(telemetry["event_time"], day) & (telemetry["route_id"] != "")
                   & (telemetry["next_stop_id"] != "")]
    df = df.drop_duplicates(["bus_id", "event_time_ms"]).copy()
    df["hour"] = df["event_time"].dt.floor("h")
    seated = df["seated_capacity"] > 0
    df["p_seated"] = df["passengers"].where(seated)
    df["seats"] = df["seated_capacity"].where(seated)
    df["load"] = (df["passengers"] / df["seated_capacity"]).where(seated)
    df["crowded"] = (df["passengers"] > crowded_at * df["capacity"]).astype(float).where(df["capacity"] > 0)
    for status in OCCUPANCY_STATUSES:
        df[status] = (df["occupancy_status"] == status).astype(np.int64)
    out = df.groupby(["route_id", "hour", "next_stop_id"]).agg(
        readings=("bus_id", "size"),
        buses=("bus_id", "nunique"),
        p_sum=("passengers", "sum"),
        passengers_max=("passengers", "max"),
        p_seated=("p_seated", "sum"),
        seats=("seats", "sum"),
        load_factor_max=("load", "max"),
        n_crowded=("crowded", "sum"),
        n_capacity=("crowded", "count"),
        **{status: (status, "sum") for status in OCCUPANCY_STATUSES},
    ).reset_index().rename(columns={"next_stop_id": "stop_id"})
    readings = out["readings"].astype(float)
    out["date"] = day
    out["passengers_mean"] = out["p_sum"] / readings
    out["load_factor_mean"] = (out["p_seated"] / out["seats"]).where(out["seats"] > 0)

    def load_los(v: float | None) -> str | None:
        return None if pd.isna(v) else passenger_load_los(v)

    out["load_los"] = out["load_factor_mean"].map(load_los)
    out["crowded_share"] = (out["n_crowded"] / out["n_capacity"]).where(out["n_capacity"] > 0)
    for status in OCCUPANCY_STATUSES:
        out[f"share_{status.lower()}"] = out[status] / readings
    return out.sort_values(["route_id", "hour", "stop_id"]).reset_index(drop=True)


def _service_events(events: pd.DataFrame) -> pd.DataFrame:
    keys = ["station_id", "kind", "bus_id", "trip_id", "event_time_ms"]
    df = _first_landed(events, keys)
    df = df[df["kind"].isin(["ARRIVAL", "DEPARTURE"]) & (df["route_id"] != "") & (df["actual_time_ms"] > 0)].copy()
    df["actual_ms"] = df["actual_time_ms"]
    df["scheduled_ms"] = df["scheduled_time_ms"].where(df["scheduled_time_ms"] > 0)
    df = df.sort_values(["route_id", "trip_id", "actual_ms", "kind", "station_id", "bus_id"])
    gap = df.groupby(["route_id", "trip_id"])["actual_ms"].diff() > TRIP_GAP_MS
    df["instance"] = gap.astype(int).groupby([df["route_id"], df["trip_id"]]).cumsum()
    firsts = (df.sort_values(["stop_sequence", "actual_ms", "kind"])
              .groupby(["route_id", "trip_id", "instance"])["station_id"].first().rename("origin_id"))
    return df.join(firsts, on=["route_id", "trip_id", "instance"])


def bus_headways(events: pd.DataFrame, day: date | str, kind: str = "ARRIVAL") -> pd.DataFrame:
    """``smartcity.analysis.marts.bus_headways`` (TransitMatters bunching, 120-min breaks) in pandas."""
    import pandas as pd

    day = as_date(day)
    keys = ["route_id", "origin_id", "station_id"]
    df = _service_events(events)
    df = df[df["kind"] == kind].sort_values([*keys, "actual_ms", "bus_id", "trip_id"])
    grouped = df.groupby(keys)
    df["prev_actual"] = grouped["actual_ms"].shift(1)
    df["prev_bus"] = grouped["bus_id"].shift(1)
    by_schedule = df.sort_values([*keys, "scheduled_ms", "actual_ms", "bus_id", "trip_id"], na_position="last")
    df["prev_scheduled"] = by_schedule.groupby(keys)["scheduled_ms"].shift(1)
    actual = df["actual_ms"] - df["prev_actual"]
    scheduled = df["scheduled_ms"] - df["prev_scheduled"]
    service_break = (actual > MAX_HEADWAY_MS) | (scheduled > MAX_HEADWAY_MS)
    df["actual_headway_s"] = (actual / 1000.0).where(~service_break)
    df["scheduled_headway_s"] = (scheduled / 1000.0).where(~service_break)
    df["prev_bus_id"] = df["prev_bus"].where(~service_break & df["prev_bus"].notna(), None)
    a, s = df["actual_headway_s"], df["scheduled_headway_s"]
    paired = (s > 0) & (a >= 0)
    df["headway_ratio"] = (a / s).where(paired)
    df["bunched"] = (a <= 0.5 * s).astype(object).where(paired, None)
    df["gapped"] = (a >= 1.25 * s).astype(object).where(paired, None)  # Swiftly's gap, the mart's default
    start = int(day_start(day).timestamp() * 1000)
    df = df[(df["actual_ms"] >= start) & (df["actual_ms"] < start + 86_400_000)].copy()
    df["date"] = day
    df["scheduled_time"] = pd.to_datetime(df["scheduled_ms"], unit="ms", utc=True)
    df["actual_time"] = pd.to_datetime(df["actual_ms"], unit="ms", utc=True)
    df["delay_s"] = (df["actual_ms"] - df["scheduled_ms"]) / 1000.0
    return df.sort_values([*keys, "actual_time", "bus_id"]).reset_index(drop=True)


def _nowcast(hours: np.ndarray) -> np.ndarray:
    """NowCast per row of a (rows, 12) array of hourly values, newest first; NaN marks a missing hour.
    The operations follow ``smartcity.analysis.air.nowcast`` in the same order, so the floats agree."""
    valid = np.isfinite(hours) & (hours >= 0)
    values = np.where(valid, hours, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_max = np.nanmax(np.where(valid, values, -np.inf), axis=1)
        c_min = np.nanmin(np.where(valid, values, np.inf), axis=1)
        weight = np.maximum(1.0 - (c_max - c_min) / c_max, 0.5)
        numerator = np.zeros(len(hours))
        denominator = np.zeros(len(hours))
        power = np.ones(len(hours))
        for k in range(hours.shape[1]):
            numerator = numerator + np.where(valid[:, k], power * np.nan_to_num(values[:, k]), 0.0)
            denominator = denominator + np.where(valid[:, k], power, 0.0)
            power = power * weight
        result = np.where(c_max == 0, 0.0, numerator / denominator)
    return np.where(valid[:, :3].sum(axis=1) >= 2, result, np.nan)


def _lookup(values: pd.Series, rule: Any) -> pd.arrays.IntegerArray:
    """A scalar rule applied once per distinct value."""
    import pandas as pd

    table = {v: rule(v) for v in values.dropna().unique()}
    return pd.array([None if pd.isna(v) else table[v] for v in values], dtype="Int64")


def _category_name(value: int) -> str:
    """Name of the AQI category of a (non-null) AQI value."""
    category = aqi_category(value)
    assert category is not None  # None only for a None value
    return category.name


def air_quality_hourly(readings: pd.DataFrame, day: date | str) -> pd.DataFrame:
    """``smartcity.analysis.marts.air_quality_hourly`` in pandas."""
    import pandas as pd

    day = as_date(day)
    start = pd.Timestamp(day_start(day) - timedelta(days=1))
    hour = readings["event_time"].dt.floor("h")  # the hour a reading counts towards: averaging_hour if known
    if "averaging_hour" in readings:
        hour = readings["averaging_hour"].fillna(hour)
    df = readings.assign(hour=hour)
    df = df[(df["hour"] >= start) & (df["hour"] < start + pd.Timedelta(days=2))]
    df = _first_landed(df, ["sensor_id", "event_time_ms"]).copy()
    for column in POLLUTANT_COLUMNS.values():
        value = df[column]
        df[f"micro_{column}"] = np.rint(value.where(np.isfinite(value) & (value >= 0)) * MICRO).astype("Int64")
    last = df.sort_values("event_time_ms").groupby(["sensor_id", "hour"])[["latitude", "longitude"]].last()
    sums = df.groupby(["sensor_id", "hour"]).agg(
        n_readings=("event_time_ms", "size"),
        **{f"s_{c}": (f"micro_{c}", "sum") for c in POLLUTANT_COLUMNS.values()},
        **{f"n_{c}": (f"micro_{c}", "count") for c in POLLUTANT_COLUMNS.values()},
    )
    hourly = sums.join(last)
    for c in POLLUTANT_COLUMNS.values():
        n = hourly[f"n_{c}"].astype(float)
        hourly[c] = (hourly[f"s_{c}"].astype(float) / (n * MICRO)).where(n > 0)
    hours = pd.date_range(start, periods=48, freq="h")
    sensors = sorted(hourly.index.get_level_values("sensor_id").unique())
    grid = hourly.reindex(pd.MultiIndex.from_product([sensors, hours], names=["sensor_id", "hour"])).reset_index()
    by_sensor = grid.groupby("sensor_id")
    for column, output in (("pm25_ugm3", "pm25_nowcast_ugm3"), ("pm10_ugm3", "pm10_nowcast_ugm3")):
        lagged = np.column_stack([by_sensor[column].shift(k).to_numpy(dtype=float) for k in range(12)])
        grid[output] = _nowcast(lagged)
    for column, output, scale in (("o3_ppb", "o3_8h_ppm", 1000.0), ("co_ppm", "co_8h_ppm", 1.0)):
        total = pd.Series(0.0, index=grid.index)
        count = pd.Series(0, index=grid.index)
        for k in range(8):
            lag = by_sensor[column].shift(k)
            total = total + lag.fillna(0.0)
            count = count + lag.notna().astype(int)
        mean = (total / count).where(count >= 6)
        grid[output] = mean / scale if scale != 1.0 else mean
    df = grid[_on_day(grid["hour"], day) & grid["n_readings"].notna()].copy()
    df["aqi_pm25"] = _lookup(df["pm25_nowcast_ugm3"], lambda v: aqi("pm25", v))
    df["aqi_pm10"] = _lookup(df["pm10_nowcast_ugm3"], lambda v: aqi("pm10", v))
    df["aqi_no2"] = _lookup(df["no2_ppb"], lambda v: aqi("no2", v))
    df["aqi_so2"] = _lookup(df["so2_ppb"], lambda v: so2_aqi(so2_1h=v))
    df["aqi_co"] = _lookup(df["co_8h_ppm"], lambda v: aqi("co", v))
    df["aqi_o3"] = pd.array(
        [o3_aqi(None if pd.isna(a) else a, None if pd.isna(b) else b / 1000.0)
         for a, b in zip(df["o3_8h_ppm"], df["o3_ppb"], strict=True)],
        dtype="Int64",
    )
    subs = df[[f"aqi_{group}" for group in AQI_GROUPS]]
    df["aqi"] = subs.max(axis=1, skipna=True).astype("Int64")
    df["aqi_dominant"] = [
        next((g for g in AQI_GROUPS if not pd.isna(row[f"aqi_{g}"]) and row[f"aqi_{g}"] == row["aqi"]), None)
        if not pd.isna(row["aqi"]) else None
        for _, row in df.iterrows()
    ]
    df["aqi_category"] = [None if pd.isna(v) else _category_name(int(v)) for v in df["aqi"]]
    levels = [df[column].map(lambda v, p=name: eaqi_level(p, v)) for name, column in (("pm25", "pm25_ugm3"),
                                                                                     ("pm10", "pm10_ugm3"))]
    gases: tuple[tuple[Gas, str], ...] = (("no2", "no2_ppb"), ("o3", "o3_ppb"), ("so2", "so2_ppb"))
    for gas, column in gases:
        converted = df[column] * MOLAR_MASS[gas] / MOLAR_VOLUME_20C
        levels.append(converted.map(lambda v, g=gas: eaqi_level(g, v)))
    level = pd.concat(levels, axis=1).max(axis=1, skipna=True)
    df["eaqi_level"] = level.astype("Int8")
    df["eaqi_name"] = [None if pd.isna(v) else EAQI_LEVELS[int(v) - 1].name for v in level]
    df["date"] = day
    return df.sort_values(["sensor_id", "hour"]).reset_index(drop=True)


BASELINES: dict[str, tuple[Callable[[pd.DataFrame, date], pd.DataFrame], str, int]] = {
    "bus_occupancy": (bus_occupancy, "bus_telemetry", 0),
    "bus_headways": (bus_headways, "station_events", 1),
    "air_quality_hourly": (air_quality_hourly, "air_readings", 1),
}


def compute(name: str, root: Path | str, day: date | str) -> pd.DataFrame:
    """Load what the mart ``name`` needs from the lake and compute it with pandas."""
    try:
        function, dataset, history = BASELINES[name]
    except KeyError:
        msg = f"no pandas baseline for {name!r}; there are {', '.join(BASELINES)}"
        raise KeyError(msg) from None
    when = as_date(day)
    frame = load(root, dataset, [when - timedelta(days=k) for k in range(history, -1, -1)])
    return function(frame, when)
