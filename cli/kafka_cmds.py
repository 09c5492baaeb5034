"""``smartcity kafka ...`` (a local broker) and ``smartcity topics ...``."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.table import Table

from smartcity.cli.common import err, kafka_flags, kafka_options, out, settings_for
from smartcity.core.errors import BrokerError
from smartcity.devbroker import local, maven
from smartcity.devbroker import state as recorded


@click.group()
def kafka() -> None:
    """Run a real Apache Kafka on this machine, from Maven Central jars (no Docker).

    \b
    Example:
      smartcity kafka start            # prints the bootstrap address last
      smartcity kafka status
      smartcity kafka stop
    """


@kafka.command()
@click.option("--version", "version", default=maven.KAFKA_VERSION, show_default=True, help="Apache Kafka version.")
def provision(version: str) -> None:
    """Resolve the Kafka broker and tools jars into the cache ($SMARTCITY_CACHE), once.

    \b
    Example:
      smartcity kafka provision
    """
    maven.check_java()
    began = time.monotonic()
    jars = maven.provision(version)
    err.print(f"Kafka {version} jars ready in {jars.libs} ({time.monotonic() - began:.1f} s)")
    out.print(str(jars.libs))


@kafka.command()
@click.option("--brokers", type=click.IntRange(1, 9),
              help="Number of nodes (each broker+controller) [default: 1, or as many as --data-dir holds].")
@click.option("--heap", default="512m", show_default=True, help="JVM heap per node.")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Keep the cluster's data in DIR: formatted on first use, restarted on its data (same cluster "
              "id, node ids and ports) when DIR already holds one; `kafka stop` never removes it "
              "[default: a fresh directory in the cache].")
def start(brokers: int | None, heap: str, data_dir: Path | None) -> None:
    """Start Kafka on 127.0.0.1: a freshly formatted KRaft cluster on free ports, or with --data-dir
    the cluster kept in that directory, on its data.

    Waits until every broker accepts connections, records PIDs and address in
    $SMARTCITY_CACHE/kafka/cluster.json, and prints the bootstrap address as the last line.

    \b
    Example:
      smartcity kafka start --brokers 3
      export SMARTCITY_KAFKA_BOOTSTRAP_SERVERS=$(smartcity kafka start | tail -1)
      smartcity kafka start --data-dir ~/kafka-data     # later: stop, start again, same topics
    """
    stored = local.stored_cluster(data_dir) if data_dir is not None and data_dir.is_dir() else None
    wanted = brokers or (len(stored.nodes) if stored else 1)
    running = recorded.running_state()
    if running:
        if data_dir is not None and Path(running.workdir).resolve() != data_dir.expanduser().resolve():
            raise BrokerError(f"a local Kafka on {running.workdir} is already running at "
                              f"{running.bootstrap_servers}; run `smartcity kafka stop` first")
        if len(running.nodes) != wanted:
            raise BrokerError(f"a {len(running.nodes)}-node cluster is already running at "
                              f"{running.bootstrap_servers}; run `smartcity kafka stop` first")
        err.print(f"Kafka already running (PIDs {', '.join(str(n.pid) for n in running.nodes)})")
        out.print(running.bootstrap_servers)
        return
    root = maven.cache_dir() / "kafka" / "clusters"
    cluster = local.LocalCluster(brokers=wanted, heap=heap, workdir=root, data_dir=data_dir,
                                 on_progress=lambda msg: err.print(f"[dim]{msg}[/dim]"))
    try:
        state = cluster.start()
    except BaseException:
        cluster.stop()
        raise
    recorded.write_state(state)
    what = "restarted on its data" if cluster.reused else "ready"
    err.print(f"Kafka {state.version} {what} in {state.start_seconds:.1f} s: {len(state.nodes)} node(s), "
              f"PIDs {', '.join(str(n.pid) for n in state.nodes)}, cluster {state.cluster_id}, "
              f"data and logs in {state.workdir}")
    out.print(state.bootstrap_servers)


@kafka.command()
@click.option("--keep-data", is_flag=True,
              help="Keep the data directory (default: remove it, unless `kafka start --data-dir` named it).")
def stop(keep_data: bool) -> None:
    """Stop exactly the broker processes `smartcity kafka start` started (by PID).

    The data goes with them, unless kept: `kafka start --data-dir DIR` then starts again on it.

    \b
    Example:
      smartcity kafka stop
      smartcity kafka stop --keep-data    # prints the directory to restart on
    """
    import shutil

    state = recorded.read_state()
    if state is None:
        err.print("no local Kafka recorded; nothing to stop")
        return
    stopped = local.stop_nodes(state.nodes)
    kept = keep_data or state.persistent
    if not kept:
        shutil.rmtree(state.workdir, ignore_errors=True)
    recorded.clear_state()
    err.print(f"stopped {len(stopped)} Kafka process(es)" + (f" ({', '.join(map(str, stopped))})" if stopped else ""))
    if kept:
        err.print(f"data kept in {state.workdir}; `smartcity kafka start --data-dir {state.workdir}` starts on it "
                  "again", markup=False)


@kafka.command()
def status() -> None:
    """Show whether the local Kafka is running; exit 1 when it is not.

    \b
    Example:
      smartcity kafka status && echo up
    """
    state = recorded.read_state()
    if state is None:
        err.print("no local Kafka recorded (start one with `smartcity kafka start`)")
        raise SystemExit(1)
    table = Table(title=f"Kafka {state.version} (cluster {state.cluster_id})")
    for col in ("node", "pid", "address", "process", "port"):
        table.add_column(col)
    healthy = True
    for n in state.nodes:
        alive = recorded.pid_alive(n.pid)
        listening = alive and local.port_open(n.port)
        healthy &= listening
        table.add_row(str(n.node_id), str(n.pid), f"127.0.0.1:{n.port}",
                      "[green]running[/green]" if alive else "[red]dead[/red]",
                      "[green]accepting[/green]" if listening else "[red]closed[/red]")
    err.print(table)
    err.print(f"data and logs: {state.workdir}")
    if not healthy:
        raise SystemExit(1)
    out.print(state.bootstrap_servers)


@click.group()
def topics() -> None:
    """Create and describe smartcity's topics.

    \b
    Example:
      smartcity topics create --partitions 8
      smartcity topics describe
    """


@topics.command()
@kafka_options
@click.option("--partitions", type=click.IntRange(1, 10_000), help="Partitions per topic [default: settings].")
@click.option("--replication-factor", type=click.IntRange(1, 32), help="Replication factor [default: settings].")
@click.pass_context
def create(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...],
           partitions: int | None, replication_factor: int | None) -> None:
    """Create every smartcity topic that does not exist yet (idempotent).

    \b
    Example:
      smartcity topics create --bootstrap-servers 127.0.0.1:9092 --partitions 8
    """
    from smartcity.ingest.kafka.admin import create_topics

    settings = settings_for(ctx, kafka={**kafka_flags(bootstrap_servers, kafka_properties),
                                        "partitions": partitions, "replication_factor": replication_factor})
    result = create_topics(settings.kafka)
    for name, what in result.items():
        click.echo(f"{name}\t{what}")


@topics.command()
@kafka_options
@click.pass_context
def describe(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...]) -> None:
    """Partitions, replication, leaders and message counts of smartcity's topics.

    \b
    Example:
      smartcity topics describe
    """
    from smartcity.ingest.kafka.admin import describe_topics

    settings = settings_for(ctx, kafka=kafka_flags(bootstrap_servers, kafka_properties))
    table = Table()
    for col in ("topic", "partitions", "replication", "leaders", "messages", "configs"):
        table.add_column(col)
    for info in describe_topics(settings.kafka):
        if info.partitions == 0:
            table.add_row(info.name, "[red]missing[/red]", "", "", "", "")
            continue
        table.add_row(info.name, str(info.partitions), str(info.replication_factor),
                      ",".join(map(str, sorted(set(info.leaders)))), f"{info.messages:,}",
                      " ".join(f"{k}={v}" for k, v in info.configs))
    out.print(table)


