"""Build confluent-kafka client configurations from :class:`KafkaSettings`."""

from __future__ import annotations

import logging
from typing import Any

from ingest.kafka.local import running_state
from ingest.kafka.settings import KafkaSettings

DEFAULT_BOOTSTRAP = "localhost:9092"
CLIENT_LOGGER = logging.getLogger("smartcity.kafka.client")
"""librdkafka's own log lines (connection refused, ...): hidden unless the CLI runs with -v."""


def resolve_bootstrap(settings: KafkaSettings) -> str:
    """Configured servers, else the local broker recorded by ``smartcity kafka start``, else localhost:9092."""
    if settings.bootstrap_servers:
        return settings.bootstrap_servers
    state = running_state()
    return state.bootstrap_servers if state else DEFAULT_BOOTSTRAP


def client_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Common client config: bootstrap servers, client id, pass-through properties, then ``overrides``."""
    conf: dict[str, Any] = {
        "bootstrap.servers": resolve_bootstrap(settings),
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
