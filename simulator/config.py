"""Simulator knobs (:class:`SimConfig`) and scenario episodes injected into a run.

An episode is a frozen dataclass with a ``start`` and ``end`` (timezone-aware datetimes; naive
ones are read as UTC) and a target; each domain model applies the episodes that concern it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def to_ms(t: datetime) -> int:
    """Milliseconds since the Unix epoch; a naive datetime is taken as UTC."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return round(t.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class CrowdingEpisode:
    """Bus ``bus_id`` fills to ``load`` x total capacity at every stop it serves in the window.

    Extra passengers (an event crowd) join the queue at each stop and few alight until the last
    stop; occupancy still never exceeds the capacity.
    """

    bus_id: str
    start: datetime
    end: datetime
    load: float = 1.0


@dataclass(frozen=True, slots=True)
class PollutionEpisode:
    """Concentrations at ``sensor_id`` multiplied by ``factor`` (ramped in and out over 15 %
    of the window at each end) for the listed pollutants."""

    sensor_id: str
    start: datetime
    end: datetime
    factor: float = 4.0
    pollutants: tuple[str, ...] = ("pm25", "pm10", "no2", "co")


@dataclass(frozen=True, slots=True)
class DelayEpisode:
    """Run times between stops on ``route_id`` multiplied by ``factor`` for departures in the
    window (roadworks, an incident)."""

    route_id: str
    start: datetime
    end: datetime
    factor: float = 2.5


@dataclass(frozen=True, slots=True)
class OutageEpisode:
    """Sensor ``sensor_id`` sends nothing in the window (a power or network outage): a silent device."""

    sensor_id: str
    start: datetime
    end: datetime


Episode = CrowdingEpisode | PollutionEpisode | DelayEpisode | OutageEpisode

DEFAULT_TRENDS_PCT_PER_YEAR: dict[str, float] = {
    "pm25": -2.0,
    "pm10": -2.0,
    "no2": -3.0,
    "o3": 1.0,
    "so2": -4.0,
    "co": -2.5,
}


@dataclass(frozen=True, slots=True)
class DwellParams:
    """TCQSM dwell model ``t_d = P_a*t_a + P_b*t_b + t_oc`` (seconds).

    ``crowding_s`` is added to the boarding time per passenger when standees are on board.
    """

    alight_s: float = 2.0
    board_s: float = 3.0
    door_s: float = 4.0
    crowding_s: float = 0.5


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Every knob of a simulation run; the defaults are the documented behaviour."""

    bus_interval_s: float = 5.0  # telemetry period per bus (event time)
    air_interval_s: float = 60.0  # reading period per air sensor
    station_count_interval_s: float = 60.0  # PASSENGER_COUNT period per station
    demand_scale: float = 1.0  # multiplies every passenger arrival rate
    run_time_noise: float = 0.25  # lognormal sigma of each segment's run time
    trip_noise: float = 0.10  # lognormal sigma of a whole trip's run-time factor
    incident_rate: float = 0.04  # probability that a segment gets a 20-120 s hold-up
    incoming_m: float = 75.0  # INCOMING_AT within this distance of the next stop (m)
    min_layover_s: float = 90.0  # shortest turnaround at a terminal when running late (s)
    pullout_lead_s: float = 300.0  # a bus appears at its first stop this long before its first trip (s)
    layup_gap_s: float = 1800.0  # longer gaps between trips: the bus leaves service in between (s)
    max_waiting: int = 250  # passengers waiting for one route at one stop beyond this walk away
    on_schedule: bool = False  # no delays: every trip arrives and departs at its scheduled times to the second
    dwell: DwellParams = field(default_factory=DwellParams)
    trends_pct_per_year: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TRENDS_PCT_PER_YEAR))
    trend_reference: datetime = datetime(2020, 1, 1, tzinfo=UTC)  # trend factor is 1 here
    seasonal: bool = True  # annual cycles in weather and pollution
    missing_rate: float = 0.01  # probability that one pollutant is missing from a reading
    outage_rate_per_day: float = 0.03  # probability that a sensor has a silent period on a day
    episodes: tuple[Episode, ...] = ()

    def __post_init__(self) -> None:
        for name in ("bus_interval_s", "air_interval_s", "station_count_interval_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"`{name}` must be positive, got {getattr(self, name)}")
        if self.demand_scale < 0:
            raise ValueError(f"`demand_scale` must not be negative, got {self.demand_scale}")
        for name in ("missing_rate", "outage_rate_per_day", "incident_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"`{name}` must be a probability in [0, 1], got {getattr(self, name)}")

    def crowding(self) -> tuple[CrowdingEpisode, ...]:
        return tuple(e for e in self.episodes if isinstance(e, CrowdingEpisode))

    def pollution(self) -> tuple[PollutionEpisode, ...]:
        return tuple(e for e in self.episodes if isinstance(e, PollutionEpisode))

    def delays(self) -> tuple[DelayEpisode, ...]:
        return tuple(e for e in self.episodes if isinstance(e, DelayEpisode))

    def outages(self) -> tuple[OutageEpisode, ...]:
        return tuple(e for e in self.episodes if isinstance(e, OutageEpisode))
