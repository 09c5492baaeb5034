"""Prometheus metrics of the edge gateway, each per transport (one registry per gateway)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


@dataclass
class EdgeMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r, p, t = self.registry, "smartcity_edge", ["transport"]
        self.received = Counter(f"{p}_messages_received", "Device messages received", t, registry=r)
        self.spooled = Counter(f"{p}_messages_spooled", "Messages written to the spool (fsynced)", t, registry=r)
        self.forwarded = Counter(f"{p}_messages_forwarded", "Messages acknowledged by Kafka", t, registry=r)
        self.deadletters = Counter(f"{p}_deadletters", "Messages forwarded to the dead-letter topic", t, registry=r)
        self.duplicates = Counter(f"{p}_duplicates_dropped", "Replays dropped (device_seq already seen)", t,
                                  registry=r)
        self.spool_bytes = Gauge(f"{p}_spool_bytes", "Bytes the spool holds", t, registry=r)
        self.spool_records = Gauge(f"{p}_spool_records", "Records spooled and not yet in Kafka", t, registry=r)
        self.spool_age = Gauge(f"{p}_spool_age_seconds", "Age of the oldest record not yet in Kafka", t, registry=r)
        self.spool_full = Gauge(f"{p}_spool_full", "1 while devices are held back because the spool is full", t,
                                registry=r)
        self.waiting = Gauge(f"{p}_waiting_for_kafka", "1 while forwarding waits for the broker", t, registry=r)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve /metrics on ``host:port`` (loopback unless configured otherwise)."""
        start_http_server(port, addr=host, registry=self.registry)
