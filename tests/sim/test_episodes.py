"""Scenario episodes: forced crowding on a bus, a pollution episode at a sensor, delays on a route."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from smartcity.simulator import City, CrowdingEpisode, DelayEpisode, PollutionEpisode, SimConfig, simulate

START = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)  # 10:00 local, off-peak
SEED = 3


def _run(city: City, config: SimConfig, domains: tuple[str, ...], hours: float = 1.5) -> list:
    return [e.message for e in simulate(city, START, timedelta(hours=hours), seed=SEED, domains=domains,
                                        config=config)]


def test_crowding_episode_fills_the_bus(city: City) -> None:
    bus = city.fleet[0]
    window = (START + timedelta(minutes=20), START + timedelta(minutes=60))
    config = SimConfig(episodes=(CrowdingEpisode(bus.bus_id, *window, load=1.0),))
    settled = window[0].timestamp() * 1000 + 10 * 60_000
    inside = [m for m in _run(city, config, ("bus",))
              if m.bus_id == bus.bus_id and settled <= m.event_time_ms < window[1].timestamp() * 1000]
    baseline = [m for m in _run(city, SimConfig(), ("bus",)) if m.bus_id == bus.bus_id]
    assert inside
    assert max(m.passengers for m in inside) == bus.capacity
    moving = [m.passengers for m in inside if m.speed_mps > 0]
    assert sum(p >= 0.95 * bus.capacity for p in moving) > 0.8 * len(moving)
    assert max(m.passengers for m in baseline) < bus.capacity
    assert all(m.passengers <= m.capacity for m in inside)


def test_pollution_episode_raises_one_sensor(city: City) -> None:
    sensor = city.sensors[3]
    window = (START + timedelta(minutes=10), START + timedelta(minutes=70))
    episode = PollutionEpisode(sensor.sensor_id, *window, factor=5.0, pollutants=("pm25",))
    config = SimConfig(episodes=(episode,))
    hit = {(m.sensor_id, m.event_time_ms): m for m in _run(city, config, ("air",))}
    base = {(m.sensor_id, m.event_time_ms): m for m in _run(city, SimConfig(), ("air",))}
    assert hit.keys() == base.keys()
    mid = (window[0].timestamp() + 1800) * 1000
    for key, m in hit.items():
        b = base[key]
        if not (m.HasField("pm25_ugm3") and b.HasField("pm25_ugm3")):
            continue
        in_window = window[0].timestamp() * 1000 <= key[1] < window[1].timestamp() * 1000
        if key[0] != sensor.sensor_id or not in_window:
            assert m.pm25_ugm3 == b.pm25_ugm3
        elif abs(key[1] - mid) < 15 * 60_000:
            assert m.pm25_ugm3 / b.pm25_ugm3 > 4.5
        assert m.no2_ppb == b.no2_ppb


def test_delay_episode_slows_a_route(city: City) -> None:
    route = city.routes[4].route_id
    window = (START, START + timedelta(hours=1))
    config = SimConfig(episodes=(DelayEpisode(route, *window, factor=2.5),))
    slow = [m.delay_s for m in _run(city, config, ("bus",)) if m.route_id == route]
    normal = [m.delay_s for m in _run(city, SimConfig(), ("bus",)) if m.route_id == route]
    assert statistics.fmean(slow) > statistics.fmean(normal) + 180
