"""Settings of the edge gateway (``[edge]`` in smartcity.toml, ``SMARTCITY_EDGE_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Transport = Literal["zmq", "zenoh", "mqtt"]
TRANSPORTS: tuple[Transport, ...] = ("zmq", "zenoh", "mqtt")


class EdgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    transports: list[Transport] = Field(default_factory=list, description="transports to receive on: zmq, "
                                        "zenoh, mqtt (none by default)")
    prefix: str = Field(default="smartcity", pattern=r"^[A-Za-z0-9_.-]+$",
                        description="first level of every device address: <prefix>/<domain>/<device id>")
    encoding: Literal["protobuf", "json"] = Field(
        default="protobuf", description="encoding of payloads whose transport carries no content type and "
                                        "that do not start with '{' (JSON)")
    spool_dir: Path = Field(default=Path("edge-spool"), description="the spool's folder (one sub-folder per "
                            "transport); keep it on a local disk")
    spool_max_bytes: int = Field(default=1 << 30, ge=1 << 16, description="bytes each transport's spool may "
                                 "hold; when full, devices are held back (never dropped)")
    zmq_pull: str = Field(default="tcp://127.0.0.1:5557", description="ZeroMQ PULL endpoint the gateway binds "
                          "(reliable fan-in: frames address, content type, payload)")
    zmq_sub: str = Field(default="", description="ZeroMQ SUB endpoint the gateway binds for best-effort "
                         "publishers (empty: none)")
    zmq_acks: str = Field(default="tcp://127.0.0.1:5559", description="ZeroMQ PUB endpoint the gateway binds "
                          "to acknowledge numbered messages (frames address, device_seq)")
    zenoh_listen: list[str] = Field(default_factory=lambda: ["tcp/127.0.0.1:7447"],
                                    description="Zenoh endpoints the gateway's peer session listens on")
    zenoh_connect: list[str] = Field(default_factory=list, description="Zenoh endpoints (routers, peers) to "
                                     "connect to")
    mqtt_host: str = Field(default="127.0.0.1", min_length=1, description="MQTT broker host")
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="MQTT broker port")
    mqtt_client_id: str = Field(default="smartcity-edge", min_length=1, max_length=23,
                                description="the gateway's stable MQTT client id (its persistent session)")
    mqtt_username: str | None = Field(default=None, description="MQTT user name")
    mqtt_password: SecretStr | None = Field(default=None, description="MQTT password")
    metrics_port: int | None = Field(default=None, ge=0, le=65535, description="Prometheus /metrics port")
    metrics_host: str = Field(default="127.0.0.1", min_length=1, description="address the /metrics port binds")

    @field_validator("transports")
    @classmethod
    def _unique(cls, value: list[Transport]) -> list[Transport]:
        return list(dict.fromkeys(value))
