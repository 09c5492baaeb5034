"""Errors of the Kafka layer."""

from __future__ import annotations

from proto.errors import SmartcityError


class BrokerError(SmartcityError):
    """The local broker could not be provisioned, started or stopped."""


class KafkaSetupError(SmartcityError):
    """A Kafka admin operation (topics, metadata) failed."""
