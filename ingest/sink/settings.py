"""Settings of the sink daemon (``[ingest]`` in smartcity.toml, ``SMARTCITY_INGEST_*``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from smartcity.core.durations import parse_duration

if TYPE_CHECKING:
    from smartcity.ingest.sink.landing import LandingRules

AirTimeMarks = Literal["start", "end"]
EARLIEST_ALLOWED = datetime(1900, 1, 1, tzinfo=UTC)


def parse_instant(value: object) -> object:
    """A UTC instant from ISO-8601 text (``1985-01-01``, ``1985-01-01T06:00Z``; no zone means UTC), a TOML
    date or date-time, or epoch milliseconds (a number, or text of digits). Other values pass unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected an ISO-8601 date or time such as 1985-01-01 or 1985-01-01T00:00Z, "
                             f"or epoch milliseconds, got {text!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


Instant = Annotated[datetime, BeforeValidator(parse_instant)]
Duration = Annotated[float, BeforeValidator(parse_duration)]


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
    prefetch_mb: int = Field(default=64, ge=1, le=2048, description="messages the consumer fetches ahead, at most (MB "
                             "of values; small messages cost several times that in memory)")
    writer_threads: int = Field(default=2, ge=1, le=16, description="batches of different partitions land side by "
                                "side on this many threads (a partition's batches always in order, on one)")
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
    earliest_event_time: Instant = Field(
        default=datetime(1970, 1, 1, tzinfo=UTC),
        description="messages with an earlier event time are dead-lettered (ISO-8601 date or time, UTC unless "
                    "a zone is given, or epoch ms; not before 1900-01-01); raise it to refuse devices whose "
                    "clock was never set")
    max_event_time_ahead_s: Duration = Field(
        default=86_400.0, ge=0, description="messages whose event time is more than this ahead of the sink's "
                                            "clock are dead-lettered (seconds, or 30m, 24h, ...)")
    compact_closed_hours_at: int = Field(
        default=12, ge=0, description="when a batch lands into an hour that closed over 2 h ago (a backfill) and its "
                                      "folder then holds this many files, merge them at once (0: never; the "
                                      "maintenance flow merges the rest)")
    air_time_marks: AirTimeMarks = Field(
        default="start", description="which end of its averaging interval an air reading's event time marks: "
                                     "start, or end (a reading stamped 10:00 then counts towards hour 09)")

    @field_validator("earliest_event_time")
    @classmethod
    def _not_before_1900(cls, value: datetime) -> datetime:
        if value < EARLIEST_ALLOWED:
            raise ValueError("must not be before 1900-01-01T00:00Z")
        return value

    @property
    def earliest_event_time_ms(self) -> int:
        """``earliest_event_time`` in epoch milliseconds."""
        delta = self.earliest_event_time - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000

    def landing_rules(self) -> LandingRules:
        """What :func:`smartcity.ingest.sink.landing.process_batch` needs of these settings."""
        from smartcity.ingest.sink.landing import LandingRules

        return LandingRules(earliest_event_time_ms=self.earliest_event_time_ms,
                            max_future_ms=round(self.max_event_time_ahead_s * 1000),
                            air_time_marks=self.air_time_marks)
