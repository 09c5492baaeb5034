"""City simulator: a city model and seeded, streaming generators of bus telemetry, air-quality
readings and station events, plus fault injection and file output for testing consumers."""

from ingest.sim.air import air_history
from ingest.sim.cityio import default_city, load_city, write_city
from ingest.sim.config import (
    CrowdingEpisode,
    DelayEpisode,
    DwellParams,
    Episode,
    OutageEpisode,
    PollutionEpisode,
    SimConfig,
)
from ingest.sim.events import DOMAINS, SimEvent
from ingest.sim.faults import FaultCounts, FaultInjector, inject_faults
from ingest.sim.files import read_delimited, read_file, read_ndjson, write_stream
from ingest.sim.generate import generate_city
from ingest.sim.gtfs import import_gtfs
from ingest.sim.model import Bus, City, Headway, Route, Sensor, Stop, VehicleType
from ingest.sim.records import TOPICS, to_records
from ingest.sim.simulate import merge_by_time, simulate

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
