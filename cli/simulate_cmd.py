"""``smartcity simulate``: the city simulator, into Kafka, the lake or files."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from smartcity.cli.common import err, kafka_flags, kafka_options, lake_option, out, settings_for
from smartcity.cli.params import INSTANT, LINK_DROPS, SPAN

if TYPE_CHECKING:
    from collections.abc import Callable

    from smartcity.ingest.edge.devices import SendStats
    from smartcity.ingest.edge.play import LinkDrops
    from smartcity.ingest.edge.settings import EdgeSettings
    from smartcity.ingest.producer import Record
    from smartcity.proto.codec import Encoding
    from smartcity.simulator import SimEvent
    from smartcity.simulator.model import City

EDGE_TARGETS = ("zmq", "zenoh", "mqtt")


def _domains(value: str) -> tuple[str, ...]:
    items = tuple(d.strip() for d in value.split(",") if d.strip())
    bad = [d for d in items if d not in ("bus", "air", "station")]
    if bad or not items:
        raise click.BadParameter(f"{value!r}: use a comma-separated subset of bus,air,station",
                                 param_hint="'--domains'")
    return items


@click.command()
@click.option("--to", "target", type=click.Choice(["kafka", "lake", "files", "zmq", "zenoh", "mqtt"]), default="kafka",
              show_default=True, help="Where the events go; zmq, zenoh and mqtt play the devices towards "
                                      "`smartcity edge` ([edge] endpoints), numbering each device's messages.")
@click.option("--domains", default="bus,air,station", show_default=True, help="Comma-separated: bus,air,station.")
@click.option("--start", type=INSTANT, help="Event time of the first event (ISO-8601, UTC unless zoned) "
                                             "[default: today 06:00 UTC].")
@click.option("--duration", type=SPAN, default="2h", show_default=True, help="Event-time span: 90s, 15m, 2h, 1d.")
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same messages, byte for byte.")
@click.option("--speed", type=click.FloatRange(min=0.001), help="Pace to X times real time [default: as fast as "
                                                                  "possible].")
@click.option("--rate", type=click.FloatRange(min=1), help="At most N messages per second.")
@click.option("--max-messages", type=click.IntRange(min=1), help="Stop after N messages.")
@click.option("--scale", type=click.FloatRange(min=0.05, max=50), help="Generate a city of this scale instead of "
                                                                       "the default city (8 = ~500 buses).")
@click.option("--city", "city_dir", type=click.Path(path_type=Path, exists=True),
              help="City model folder (data/city layout), or a GTFS feed (folder or .zip): its trips, stop "
                   "times, calendar and blocks are then the timetable.")
@click.option("--on-schedule", is_flag=True, help="No delays: every trip arrives and departs at its scheduled "
                                                 "times to the second.")
@click.option("--encoding", type=click.Choice(["protobuf", "json"]), help="Kafka and files encoding "
                                                                          "[default: settings, protobuf].")
@click.option("--bus-interval", type=click.FloatRange(min=0.1), help="Seconds between a bus's readings [5].")
@click.option("--air-interval", type=click.FloatRange(min=1), help="Seconds between a sensor's readings [60].")
@click.option("--malformed", type=click.FloatRange(0, 1), default=0.0, help="Share of malformed messages (kafka, "
                                                                           "files).")
@click.option("--duplicates", type=click.FloatRange(0, 1), default=0.0, help="Share of duplicated messages.")
@click.option("--late", type=click.FloatRange(0, 1), default=0.0, help="Share of messages sent late.")
@click.option("--late-by", type=SPAN, default="10m", show_default=True, help="How late the late ones are.")
@click.option("--output", type=click.Path(path_type=Path, file_okay=False), default=Path("sim-out"),
              show_default=True, help="Folder for --to files.")
@click.option("--files-format", type=click.Choice(["ndjson", "protobuf"]), default="ndjson", show_default=True,
              help="NDJSON or length-delimited Protobuf for --to files.")
@click.option("--drop-link", type=LINK_DROPS, metavar="EVERY:FOR",
              help="zmq/zenoh/mqtt: drop the link after every EVERY messages for FOR, e.g. 5000:10s.")
@kafka_options
@lake_option
@click.pass_context
def simulate(ctx: click.Context, target: str, domains: str, start: datetime | None, duration: timedelta, seed: int,
             speed: float | None, rate: float | None, max_messages: int | None, scale: float | None,
             city_dir: Path | None, on_schedule: bool, encoding: str | None, bus_interval: float | None,
             air_interval: float | None,
             malformed: float, duplicates: float, late: float, late_by: timedelta, output: Path, files_format: str,
             drop_link: LinkDrops | None, bootstrap_servers: str | None, kafka_properties: tuple[str, ...],
             lake: Path | None) -> None:
    """Simulate the city's buses, air sensors and stations: rush hours, bunching, crowding,
    hotspots and trends, deterministic per seed.

    \b
    Example:
      smartcity simulate --to kafka --duration 2h --seed 7
      smartcity simulate --to lake --lake ./lake --start 2026-03-10 --duration 1d
      smartcity simulate --to files --domains bus --duration 15m --malformed 0.01 --duplicates 0.01
      smartcity simulate --to mqtt --duration 30m --drop-link 5000:10s     # devices of `smartcity edge --mqtt`
    """
    from smartcity.simulator import SimConfig
    from smartcity.simulator import simulate as run_simulation
    from smartcity.simulator.config import to_ms

    wanted = _domains(domains)
    settings = settings_for(ctx, kafka={**kafka_flags(bootstrap_servers, kafka_properties), "encoding": encoding},
                            lake={"path": lake})
    if start is None:
        today = datetime.now(UTC).date()
        start = datetime(today.year, today.month, today.day, 6, tzinfo=UTC)
    city = _city(city_dir, scale, seed)
    defaults = SimConfig()
    config = SimConfig(bus_interval_s=bus_interval or defaults.bus_interval_s,
                       air_interval_s=air_interval or defaults.air_interval_s, on_schedule=on_schedule)
    events = run_simulation(city, start, duration, seed, wanted, config)
    if target in EDGE_TARGETS:
        from smartcity.ingest.edge.play import numbered

        events = numbered(events)
    if max_messages is not None and target == "lake":
        import itertools

        events = itertools.islice(events, max_messages)
    start_ms = to_ms(start)
    total_s = duration.total_seconds()
    faults = None
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task(f"simulate to {target}", total=total_s, info="")

        def advance(event_time_ms: int, info: str) -> None:
            progress.update(task, completed=max(0.0, (event_time_ms - start_ms) / 1000), info=info)

        if target == "lake":
            from smartcity.simulator.to_lake import events_to_lake

            counter = {"n": 0}

            def on_event(ev: SimEvent) -> None:
                counter["n"] += 1
                if counter["n"] % 20_000 == 0:
                    advance(ev.event_time_ms, f"{counter['n']:,} events")

            stats = events_to_lake(events, settings.lake, start_ms, on_event=on_event)
            summary = {"events": f"{counter['n']:,}", "lake": str(settings.lake.root),
                       **{f"rows {k}": f"{v:,}" for k, v in stats.rows.items()}, "files": f"{stats.files:,}"}
        else:
            from smartcity.simulator import inject_faults, to_records

            topics = {d: settings.kafka.topic(d) for d in ("bus", "air", "station")}
            if target in EDGE_TARGETS:
                from smartcity.ingest.edge.play import address_topics

                topics = address_topics(settings.edge.prefix)
            wire: Encoding = settings.kafka.encoding
            if target == "files":
                wire = "json" if files_format == "ndjson" else "protobuf"
            records: Iterable[Record] = to_records(events, wire, topics=topics)
            if malformed or duplicates or late:
                faults = inject_faults(records, seed=seed, malformed=malformed, duplicates=duplicates, late=late,
                                       late_by=late_by)
                records = faults
            if target in EDGE_TARGETS:
                summary = _to_edge(target, settings.edge, records, speed=speed, rate=rate,
                                   max_messages=max_messages, drops=drop_link,
                                   advance=lambda st, t: advance(t, f"{st.sent:,} sent, {st.acked:,} acked"))
            elif target == "kafka":
                from smartcity.ingest.producer import produce_records

                stats_k = produce_records(
                    settings.kafka, records, speed=speed, rate=rate, max_messages=max_messages,
                    on_progress=lambda st, t: advance(t, f"{st.produced:,} sent, {st.failed:,} failed"))
                summary = {"produced": f"{stats_k.produced:,}", "delivered": f"{stats_k.delivered:,}",
                           "failed": f"{stats_k.failed:,}", "seconds": f"{stats_k.seconds:.1f}",
                           "msgs/s": f"{stats_k.rate:,.0f}"}
                for error, count in stats_k.errors.items():
                    err.print(f"[red]{count:,} failed: {error}[/red]")
            else:
                import itertools

                from smartcity.simulator.files import write_records

                if max_messages is not None:
                    records = itertools.islice(records, max_messages)
                written = write_records(records, output, files_format,  # type: ignore[arg-type]
                                        {t: d for d, t in topics.items()})
                summary = {name: f"{w.messages:,} messages in {w.path}" for name, w in written.items()}
    if faults is not None:
        c = faults.counts
        summary.update({"malformed injected": f"{c.malformed:,} ({c.corrupt} corrupt, {c.schema} schema, "
                                              f"{c.impossible} impossible)",
                        "duplicates injected": f"{c.duplicates:,}", "late injected": f"{c.late:,}"})
    table = Table(show_header=False, title=f"simulate {','.join(wanted)} from {start.isoformat()} for {duration}")
    for k, v in summary.items():
        table.add_row(k, v)
    out.print(table)
    if (target == "kafka" and summary.get("failed") not in ("0", None)) or summary.get("unacknowledged", "0") != "0":
        raise SystemExit(1)


def _to_edge(target: str, edge: EdgeSettings, records: Iterable[Record], *, speed: float | None,
             rate: float | None, max_messages: int | None, drops: LinkDrops | None,
             advance: Callable[[SendStats, int], None]) -> dict[str, str]:
    """Play the devices over ``target`` towards the edge gateway; the summary rows."""
    from smartcity.ingest.edge.devices import ReliableSender, link_for
    from smartcity.ingest.edge.play import play
    from smartcity.ingest.producer import Pacer

    link = link_for(target, zmq_pull=edge.zmq_pull, zmq_acks=edge.zmq_acks, zenoh_connect=edge.zenoh_listen,
                    mqtt_host=edge.mqtt_host, mqtt_port=edge.mqtt_port, prefix=edge.prefix)
    pacer = Pacer(speed, rate) if (speed or rate) else None
    stats, left = play(records, ReliableSender(link, prefix=edge.prefix), drops=drops, pacer=pacer,
                       max_messages=max_messages, on_progress=advance)
    if left:
        err.print(f"[red]{left:,} messages were not acknowledged by the gateway (is `smartcity edge --{target}` "
                  "running?)[/red]")
    return {"sent": f"{stats.sent:,}", "sent again": f"{stats.resent:,}", "acknowledged": f"{stats.acked:,}",
            "unnumbered (malformed)": f"{stats.unnumbered:,}", "link drops": f"{stats.link_drops:,}",
            "links opened again": f"{stats.relinks:,}",
            "unacknowledged": f"{left:,}", "seconds": f"{stats.seconds:.1f}",
            "msgs/s": f"{stats.sent / stats.seconds:,.0f}" if stats.seconds else "0"}


def _city(city_dir: Path | None, scale: float | None, seed: int) -> City:
    from smartcity.simulator import default_city, generate_city

    if city_dir is not None:
        return city_from(city_dir, seed)
    return generate_city(scale, seed) if scale is not None else default_city()


def city_from(city_dir: Path, seed: int = 0) -> City:
    """A city folder, or a GTFS feed (a zip or a folder of .txt files) imported as a city."""
    from smartcity.simulator import import_gtfs, load_city

    if city_dir.is_file() or (city_dir / "stop_times.txt").exists() or (city_dir / "stops.txt").exists():
        return import_gtfs(city_dir, seed=seed)
    return load_city(city_dir)

