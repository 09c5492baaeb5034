"""Build confluent-kafka client configurations from :class:`KafkaSettings`."""

from __future__ import annotations

import logging
from typing import Any

from smartcity.ingest.kafka.settings import DEFAULT_BOOTSTRAP, KafkaSettings

CLIENT_LOGGER = logging.getLogger("smartcity.kafka.client")
"""librdkafka's own log lines (connection refused, ...): hidden unless the CLI runs with -v."""


def client_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Common client config: bootstrap servers, client id, pass-through properties, then ``overrides``."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers or DEFAULT_BOOTSTRAP,
        "client.id": settings.client_id,
        "logger": CLIENT_LOGGER,
        "log.connection.close": False,
    }
    conf.update(settings.properties)
    conf.update(overrides)
    return conf


def producer_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """An idempotent, compressing, batching producer (acks=all)."""
    base = {
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "zstd",
        "linger.ms": 20,
        "batch.size": 1_000_000,
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 1_048_576,
    }
    base.update(overrides)
    return client_config(settings, **base)


def consumer_config(settings: KafkaSettings, group: str, **overrides: Any) -> dict[str, Any]:
    """A manual-commit consumer with fetch settings that keep a Python consumer fed."""
    base = {
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "queued.min.messages": 1_000_000,
        "fetch.min.bytes": 1_000_000,
        "fetch.wait.max.ms": 10,
        "enable.partition.eof": False,
    }
    base.update(overrides)
    return client_config(settings, **base)
