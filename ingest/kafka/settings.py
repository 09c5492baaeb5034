"""Kafka settings: where the cluster is, how topics are named and created, client pass-through."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_BOOTSTRAP = "localhost:9092"
TOPIC_SUFFIXES = {
    "bus": "bus.telemetry",
    "air": "air.readings",
    "station": "station.events",
    "alerts": "alerts",
    "deadletter": "deadletter",
    "bus_windows": "bus.windows",
    "alerts_changelog": "alerts.changelog",  # compacted state of `smartcity alerts`
}


class KafkaSettings(BaseModel):
    """``[kafka]`` in smartcity.toml, ``SMARTCITY_KAFKA_*`` in the environment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    bootstrap_servers: str | None = Field(
        default=None,
        description="host:port list; unset = the broker `smartcity kafka start` left running, else localhost:9092 "
                    "(resolved by the settings loader)",
    )
    topic_prefix: str = Field(default="smartcity", pattern=r"^[A-Za-z0-9._-]+$",
                              description="prefix of every topic name")
    partitions: int = Field(default=4, ge=1, le=10_000, description="partitions of topics created by smartcity")
    replication_factor: int = Field(default=1, ge=1, le=32, description="replication factor of created topics")
    encoding: Literal["protobuf", "json"] = Field(default="protobuf", description="encoding of produced messages")
    client_id: str = Field(default="smartcity", min_length=1)
    properties: dict[str, str] = Field(
        default_factory=dict,
        description="librdkafka client properties passed through unchanged (SASL/SSL included)",
    )

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_bootstrap(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        for part in value.split(","):
            host, sep, port = part.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port...], got {part.strip()!r}")
        return value.strip()

    def topic(self, kind: str) -> str:
        """Full topic name of a kind: bus, air, station, alerts, deadletter, bus_windows, alerts_changelog."""
        return f"{self.topic_prefix}.{TOPIC_SUFFIXES[kind]}"

    @property
    def topics(self) -> dict[str, str]:
        return {kind: self.topic(kind) for kind in TOPIC_SUFFIXES}
