"""Settings of the sink daemon (``[ingest]`` in smartcity.toml, ``SMARTCITY_INGEST_*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    group: str = Field(default="smartcity-ingest", min_length=1, description="consumer group id")
    topics: list[str] = Field(default_factory=lambda: ["bus", "air", "station", "alerts"],
                              description="topic kinds (bus, air, station, alerts, bus_windows) or topic names")
    batch_max_rows: int = Field(default=25_000, ge=1, description="flush a partition's batch at this many messages")
    batch_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="... or this many bytes")
    batch_max_age_s: float = Field(default=30.0, gt=0, description="... or when its oldest message is this old (s)")
    max_buffered_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024,
                                    description="all partitions together; the biggest batch is flushed above it")
    instance_id: str | None = Field(default=None, description="static group membership id (e.g. the host name): a "
                                    "restarted member takes its partitions back without a rebalance")
    metrics_port: int | None = Field(default=None, ge=0, le=65535, description="Prometheus /metrics port")
    metrics_host: str = Field(default="127.0.0.1", min_length=1,
                              description="address the /metrics port binds (0.0.0.0: every interface, "
                              "e.g. inside a container)")
    gtfsrt_topic: str | None = Field(default=None, description="topic of GTFS-Realtime FeedMessages to land as "
                                                                 "bus_telemetry rows")
    caught_up_within_s: float = Field(default=600.0, gt=0, description="a bounded run (--until-caught-up) "
                                      "fails, naming the partitions left, if they are not all landed by then (s)")
    log_format: str = Field(default="text", pattern="^(text|json)$", description="text or json (structured)")
