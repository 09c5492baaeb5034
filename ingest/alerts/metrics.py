"""Prometheus metrics of the alerting daemon (one registry per daemon, served on the metrics port)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from smartcity.ingest.kafka.stats import consumer_lags


@dataclass
class AlertMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        p = "smartcity_alerts"
        self.consumed = Counter(f"{p}_messages_consumed", "Input messages consumed", ["topic"], registry=r)
        self.invalid = Counter(f"{p}_messages_invalid", "Input messages that could not be decoded or failed "
                               "validation (the sink dead-letters them)", ["topic"], registry=r)
        self.late = Counter(f"{p}_late_events", "Events for windows already closed (beyond the grace period)",
                            ["stream"], registry=r)
        self.alerts = Counter(f"{p}_alerts", "Alert records committed", ["kind", "state"], registry=r)
        self.windows = Counter(f"{p}_windows", "Bus window records committed", registry=r)
        self.idle_closes = Counter(f"{p}_idle_closes", "Times an idle stream closed its open windows", registry=r)
        self.transactions = Counter(f"{p}_transactions", "Transactions committed", registry=r)
        self.aborts = Counter(f"{p}_transaction_aborts", "Transactions aborted (state rewound)", registry=r)
        self.commit_seconds = Histogram(f"{p}_commit_seconds", "Changelog, offsets and commit of one transaction",
                                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=r)
        self.restore_seconds = Histogram(f"{p}_restore_seconds", "Rebuilding assigned partitions' state",
                                         buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60), registry=r)
        self.changelog_records = Counter(f"{p}_changelog_records", "State records written to the changelog",
                                         registry=r)
        self.last_commit = Gauge(f"{p}_last_commit_timestamp_seconds", "Time of the last committed transaction",
                                 registry=r)
        self.watermark = Gauge(f"{p}_watermark_timestamp_seconds", "Event-time watermark of each stream",
                               ["stream"], registry=r)
        self.open_windows = Gauge(f"{p}_open_windows", "Windows open (bus windows and air buckets)", registry=r)
        self.lag = Gauge(f"{p}_consumer_lag", "Messages behind the high watermark", ["topic", "partition"],
                         registry=r)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve /metrics on ``host:port`` (loopback unless configured otherwise)."""
        start_http_server(port, addr=host, registry=self.registry)

    def on_stats(self, stats_json: str) -> None:
        """librdkafka statistics callback: per-partition consumer lag."""
        for topic, partition, lag in consumer_lags(stats_json):
            self.lag.labels(topic, partition).set(lag)
