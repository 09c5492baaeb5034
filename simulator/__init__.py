"""City simulator: a city model and seeded, streaming generators of bus telemetry, air-quality
readings and station events, plus fault injection and file output for testing consumers."""

from smartcity.simulator.air import air_history
from smartcity.simulator.cityio import default_city, load_city, write_city
from smartcity.simulator.config import (
    CrowdingEpisode,
    DelayEpisode,
    DwellParams,
    Episode,
    OutageEpisode,
    PollutionEpisode,
    SimConfig,
)
from smartcity.simulator.events import DOMAINS, SimEvent
from smartcity.simulator.faults import FaultCounts, FaultInjector, inject_faults
from smartcity.simulator.files import read_delimited, read_file, read_ndjson, write_stream
from smartcity.simulator.generate import generate_city
from smartcity.simulator.gtfs import import_gtfs
from smartcity.simulator.model import Bus, City, Headway, Route, Sensor, Stop, VehicleType
from smartcity.simulator.records import TOPICS, to_records
from smartcity.simulator.simulate import merge_by_time, simulate

__all__ = [
    "DOMAINS",
    "TOPICS",
    "Bus",
    "City",
    "CrowdingEpisode",
    "DelayEpisode",
    "DwellParams",
    "Episode",
    "FaultCounts",
    "FaultInjector",
    "Headway",
    "OutageEpisode",
    "PollutionEpisode",
    "Route",
    "Sensor",
    "SimConfig",
    "SimEvent",
    "Stop",
    "VehicleType",
    "air_history",
    "default_city",
    "generate_city",
    "import_gtfs",
    "inject_faults",
    "load_city",
    "merge_by_time",
    "read_delimited",
    "read_file",
    "read_ndjson",
    "simulate",
    "to_records",
    "write_city",
    "write_stream",
]
