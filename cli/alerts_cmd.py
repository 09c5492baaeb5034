"""``smartcity alerts``: the live alerting daemon."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from smartcity.cli.common import err, kafka_flags, kafka_options, out, settings_for
from smartcity.cli.params import SECONDS

if TYPE_CHECKING:
    from smartcity.proto import Alert

# flag name -> AlertSettings field
_FIELDS = {
    "group": "group", "instance_id": "instance_id", "window": "window", "grace": "grace",
    "idle_timeout": "idle_timeout", "commit_interval": "commit_interval", "crowding_ratio": "crowding_ratio",
    "crowding_readings": "crowding_readings", "aqi_level": "aqi_level", "no2_ppb": "no2_ppb", "o3_ppb": "o3_ppb",
    "air_bucket": "air_bucket", "delay": "delay_s", "waiting": "waiting_passengers",
    "silence_after": "silence_after", "metrics_port": "metrics_port", "metrics_host": "metrics_host",
    "log_format": "log_format",
}


@click.command()
@kafka_options
@click.option("--group", help="Consumer group id [default: smartcity-alerts].")
@click.option("--instance-id", help="Static member id: a restarted member takes its partitions and its "
              "transactional id back at once (use a different one per live member).")
@click.option("--streams", help="Comma-separated input kinds to read [default: bus,air,station].")
@click.option("--window", type=SECONDS, help="Tumbling window of the bus statistics, e.g. 20s or 20m [default: 20m].")
@click.option("--grace", type=SECONDS, help="Late events within this still count in their window [default: 30s].")
@click.option("--idle-timeout", type=SECONDS,
              help="Wall-clock time without a watermark advance that closes open windows [default: 60s].")
@click.option("--commit-interval", type=SECONDS, help="Longest a transaction stays open [default: 100ms].")
@click.option("--crowding-ratio", type=click.FloatRange(min=0, min_open=True),
              help="Occupancy above which a reading is crowded [default: 0.8].")
@click.option("--crowding-readings", type=click.IntRange(min=1),
              help="Consecutive crowded readings that open a crowding alert [default: 3].")
@click.option("--aqi-level", type=click.IntRange(min=1), help="PM NowCast AQI that opens an air alert [default: 151].")
@click.option("--no2-ppb", type=click.FloatRange(min=0, min_open=True), help="Hourly NO2 that alerts [default: 361].")
@click.option("--o3-ppb", type=click.FloatRange(min=0, min_open=True), help="Hourly O3 that alerts [default: 165].")
@click.option("--air-bucket", type=SECONDS, help="Averaging period of the air rules (EPA: 1h) [default: 1h].")
@click.option("--delay", type=SECONDS, help="Departure delay above which a departure is late [default: 5m].")
@click.option("--waiting", type=click.IntRange(min=1),
              help="Waiting passengers above which a station alerts [default: 150].")
@click.option("--silence-after", type=SECONDS, help="No data for this long makes a device silent [default: 10m].")
@click.option("--metrics-port", type=click.IntRange(0, 65535), help="Serve Prometheus metrics on this port.")
@click.option("--metrics-host", metavar="ADDRESS",
              help="Address the metrics port binds; 0.0.0.0 for every interface [default: 127.0.0.1].")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log lines as text or JSON.")
@click.option("--heartbeat", type=click.Path(path_type=Path, dir_okay=False),
              help="Heartbeat file for `smartcity health` [default: the [health] setting].")
@click.option("--until-idle", type=SECONDS, help="Exit 0 once no input has arrived for this long (tests, demos).")
@click.option("--max-seconds", type=SECONDS, help="Exit 0 after this long.")
@click.option("--quiet", "-q", is_flag=True, help="No console line per alert.")
@click.pass_context
def alerts(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...], group: str | None,
           instance_id: str | None, streams: str | None, window: float | None, grace: float | None,
           idle_timeout: float | None, commit_interval: float | None, crowding_ratio: float | None,
           crowding_readings: int | None, aqi_level: int | None, no2_ppb: float | None, o3_ppb: float | None,
           air_bucket: float | None, delay: float | None, waiting: int | None, silence_after: float | None,
           metrics_port: int | None, metrics_host: str | None, log_format: str | None, heartbeat: Path | None,
           until_idle: float | None, max_seconds: float | None, quiet: bool) -> None:
    """Alert on crowded buses, unhealthy air, late departures, crowded stations and silent devices, and
    publish per-bus window statistics, from the raw topics, exactly once.

    Event-time tumbling windows with a watermark and a grace period; windows of an idle stream close
    on the wall clock. Alerts open and close with hysteresis and go to the alerts topic as
    smartcity.v1.Alert, one console line each; window statistics go to the bus.windows topic. State
    lives in a compacted changelog topic and survives kill -9. Runs until SIGTERM/SIGINT (then commits
    and exits 0).

    \b
    Example:
      smartcity alerts --window 20s --grace 5s --idle-timeout 10s     # a demo
      smartcity alerts --metrics-port 9109 --instance-id "$(hostname)"  # production: 20 min windows
    """
    import logging

    from smartcity.ingest.alerts.console import format_alert, style_of
    from smartcity.ingest.alerts.daemon import AlertDaemon
    from smartcity.ingest.health import Heartbeat
    from smartcity.ingest.logs import use_json_logs

    given: dict[str, Any] = {
        "streams": [s.strip() for s in streams.split(",") if s.strip()] if streams else None,
        **{field: ctx.params[flag] for flag, field in _FIELDS.items()},
    }
    everything = settings_for(ctx, kafka=kafka_flags(bootstrap_servers, kafka_properties), alerts=given,
                              health={"heartbeat": heartbeat},
                              flag_names={("alerts", f): f"--{flag.replace('_', '-')}" for flag, f in _FIELDS.items()})
    kafka, settings = everything.kafka, everything.alerts
    if settings.log_format == "json":
        use_json_logs()
    if logging.getLogger().level > logging.INFO:
        logging.getLogger("smartcity.alerts").setLevel(logging.INFO)

    def show(alert: Alert) -> None:
        if not quiet:
            out.print(format_alert(alert), style=style_of(alert), markup=False, highlight=False)

    daemon = AlertDaemon(kafka, settings, until_idle=until_idle, max_seconds=max_seconds,
                         heartbeat=Heartbeat(everything.health.heartbeat), on_alert=show)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: daemon.stop())
    stats = daemon.run()
    states = ", ".join(f"{n:,} {state.lower()}" for state, n in sorted(stats.by_state.items())) or "none"
    err.print(f"alerts: {stats.consumed:,} messages in {stats.seconds:.1f} s, alert records: {states}; "
              f"{stats.windows:,} window records; {stats.transactions:,} transactions", markup=False)
