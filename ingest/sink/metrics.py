"""Prometheus metrics of the sink (one registry per sink, served on the metrics port)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from smartcity.ingest.kafka.stats import consumer_lags


@dataclass
class SinkMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.consumed = Counter("smartcity_ingest_messages_consumed", "Messages consumed", ["topic"], registry=r)
        self.rows = Counter("smartcity_ingest_rows_landed", "Rows landed in the lake", ["dataset"], registry=r)
        self.files = Counter("smartcity_ingest_files_landed", "Files landed in the lake", ["dataset"], registry=r)
        self.bytes = Counter("smartcity_ingest_bytes_landed", "Bytes of files landed", ["dataset"], registry=r)
        self.deadletters = Counter("smartcity_ingest_deadletters", "Messages sent to the dead-letter topic",
                                   ["topic", "stage"], registry=r)
        self.replays = Counter("smartcity_ingest_replays_dropped",
                               "Messages dropped because their device_seq was already landed for their device",
                               ["topic"], registry=r)
        self.lag = Gauge("smartcity_ingest_consumer_lag", "Messages behind the high watermark",
                         ["topic", "partition"], registry=r)
        self.batch_seconds = Histogram("smartcity_ingest_batch_seconds", "Decode, write and commit of one batch",
                                       buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=r)
        self.last_commit = Gauge("smartcity_ingest_last_commit_timestamp_seconds", "Time of the last offset commit",
                                 registry=r)
        self.waiting = Gauge("smartcity_ingest_waiting_for_kafka", "1 while landing waits for the broker to return",
                             registry=r)
        self.paused = Gauge("smartcity_ingest_paused", "1 while partitions are paused for back-pressure", registry=r)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve /metrics on ``host:port`` (loopback unless configured otherwise)."""
        start_http_server(port, addr=host, registry=self.registry)

    def on_stats(self, stats_json: str) -> None:
        """librdkafka statistics callback: per-partition consumer lag."""
        for topic, partition, lag in consumer_lags(stats_json):
            self.lag.labels(topic, partition).set(lag)
