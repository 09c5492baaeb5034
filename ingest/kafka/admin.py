"""Create and describe smartcity's topics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from smartcity.core.errors import KafkaSetupError
from smartcity.ingest.kafka.config import client_config
from smartcity.ingest.kafka.settings import KafkaSettings

TIMEOUT_S = 30.0


def topic_ids(settings: KafkaSettings, topics: list[str]) -> dict[str, str]:
    """Kafka's id of each existing topic (a topic created again under the same name gets a new one)."""
    from confluent_kafka import TopicCollection

    admin = admin_client(settings)  # kept alive until the answers are in
    futures = admin.describe_topics(TopicCollection(topics))
    out = {}
    for name, future in futures.items():
        try:
            out[name] = str(future.result(TIMEOUT_S).topic_id)
        except KafkaException:
            continue  # not there (yet): nothing to compare
    return out

# per-topic configs: the dead-letter topic keeps its records longer; alerts are small and kept for a month.
TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    "deadletter": {"retention.ms": str(30 * 24 * 3600 * 1000)},
    "alerts": {"retention.ms": str(30 * 24 * 3600 * 1000)},
    "alerts_changelog": {"cleanup.policy": "compact"},
}


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    replication_factor: int
    leaders: tuple[int, ...]
    high_watermarks: tuple[int, ...] = ()
    configs: tuple[tuple[str, str], ...] = ()

    @property
    def messages(self) -> int:
        return sum(self.high_watermarks)


def admin_client(settings: KafkaSettings) -> AdminClient:
    return AdminClient(client_config(settings))


def _check_reachable(admin: AdminClient, bootstrap: str) -> None:
    try:
        admin.list_topics(timeout=10)
    except KafkaException as exc:
        raise KafkaSetupError(f"cannot reach Kafka at {bootstrap}: {exc.args[0].str()} "
                              "(start one with `smartcity kafka start` or pass --bootstrap-servers)") from None


def create_topics(settings: KafkaSettings, names: Iterable[str] | None = None,
                  partitions: int | None = None, replication_factor: int | None = None) -> dict[str, str]:
    """Create topics that do not exist yet; returns ``{topic: "created" | "exists"}``. Idempotent."""
    admin = admin_client(settings)
    bootstrap = client_config(settings)["bootstrap.servers"]
    _check_reachable(admin, bootstrap)
    by_name = {settings.topic(kind): kind for kind in settings.topics}
    wanted = list(names) if names is not None else list(by_name)
    new = [
        NewTopic(name, num_partitions=partitions or settings.partitions,
                 replication_factor=replication_factor or settings.replication_factor,
                 config=TOPIC_CONFIGS.get(by_name.get(name, ""), {}))
        for name in wanted
    ]
    result: dict[str, str] = {}
    for name, future in admin.create_topics(new, request_timeout=TIMEOUT_S).items():
        try:
            future.result()
            result[name] = "created"
        except KafkaException as exc:
            err = exc.args[0]
            if err.name() == "TOPIC_ALREADY_EXISTS":
                result[name] = "exists"
            else:
                raise KafkaSetupError(f"creating topic {name} failed: {err.str()}") from None
    return result


def delete_topics(settings: KafkaSettings, names: Iterable[str]) -> None:
    admin = admin_client(settings)
    for name, future in admin.delete_topics(list(names), request_timeout=TIMEOUT_S).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                raise KafkaSetupError(f"deleting topic {name} failed: {exc.args[0].str()}") from None


def describe_topics(settings: KafkaSettings, names: Iterable[str] | None = None,
                    watermarks: bool = True) -> list[TopicInfo]:
    """Partitions, replication, leaders and message counts of the given (default: smartcity's) topics."""
    from confluent_kafka import Consumer, TopicPartition

    admin = admin_client(settings)
    bootstrap = client_config(settings)["bootstrap.servers"]
    _check_reachable(admin, bootstrap)
    metadata = admin.list_topics(timeout=TIMEOUT_S)
    wanted = list(names) if names is not None else list(settings.topics.values())
    consumer = Consumer(client_config(settings, **{"group.id": "smartcity-describe"})) if watermarks else None
    infos: list[TopicInfo] = []
    try:
        configs = _topic_configs(admin, [n for n in wanted if n in metadata.topics])
        for name in wanted:
            topic = metadata.topics.get(name)
            if topic is None or topic.error is not None:
                infos.append(TopicInfo(name, 0, 0, ()))
                continue
            parts = sorted(topic.partitions.values(), key=lambda p: p.id)
            highs: tuple[int, ...] = ()
            if consumer is not None:
                highs = tuple(consumer.get_watermark_offsets(TopicPartition(name, p.id), timeout=10)[1]
                              for p in parts)
            infos.append(TopicInfo(name, len(parts), len(parts[0].replicas) if parts else 0,
                                   tuple(p.leader for p in parts), highs, configs.get(name, ())))
    finally:
        if consumer is not None:
            consumer.close()
    return infos


def _topic_configs(admin: AdminClient, names: list[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResource.Type.TOPIC, n) for n in names]
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for resource, future in admin.describe_configs(resources, request_timeout=TIMEOUT_S).items():
        try:
            entries = future.result()
        except KafkaException:
            continue
        out[resource.name] = tuple(sorted(
            (k, str(v.value)) for k, v in entries.items()
            if k in ("retention.ms", "cleanup.policy", "min.insync.replicas", "compression.type")
        ))
    return out
