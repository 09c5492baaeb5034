"""``smartcity edge``: the store-and-forward gateway from ZeroMQ, Zenoh and MQTT devices into Kafka."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from smartcity.cli.common import err, kafka_flags, kafka_options, settings_for
from smartcity.cli.params import SECONDS

# flag name -> EdgeSettings field
_FIELDS = {
    "spool_dir": "spool_dir", "spool_max_bytes": "spool_max_bytes", "prefix": "prefix", "encoding": "encoding",
    "zmq_pull": "zmq_pull", "zmq_sub": "zmq_sub", "zmq_acks": "zmq_acks", "mqtt_host": "mqtt_host",
    "mqtt_port": "mqtt_port", "mqtt_client_id": "mqtt_client_id", "metrics_port": "metrics_port",
    "metrics_host": "metrics_host",
}


@click.command()
@kafka_options
@click.option("--zmq", "use_zmq", is_flag=True, help="Receive over ZeroMQ (PULL, optional SUB).")
@click.option("--zenoh", "use_zenoh", is_flag=True, help="Receive over Zenoh (peer session).")
@click.option("--mqtt", "use_mqtt", is_flag=True, help="Receive over MQTT (QoS 1, persistent session).")
@click.option("--spool-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Spool folder, on a local disk [default: edge-spool].")
@click.option("--spool-max-bytes", type=click.IntRange(min=1 << 16),
              help="Bytes each transport's spool may hold before devices are held back [default: 1 GiB].")
@click.option("--prefix", help="First level of the device addresses <prefix>/<domain>/<device> [default: smartcity].")
@click.option("--encoding", type=click.Choice(["protobuf", "json"]),
              help="Encoding of payloads that say none and do not start with '{' [default: protobuf].")
@click.option("--zmq-pull", metavar="ENDPOINT", help="ZeroMQ PULL endpoint to bind [default: tcp://127.0.0.1:5557].")
@click.option("--zmq-sub", metavar="ENDPOINT", help="ZeroMQ SUB endpoint to bind for best-effort publishers.")
@click.option("--zmq-acks", metavar="ENDPOINT",
              help="ZeroMQ PUB endpoint for acknowledgements [default: tcp://127.0.0.1:5559].")
@click.option("--zenoh-listen", "zenoh_listen", multiple=True, metavar="ENDPOINT",
              help="Zenoh endpoint to listen on, repeatable [default: tcp/127.0.0.1:7447].")
@click.option("--zenoh-connect", "zenoh_connect", multiple=True, metavar="ENDPOINT",
              help="Zenoh endpoint to connect to, repeatable.")
@click.option("--mqtt-host", help="MQTT broker host [default: 127.0.0.1].")
@click.option("--mqtt-port", type=click.IntRange(1, 65535), help="MQTT broker port [default: 1883].")
@click.option("--mqtt-client-id", help="The gateway's stable MQTT client id [default: smartcity-edge].")
@click.option("--metrics-port", type=click.IntRange(0, 65535), help="Serve Prometheus metrics on this port.")
@click.option("--metrics-host", metavar="ADDRESS", help="Address the metrics port binds [default: 127.0.0.1].")
@click.option("--heartbeat", type=click.Path(path_type=Path, dir_okay=False),
              help="Heartbeat file for `smartcity health` [default: the [health] setting].")
@click.option("--until-idle", type=SECONDS, help="Exit 0 once nothing arrived for this long and the spools are "
                                                 "empty (tests, demos).")
@click.option("--max-seconds", type=SECONDS, help="Exit 0 after this long.")
@click.pass_context
def edge(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...], use_zmq: bool,
         use_zenoh: bool, use_mqtt: bool, spool_dir: Path | None, spool_max_bytes: int | None, prefix: str | None,
         encoding: str | None, zmq_pull: str | None, zmq_sub: str | None, zmq_acks: str | None,
         zenoh_listen: tuple[str, ...], zenoh_connect: tuple[str, ...], mqtt_host: str | None,
         mqtt_port: int | None, mqtt_client_id: str | None, metrics_port: int | None, metrics_host: str | None,
         heartbeat: Path | None, until_idle: float | None, max_seconds: float | None) -> None:
    """Receive device messages over ZeroMQ, Zenoh and MQTT and forward them into the Kafka topics,
    with the keys, headers and encodings a direct producer uses.

    Every message is fsynced to a local spool before the device is acknowledged, then forwarded in
    order; while Kafka is away the spool fills (bounded: then devices are held back, never dropped)
    and drains when it returns. Devices address messages <prefix>/<domain>/<device id> (domain bus,
    air or station) and may number them with device_seq: replays are dropped here and in the sink.
    Messages that fail to decode go to the dead-letter topic with the transport named. Runs until
    SIGTERM/SIGINT.

    \b
    Example:
      smartcity edge --zmq --zenoh --mqtt --metrics-port 9110
      smartcity edge --mqtt --mqtt-host broker.local --spool-dir /var/lib/smartcity/spool
      smartcity simulate --to zmq --duration 10m     # devices, in another shell
    """
    from smartcity.ingest.edge.gateway import Gateway

    chosen = [t for t, on in (("zmq", use_zmq), ("zenoh", use_zenoh), ("mqtt", use_mqtt)) if on]
    given: dict[str, Any] = {
        "transports": chosen or None,
        "zenoh_listen": list(zenoh_listen) or None, "zenoh_connect": list(zenoh_connect) or None,
        **{field: ctx.params[flag] for flag, field in _FIELDS.items()},
    }
    names = {("edge", f): f"--{flag.replace('_', '-')}" for flag, f in _FIELDS.items()}
    names.update({("edge", "transports"): "--zmq/--zenoh/--mqtt", ("edge", "zenoh_listen"): "--zenoh-listen",
                  ("edge", "zenoh_connect"): "--zenoh-connect"})
    everything = settings_for(ctx, kafka=kafka_flags(bootstrap_servers, kafka_properties), edge=given,
                              health={"heartbeat": heartbeat}, flag_names=names)
    gateway = Gateway(everything.kafka, everything.edge, heartbeat=everything.health.heartbeat, until_idle=until_idle,
                      max_seconds=max_seconds)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: gateway.stop())
    stats = gateway.run()
    for transport in stats.received:
        err.print(f"edge {transport}: {stats.received[transport]:,} received, {stats.forwarded[transport]:,} "
                  f"forwarded, {stats.pending[transport]:,} still spooled", markup=False)
