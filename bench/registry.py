"""The experiments ``smartcity bench`` knows, in the order ``bench all`` runs them."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from smartcity.bench.core import BenchContext, Result

EXPERIMENTS: dict[str, tuple[str, str]] = {
    "producer": ("smartcity.bench.producer", "smartcity's producer vs Kafka's ProducerPerformance"),
    "sink": ("smartcity.bench.sink", "smartcity ingest vs a bare Kafka read; memory with a backlog"),
    "serialization": ("smartcity.bench.serialization", "JSON vs Protobuf: size, codec speed, produce-to-lake"),
    "batching": ("smartcity.bench.batching", "persisting every 3, 100, 10k messages: throughput and files"),
    "formats": ("smartcity.bench.formats", "CSV vs HDF5 vs Parquet vs SurrealDB: write speed, size, query time"),
    "partitions": ("smartcity.bench.partitions", "1, 8, 32 partitions with 1 and 2 sink group members"),
    "scale": ("smartcity.bench.scale", "a backlog drained by 1, 2, 3 sink members and under KEDA's lag rule"),
    "cluster": ("smartcity.bench.cluster", "replication factor 1/2/3 and 1 vs 3 brokers"),
    "limits": ("smartcity.bench.limits", "Kafka's ProducerPerformance/ConsumerPerformance vs smartcity"),
    "peers": ("smartcity.bench.peers", "the same landing with Quix Streams: throughput and memory"),
    "analytics": ("smartcity.bench.analytics", "the marts vs the pandas baseline at two data sizes"),
    "day_memory": ("smartcity.bench.day_memory", "peak memory of every mart over a 5M and a 20M-row day, per format"),
    "archive": ("smartcity.bench.archive", "one hourly run of each mart flow on 1 week, 6 months, 2 years of history"),
    "alerts": ("smartcity.bench.alerts", "produce-to-alert latency at 20k msgs/s and the sustained input rate"),
    "transports": ("smartcity.bench.transports", "devices into Kafka: direct vs ZeroMQ, Zenoh, MQTT via the gateway"),
    "live": ("smartcity.bench.live", "the live view: event-to-browser latency for 500 clients, one stalled"),
}


def available() -> dict[str, str]:
    out = {}
    for name, (module, text) in EXPERIMENTS.items():
        if importlib.util.find_spec(module) is not None:
            out[name] = text
    return out


def runner(name: str) -> Callable[[BenchContext], Result]:
    run: Callable[[BenchContext], Result] = importlib.import_module(EXPERIMENTS[name][0]).run
    return run
