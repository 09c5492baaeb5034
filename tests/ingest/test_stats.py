"""Consumer lag from librdkafka statistics."""

from __future__ import annotations

import json

from smartcity.ingest.kafka.stats import consumer_lags
from smartcity.ingest.sink.metrics import SinkMetrics


def test_lags_of_assigned_partitions_only() -> None:
    stats = {"topics": {"t": {"partitions": {"0": {"consumer_lag": 5}, "1": {"consumer_lag": -1},
                                             "-1": {"consumer_lag": 9}, "2": {"consumer_lag": 0}}}}}
    assert sorted(consumer_lags(json.dumps(stats))) == [("t", "0", 5), ("t", "2", 0)]
    assert list(consumer_lags("not json")) == []


def test_sink_metrics_export_the_lag() -> None:
    metrics = SinkMetrics()
    metrics.on_stats(json.dumps({"topics": {"bus": {"partitions": {"3": {"consumer_lag": 42}}}}}))
    value = metrics.registry.get_sample_value("smartcity_ingest_consumer_lag", {"topic": "bus", "partition": "3"})
    assert value == 42
