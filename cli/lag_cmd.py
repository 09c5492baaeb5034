"""``smartcity lag``: a consumer group's lag per partition and the replica count KEDA would choose."""

from __future__ import annotations

import json

import click

from smartcity.cli.common import kafka_flags, kafka_options, out, settings_for


@click.command()
@kafka_options
@click.option("--group", help="Consumer group [default: the sink's, [ingest] group].")
@click.option("--topics", help="Comma-separated topic kinds (bus, air, station, alerts, ...) or full names "
                               "[default: the sink's, [ingest] topics].")
@click.option("--lag-threshold", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="KEDA lagThreshold: messages of lag per member.")
@click.option("--activation-lag-threshold", type=click.IntRange(min=0), default=0, show_default=True,
              help="KEDA activationLagThreshold: at or below it the group is inactive.")
@click.option("--min-replicas", type=click.IntRange(min=0), default=1, show_default=True,
              help="minReplicaCount (0 lets an inactive group scale to zero).")
@click.option("--max-replicas", type=click.IntRange(min=1), help="maxReplicaCount [default: the partition count].")
@click.option("--limit-to-partitions-with-lag", is_flag=True, help="KEDA limitToPartitionsWithLag.")
@click.option("--current", type=click.IntRange(min=0), help="Members running now [default: as the group says].")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def lag(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...], group: str | None,
        topics: str | None, lag_threshold: int, activation_lag_threshold: int, min_replicas: int,
        max_replicas: int | None, limit_to_partitions_with_lag: bool, current: int | None, fmt: str) -> None:
    """Show a consumer group's lag per partition and the replica count KEDA's Kafka scaler (and the
    HPA behind it) would choose now, with allowIdleConsumers false. A lag that cannot be read holds the
    current count; it is never taken for zero lag.

    \b
    Example:
      smartcity lag                                   # the sink's group and topics
      smartcity lag --group smartcity-alerts --topics bus,station --lag-threshold 20000
    """
    from smartcity.core.errors import ConfigError, KafkaUnavailableError
    from smartcity.ingest.kafka.lag import group_members, read_offsets
    from smartcity.ingest.kafka.scaling import ScalerSpec, desired_replicas, partition_lag
    from smartcity.ingest.kafka.settings import TOPIC_SUFFIXES

    everything = settings_for(ctx, kafka=kafka_flags(bootstrap_servers, kafka_properties))
    kafka, ingest = everything.kafka, everything.ingest
    group = group or ingest.group
    kinds = [t.strip() for t in topics.split(",") if t.strip()] if topics else list(ingest.topics)
    names = [kafka.topic(k) if k in TOPIC_SUFFIXES else k for k in kinds]
    partitions = read_offsets(kafka, group, names)
    if partitions is None:
        raise KafkaUnavailableError(f"could not read the lag of {group} from {kafka.bootstrap_servers}; KEDA would "
                                    "keep the current replica count (an unknown lag is never zero lag)")
    members = current if current is not None else group_members(kafka, group)
    top = max_replicas if max_replicas is not None else max(len(partitions), 1)
    if min_replicas > top:
        raise ConfigError(f"--min-replicas {min_replicas} is above --max-replicas {top}")
    spec = ScalerSpec(lag_threshold=lag_threshold, activation_lag_threshold=activation_lag_threshold,
                      limit_to_partitions_with_lag=limit_to_partitions_with_lag, min_replicas=min_replicas,
                      max_replicas=top)
    decision = desired_replicas(partitions, members or 0, spec)
    rows = [{"topic": p.topic, "partition": p.partition, "committed": p.committed, "end": p.end,
             "lag": partition_lag(p, spec)} for p in partitions]
    if fmt == "json":
        click.echo(json.dumps({"group": group, "members": members, "partitions": rows,
                               "total_lag": decision.total_lag, "replicas": decision.replicas,
                               "active": decision.active, "why": decision.why}))
        return
    from rich.table import Table

    table = Table(title=f"lag of {group}")
    for column in ("topic", "partition", "committed", "end", "lag"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for p in partitions:
        table.add_row(p.topic, str(p.partition), "-" if p.committed is None else f"{p.committed:,}", f"{p.end:,}",
                      f"{partition_lag(p, spec):,}")
    out.print(table)
    known = "unknown" if members is None else str(members)
    out.print(f"members now: {known}; KEDA would run {decision.replicas} ({decision.why})", markup=False)
