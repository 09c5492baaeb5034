"""``smartcity demo``: everything from one command."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from smartcity.cli.common import err, out


@click.command()
@click.option("--lake", type=click.Path(path_type=Path, file_okay=False), default=Path("lake"), show_default=True,
              help="Lake folder to fill.")
@click.option("--kafka", "use_kafka", is_flag=True,
              help="Go through a Kafka broker: simulate to topics, ingest until caught up, then the flows "
                   "(uses --bootstrap-servers, else starts the local broker).")
@click.option("--bootstrap-servers", "-b", help="Kafka for --kafka [default: the local broker].")
@click.option("--history-days", type=click.IntRange(0, 2000), default=396, show_default=True,
              help="Days of hourly air history before the demo day (13 months for trends).")
def demo(lake: Path, use_kafka: bool, bootstrap_servers: str | None, history_days: int) -> None:
    """Simulate a day of the default city (plus 13 months of air history) into ./lake, run every
    flow, build the DuckDB catalog and the HTML report, and print where everything is.

    \b
    Example:
      smartcity demo                # no Kafka: the simulator writes through the storage writers
      smartcity demo --kafka        # the same through a broker (starts the local one if needed)
    """
    from smartcity.flows.demo import offline_prefect, run_demo

    offline_prefect(Path(".prefect").resolve())
    bootstrap = None
    if use_kafka:
        bootstrap = bootstrap_servers or _local_broker()
    with err.status("demo") as status:
        result = run_demo(lake, history_days=history_days, kafka_bootstrap=bootstrap,
                          step=lambda s: status.update(f"demo: {s} ..."))
    steps = Table(title=f"smartcity demo: {result.day}" + (" through Kafka" if use_kafka else ""))
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for name, seconds, _ in result.steps:
        steps.add_row(name, f"{seconds:.1f}")
    out.print(steps)
    counts = Table(title="catalog views (rows)")
    counts.add_column("view")
    counts.add_column("rows", justify="right")
    for name, n in result.counts.items():
        counts.add_row(name, f"{n:,}")
    out.print(counts)
    out.print(f"lake:    {result.lake}")
    out.print(f"catalog: {result.lake / 'smartcity.duckdb'}   (smartcity sql --lake {lake} \"SELECT ...\")")
    out.print(f"report:  {result.report}")


def _local_broker() -> str:
    from smartcity.devbroker.local import LocalCluster
    from smartcity.devbroker.maven import cache_dir
    from smartcity.devbroker.state import running_state, write_state

    running = running_state()
    if running:
        return running.bootstrap_servers
    err.print("starting the local Kafka broker (smartcity kafka start)")
    state = LocalCluster(workdir=cache_dir() / "kafka" / "clusters").start()
    write_state(state)
    return state.bootstrap_servers
