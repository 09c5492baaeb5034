"""Simulator events as encoded Kafka-style records ``(topic, key, value, headers, event_time_ms)``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from smartcity.ingest.producer import Record
from smartcity.proto.codec import DOMAIN_CODECS, Encoding
from smartcity.simulator.events import SimEvent

TOPICS: dict[str, str] = {
    "bus": "smartcity.bus.telemetry",
    "air": "smartcity.air.readings",
    "station": "smartcity.station.events",
}
CODECS = DOMAIN_CODECS



def to_records(events: Iterable[SimEvent], encoding: Encoding = "protobuf", prefix: str = "",
               topics: Mapping[str, str] | None = None) -> Iterator[Record]:
    """Encode each event for its domain's topic: ``topics[domain]`` when given, else the default
    name with ``prefix`` prepended."""
    names = dict(topics) if topics is not None else {d: prefix + t for d, t in TOPICS.items()}
    headers = {d: c.headers(encoding) for d, c in CODECS.items()}
    for ev in events:
        codec = CODECS[ev.domain]
        yield (names[ev.domain], ev.key.encode(), codec.encode(ev.message, encoding),
               list(headers[ev.domain]), ev.event_time_ms)
