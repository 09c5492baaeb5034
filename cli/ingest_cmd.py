"""``smartcity ingest``: the sink daemon."""

from __future__ import annotations

import signal
from pathlib import Path

import click
from rich.table import Table

from smartcity.cli.common import err, kafka_flags, kafka_options, lake_option, out, settings_for
from smartcity.cli.params import SECONDS


@click.command()
@kafka_options
@lake_option
@click.option("--topics", help="Comma-separated topic kinds or names [default: bus,air,station,alerts].")
@click.option("--group", help="Consumer group id [default: smartcity-ingest].")
@click.option("--format", "fmt", type=click.Choice(["parquet", "hdf5", "csv"]), help="Lake file format.")
@click.option("--batch-rows", type=click.IntRange(min=1), help="Flush a partition's batch at this many messages.")
@click.option("--batch-bytes", type=click.IntRange(min=1024), help="... or at this many bytes.")
@click.option("--batch-age", type=click.FloatRange(min=0.01), help="... or when it is this many seconds old.")
@click.option("--until-caught-up", is_flag=True,
              help="Exit 0 once every partition of the topics is landed (by this or another member) up to its "
                   "end at start; exit 1 naming the partitions left if that takes longer than --caught-up-within.")
@click.option("--caught-up-within", type=SECONDS, help="Time limit of --until-caught-up, e.g. 10m [default: 10m].")
@click.option("--metrics-port", type=click.IntRange(0, 65535), help="Serve Prometheus metrics on this port.")
@click.option("--metrics-host", metavar="ADDRESS",
              help="Address the metrics port binds; 0.0.0.0 for every interface [default: 127.0.0.1].")
@click.option("--instance-id", help="Static group membership id: a restarted member gets its partitions back at once.")
@click.option("--gtfsrt-topic", help="Also land GTFS-Realtime FeedMessages from this topic as bus_telemetry.")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log lines as text or JSON.")
@click.option("--heartbeat", type=click.Path(path_type=Path, dir_okay=False),
              help="Heartbeat file for `smartcity health` [default: the [health] setting].")
@click.pass_context
def ingest(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...], lake: Path | None,
           topics: str | None, group: str | None, fmt: str | None, batch_rows: int | None, batch_bytes: int | None,
           batch_age: float | None, until_caught_up: bool, caught_up_within: float | None,
           metrics_port: int | None, metrics_host: str | None,
           instance_id: str | None, gtfsrt_topic: str | None, log_format: str | None, heartbeat: Path | None) -> None:
    """Land Kafka topics in the lake exactly once: event-time date=/hour= partitions, bad messages to
    the dead-letter topic, offsets committed only after the files are durable.

    Runs until SIGTERM/SIGINT (then flushes, commits and exits 0), or with --until-caught-up until
    every partition of its topics is landed up to where it stood at start, whichever member of the
    group lands it (a bounded run beside a running daemon waits for the daemon's batches).

    \b
    Example:
      smartcity ingest --lake ./lake --metrics-port 9108
      smartcity ingest --until-caught-up --format hdf5 --topics bus,air
    """
    import logging

    from smartcity.ingest.health import Heartbeat
    from smartcity.ingest.logs import use_json_logs
    from smartcity.ingest.sink.daemon import Sink

    settings = settings_for(
        ctx, kafka=kafka_flags(bootstrap_servers, kafka_properties), lake={"path": lake, "format": fmt},
        health={"heartbeat": heartbeat},
        ingest={"topics": topics.split(",") if topics else None, "group": group, "batch_max_rows": batch_rows,
                "batch_max_bytes": batch_bytes, "batch_max_age_s": batch_age, "metrics_port": metrics_port,
                "metrics_host": metrics_host, "instance_id": instance_id, "gtfsrt_topic": gtfsrt_topic,
                "log_format": log_format, "caught_up_within_s": caught_up_within},
    )
    if settings.ingest.log_format == "json":
        use_json_logs()
    if logging.getLogger().level > logging.INFO and not until_caught_up:
        logging.getLogger("smartcity.ingest").setLevel(logging.INFO)
    sink = Sink(settings.kafka, settings.lake, settings.ingest, until_caught_up=until_caught_up,
                heartbeat=Heartbeat(settings.health.heartbeat))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sink.stop())
    with err.status("landing...") as status:
        sink.on_batch = lambda result, st: status.update(
            f"landing: {st.consumed:,} consumed, {st.rows:,} rows in {st.files:,} files, "
            f"{st.dead_letters:,} dead letters")
        stats = sink.run()
    table = Table(title=f"ingest into {settings.lake.root} ({settings.lake.format})")
    for col in ("consumed", "rows landed", "files", "dead letters", "batches", "seconds", "msgs/s"):
        table.add_column(col, justify="right")
    rate = stats.consumed / stats.seconds if stats.seconds else 0.0
    table.add_row(f"{stats.consumed:,}", f"{stats.rows:,}", f"{stats.files:,}", f"{stats.dead_letters:,}",
                  f"{stats.batches:,}", f"{stats.seconds:.1f}", f"{rate:,.0f}")
    out.print(table)
    if stats.replays:
        out.print(f"{stats.replays:,} replays dropped (device_seq already landed for their device)")
