"""The air-quality model: weather and six pollutants at every sensor, as a pure function of time.

Concentration = (regional background + local traffic + industrial plume) x long-term trend x
sensor noise, where

* local traffic follows the shared traffic profile (morning and evening peaks on weekdays, a
  flatter and lower weekend), scaled by the site's ``emission_factor`` (roads high, parks low);
* dilution falls with wind speed, ``((u + 0.8) / 3.6) ** -0.85``, and a shallow night-time and
  winter boundary layer raises concentrations (NO2, CO and PM are higher at night and in winter);
* the industrial plume reaches a sensor when the wind blows from the emitter towards it and
  decays with distance (SO2, PM10, some NO2);
* O3 has an afternoon photochemical peak (larger in summer) and is titrated by local NO2, so it
  is anti-correlated with NO2 in time and lower at roadside sites;
* the trend is ``(1 + pct / 100) ** years`` since ``SimConfig.trend_reference``, per pollutant;
* weather (temperature, humidity, wind speed and direction) is one smooth random field for the
  city (synoptic scales of days, prevailing wind from the west-south-west) plus site offsets;
* noise is a smooth per-sensor drift (3 h) and white noise whose spread shrinks as the reading
  interval grows (a longer average is less noisy);
* each pollutant value goes missing with ``missing_rate``; each sensor goes silent once on a day
  with ``outage_rate_per_day`` for 30 min to 8 h, and for the whole of each ``OutageEpisode``.

All randomness is counter-based (:mod:`smartcity.simulator.noise`): the streaming readings and the
hourly :func:`air_history` are samples of the same process.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from smartcity.proto import AirQualityReading
from smartcity.simulator import noise
from smartcity.simulator.config import SimConfig, to_ms
from smartcity.simulator.events import SimEvent
from smartcity.simulator.model import POLLUTANTS, City, bearing_deg, haversine_m
from smartcity.simulator.profiles import at_hours
from smartcity.storage.datasets import POLLUTANT_COLUMNS

FIELDS = POLLUTANT_COLUMNS
WEATHER_FIELDS = ("temperature_c", "humidity_pct", "wind_speed_mps", "wind_dir_deg")
COLUMNS: tuple[str, ...] = ("sensor_id", "event_time_ms", "latitude", "longitude", *FIELDS.values(),
                            *WEATHER_FIELDS)
_DECIMALS = {"pm25_ugm3": 1, "pm10_ugm3": 1, "no2_ppb": 1, "o3_ppb": 1, "so2_ppb": 1, "co_ppm": 3,
             "temperature_c": 1, "humidity_pct": 1, "wind_speed_mps": 1, "wind_dir_deg": 0}
_YEAR_MS = 365.2425 * 86_400_000
_TWO_PI = 2.0 * math.pi
_SITE_TEMP = {"road": 0.6, "industrial": 0.4, "background": 0.0, "park": -0.8}
_SITE_WIND = {"road": 0.85, "industrial": 1.0, "background": 0.95, "park": 1.1}
_DRIFT_SIGMA = 0.12
_WHITE_SIGMA_1MIN = 0.10


def _utc_offset_s(t_s: int, tz: ZoneInfo) -> float:
    """Seconds ``tz`` is ahead of UTC at ``t_s`` (seconds since the epoch)."""
    offset = datetime.fromtimestamp(t_s, tz).utcoffset()
    assert offset is not None  # an aware datetime always has one
    return offset.total_seconds()


class AirModel:
    """Evaluates weather and concentrations for every sensor of a city at any instants."""

    def __init__(self, city: City, seed: int, config: SimConfig) -> None:
        self.city = city
        self.cfg = config
        self.tz = ZoneInfo(city.timezone)
        self.sensors = city.sensors
        n = len(self.sensors)
        self.index = np.arange(n, dtype=np.int64)
        self.emission = np.array([s.emission_factor for s in self.sensors], dtype=np.float64)
        self.temp_offset = np.array([_SITE_TEMP.get(s.site_type, 0.0) for s in self.sensors])
        self.wind_exposure = np.array([_SITE_WIND.get(s.site_type, 1.0) for s in self.sensors])
        self.measures = {p: np.array([p in s.pollutants for s in self.sensors], dtype=bool)
                         for p in POLLUTANTS}
        if city.industrial_source is not None:
            lat0, lon0 = city.industrial_source
            self.src_dist = np.array([haversine_m(lat0, lon0, s.lat, s.lon) for s in self.sensors])
            self.src_bearing = np.radians([bearing_deg(lat0, lon0, s.lat, s.lon) for s in self.sensors])
            self.plume_scale = 1.0
        else:
            self.src_dist = np.full(n, 1e9)
            self.src_bearing = np.zeros(n)
            self.plume_scale = 0.0
        self.keys = {name: noise.key(seed, "air", name) for name in (
            "t1", "t2", "w1", "w2", "d1", "d2", "rh", "reg", "reg2", "o3", "o3b",
            "out", "out_start", "out_len",
            *(f"drift_{p}" for p in POLLUTANTS), *(f"white_{p}" for p in POLLUTANTS),
            *(f"miss_{p}" for p in POLLUTANTS))}
        self.trend_ref_ms = to_ms(config.trend_reference)
        position = {s.sensor_id: i for i, s in enumerate(self.sensors)}
        self.episodes = [(position[ep.sensor_id], to_ms(ep.start), to_ms(ep.end), ep.factor, ep.pollutants)
                         for ep in config.pollution() if ep.sensor_id in position]
        self.outages = [(position[ep.sensor_id], to_ms(ep.start), to_ms(ep.end))
                        for ep in config.outages() if ep.sensor_id in position]

    def _local(self, t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Local hour of day, service index (0 weekday, 1 saturday, 2 sunday) and day number."""
        hours = t_ms // 3_600_000
        uniq, inv = np.unique(hours, return_inverse=True)
        offsets = np.array([_utc_offset_s(int(h) * 3600, self.tz) for h in uniq])
        local_s = t_ms / 1000.0 + offsets[inv].reshape(t_ms.shape)
        day = np.floor(local_s / 86_400.0)
        hod = (local_s - day * 86_400.0) / 3600.0
        dow = (day.astype(np.int64) + 3) % 7
        service = np.where(dow < 5, 0, np.where(dow == 5, 1, 2))
        return hod, service, day

    def evaluate(self, t_ms: np.ndarray, interval_s: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fields for readings at ``t_ms`` (shape (T, S) or (T, 1), one column per sensor).

        Returns the mask of readings that exist (sensor not silent) and every reading field as a
        (T, S) float array, NaN where the value is missing or not measured.
        """
        cfg = self.cfg
        k = self.keys
        t_ms = np.asarray(t_ms, dtype=np.int64)
        shape = np.broadcast_shapes(t_ms.shape, (1, len(self.sensors)))
        th = t_ms / 3_600_000.0
        hod, service, day = self._local(t_ms)
        season = np.cos(_TWO_PI * (day - 14.0) / 365.2425) if cfg.seasonal else np.zeros_like(hod)
        sidx = self.index

        base_temp = 10.5 - 9.5 * season
        temp = (base_temp + 4.0 * np.cos(_TWO_PI * (hod - 15.0) / 24.0) + self.temp_offset
                + 3.0 * noise.smooth(k["t1"], th, 60.0) + 1.0 * noise.smooth(k["t2"], th, 8.0))
        daytime = np.clip(np.sin(math.pi * (hod - 6.0) / 14.0), 0.0, None)
        synoptic = 0.30 * noise.smooth(k["w1"], th, 36.0) + 0.30 * noise.smooth(k["w2"], th, 6.0)
        wind = 2.8 * np.exp(synoptic - 0.09) * (1.0 + 0.25 * daytime) * self.wind_exposure
        veer = 55.0 * noise.smooth(k["d1"], th, 30.0) + 20.0 * noise.smooth(k["d2"], th, 5.0)
        wind_dir = np.mod(235.0 + veer, 360.0)
        humidity = np.clip(72.0 + 10.0 * season - 2.2 * (temp - base_temp)
                           + 8.0 * noise.smooth(k["rh"], th, 24.0), 15.0, 100.0)

        dilution = ((wind + 0.8) / 3.6) ** -0.85
        mixing = 1.0 + 0.30 * np.cos(_TWO_PI * (hod - 5.0) / 24.0) + 0.15 * season
        regional = np.exp(0.18 * noise.smooth(k["reg"], th, 72.0) + 0.18 * noise.smooth(k["reg2"], th, 12.0)
                          - 0.0324)
        traffic = at_hours("traffic", service, hod)
        local = self.emission * (0.12 + traffic) * dilution * mixing
        work = np.where((service == 0) & (hod >= 6.0) & (hod < 22.0), 1.0, 0.5)
        align = np.exp(3.0 * (np.cos(np.radians(wind_dir + 180.0) - self.src_bearing) - 1.0))
        near = np.exp(-self.src_dist / 300.0)
        reach = (near + (1.0 - near) * align) * np.exp(-self.src_dist / 1000.0)
        plume = self.plume_scale * work * dilution * reach

        years = (t_ms - self.trend_ref_ms) / _YEAR_MS

        def trend(p: str) -> np.ndarray:
            return (1.0 + cfg.trends_pct_per_year.get(p, 0.0) / 100.0) ** years

        white = _WHITE_SIGMA_1MIN * math.sqrt(60.0 / max(interval_s, 1.0))
        secs = t_ms // 1000

        def noisy(p: str, value: np.ndarray) -> np.ndarray:
            z = (_DRIFT_SIGMA * noise.smooth(k[f"drift_{p}"], th, 3.0, sidx)
                 + white * noise.normal(k[f"white_{p}"], secs, sidx))
            return value * np.exp(z - 0.5 * (_DRIFT_SIGMA ** 2 + white ** 2))

        no2_local = (14.0 * local + 4.0 * plume) * trend("no2")
        conc = {
            "no2": noisy("no2", 7.0 * (1.0 + 0.3 * season) * np.sqrt(regional) * mixing * trend("no2")
                         + no2_local),
            "co": noisy("co", (0.15 * (1.0 + 0.2 * season) + 0.22 * local + 0.05 * plume) * trend("co")),
            "pm25": noisy("pm25", (7.5 * (1.0 + 0.35 * season) * regional + 2.2 * local + 3.0 * plume)
                          * trend("pm25")),
            "pm10": noisy("pm10", (11.0 * (1.0 + 0.25 * season) * regional + 5.0 * local + 12.0 * plume)
                          * trend("pm10")),
            "so2": noisy("so2", (0.8 + 0.1 * local + 30.0 * plume) * trend("so2")),
        }
        photo = (0.35 - 0.25 * season) * np.cos(_TWO_PI * (hod - 15.0) / 24.0)
        background_o3 = np.exp(0.12 * noise.smooth(k["o3"], th, 48.0)
                               + 0.12 * noise.smooth(k["o3b"], th, 8.0))
        ozone = 30.0 * (1.0 - 0.25 * season) * (1.0 + photo) * background_o3
        conc["o3"] = noisy("o3", np.maximum(1.0, ozone - 0.55 * no2_local) * trend("o3"))
        conc["pm10"] = np.maximum(conc["pm10"], 1.05 * conc["pm25"])
        for s, a, b, factor, pollutants in self.episodes:
            ts = t_ms[:, min(s, t_ms.shape[1] - 1)]
            ramp = np.clip(np.minimum(ts - a, b - ts) / max(1.0, 0.15 * (b - a)), 0.0, 1.0)
            gain = 1.0 + (factor - 1.0) * ramp * ramp * (3.0 - 2.0 * ramp)
            for p in pollutants:
                if p in conc:
                    conc[p][:, s] *= gain

        out: dict[str, np.ndarray] = {}
        for p, name in FIELDS.items():
            value = np.broadcast_to(conc[p], shape)
            missing = (noise.uniform(k[f"miss_{p}"], secs, sidx) < cfg.missing_rate) | ~self.measures[p]
            out[name] = np.where(missing, np.nan, np.round(value, _DECIMALS[name]))
        for name, value in zip(WEATHER_FIELDS, (temp, humidity, wind, wind_dir), strict=True):
            out[name] = np.round(np.broadcast_to(value, shape), _DECIMALS[name])
        return self._present(t_ms, shape), out

    def _present(self, t_ms: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        rate = self.cfg.outage_rate_per_day
        present = np.ones(shape, dtype=bool)
        for s, a, b in self.outages:
            ts = np.broadcast_to(t_ms, shape)[:, s]
            present[:, s] &= (ts < a) | (ts >= b)
        if rate <= 0:
            return present
        k = self.keys
        secs = np.broadcast_to(t_ms // 1000, shape)
        today = secs // 86_400
        for d in (today, today - 1):
            hit = noise.uniform(k["out"], d, self.index) < rate
            begin = d * 86_400 + noise.uniform(k["out_start"], d, self.index) * 86_400
            length = 1800.0 * np.exp(noise.uniform(k["out_len"], d, self.index) * math.log(16.0))
            present &= ~(hit & (secs >= begin) & (secs < begin + length))
        return present


def _phases(n: int, interval_ms: int) -> np.ndarray:
    return ((np.arange(n) * 0.6180339887498949) % 1.0 * interval_ms).astype(np.int64)


def air_stream(city: City, start_ms: int, end_ms: int, seed: int, config: SimConfig) -> Iterator[SimEvent]:
    """Readings of every sensor every ``air_interval_s`` (each sensor at its own phase), in time order."""
    if not city.sensors:
        return
    model = AirModel(city, seed, config)
    interval = round(config.air_interval_s * 1000)
    phases = _phases(len(city.sensors), interval)
    order = np.argsort(phases, kind="stable").tolist()
    block = max(1, round(3600_000 / interval))
    ids = [s.sensor_id for s in city.sensors]
    lats = [s.lat for s in city.sensors]
    lons = [s.lon for s in city.sensors]
    window = start_ms - start_ms % interval
    names = (*FIELDS.values(), *WEATHER_FIELDS)
    while window < end_ms:
        t = window + np.arange(block, dtype=np.int64)[:, None] * interval + phases[None, :]
        present, fields = model.evaluate(t, config.air_interval_s)
        t_rows = t.tolist()
        ok_rows = present.tolist()
        cols = [fields[name].tolist() for name in names]
        for r in range(block):
            times = t_rows[r]
            ok = ok_rows[r]
            for s in order:
                ts = times[s]
                if not ok[s] or ts < start_ms or ts >= end_ms:
                    continue
                values = {name: col[r][s] for name, col in zip(names, cols, strict=True)
                          if col[r][s] == col[r][s]}
                yield SimEvent("air", ids[s], ts, AirQualityReading(
                    sensor_id=ids[s], event_time_ms=ts, latitude=lats[s], longitude=lons[s], **values))
        window += block * interval


def air_history(city: City, start: datetime, end: datetime, seed: int,
                config: SimConfig | None = None) -> pl.DataFrame:
    """Hourly readings of every sensor from ``start`` (rounded up to the hour) to ``end`` (exclusive).

    Columns are exactly the :class:`AirQualityReading` field names; missing values are null and
    silent sensor-hours have no row. Rows are ordered by time, then by sensor.
    """
    cfg = config or SimConfig()
    model = AirModel(city, seed, cfg)
    hour = 3_600_000
    first = -(-to_ms(start) // hour) * hour
    last = to_ms(end)
    frames = []
    chunk = 24 * 31
    ids = np.array([s.sensor_id for s in city.sensors], dtype=object)
    lats = np.array([s.lat for s in city.sensors])
    lons = np.array([s.lon for s in city.sensors])
    for t0 in range(first, last, chunk * hour):
        t = np.arange(t0, min(last, t0 + chunk * hour), hour, dtype=np.int64)[:, None]
        present, fields = model.evaluate(t, 3600.0)
        rows, cols = np.nonzero(present)
        data: dict[str, pl.Series] = {
            "sensor_id": pl.Series("sensor_id", ids[cols].tolist(), dtype=pl.String),
            "event_time_ms": pl.Series("event_time_ms", t[rows, 0], dtype=pl.Int64),
            "latitude": pl.Series("latitude", lats[cols], dtype=pl.Float64),
            "longitude": pl.Series("longitude", lons[cols], dtype=pl.Float64),
        }
        for name in (*FIELDS.values(), *WEATHER_FIELDS):
            data[name] = pl.Series(name, fields[name][rows, cols], dtype=pl.Float64, nan_to_null=True)
        frames.append(pl.DataFrame(data))
    if not frames:
        return pl.DataFrame(schema={c: (pl.String if c == "sensor_id" else pl.Int64 if c == "event_time_ms"
                                        else pl.Float64) for c in COLUMNS})
    return pl.concat(frames).select(COLUMNS)
