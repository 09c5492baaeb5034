"""``smartcity live``: the live operations view (FastAPI, served by uvicorn)."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Any

import click

from smartcity.cli.common import err, kafka_flags, kafka_options, settings_for
from smartcity.cli.params import SECONDS
from smartcity.core.errors import LiveError

# flag name -> LiveSettings field
_FIELDS = {"host": "host", "port": "port", "store": "store", "lookback": "lookback_s", "client_queue": "client_queue"}


@click.command()
@kafka_options
@click.option("--host", metavar="ADDRESS", help="Address to bind [default: 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to serve on [default: 8050].")
@click.option("--store", metavar="URL", help="SurrealDB holding the live state: surrealkv://FOLDER (embedded) or "
                                             "ws://HOST:8000 (a server) [default: surrealkv://live-state].")
@click.option("--city", "city_dir", type=click.Path(path_type=Path, exists=True),
              help="City model folder or GTFS feed whose network the page draws [default: the built-in city].")
@click.option("--lookback", type=SECONDS, help="With an empty store, start reading this far back [default: 15m].")
@click.option("--client-queue", type=click.IntRange(min=1),
              help="Updates a browser may fall behind before its oldest are dropped [default: 64].")
@click.pass_context
def live(ctx: click.Context, bootstrap_servers: str | None, kafka_properties: tuple[str, ...], host: str | None,
         port: int | None, store: str | None, city_dir: Path | None, lookback: float | None,
         client_queue: int | None) -> None:
    """Serve the live operations view: buses moving on the network coloured by occupancy, sensors by
    NowCast AQI, open alerts and fleet figures, updated as messages arrive.

    One Kafka consumer per server reads the raw topics, the window topic and the alerts topic; the
    live state is kept in SurrealDB (embedded by default), so a restarted server shows the current
    picture at once and goes on from where it stopped. Browsers get Server-Sent Events (/events);
    the same state is JSON under /api (documented at /api/docs). Runs until SIGTERM/SIGINT.

    \b
    Example:
      smartcity live --port 8050                     # then open http://127.0.0.1:8050
      smartcity live --city gtfs.zip --store ws://surrealdb:8000
      curl 'http://127.0.0.1:8050/api/vehicles?route=R01&at_least=STANDING_ROOM_ONLY'
    """
    import uvicorn

    from smartcity.cli.simulate_cmd import city_from
    from smartcity.live.app import create_app
    from smartcity.live.stderr_guard import StderrGuard
    from smartcity.live.store import LiveStore
    from smartcity.simulator import default_city

    given: dict[str, Any] = {field: ctx.params[flag] for flag, field in _FIELDS.items()}
    if lookback is not None:
        given["lookback_s"] = int(lookback)
    names = {("live", f): f"--{flag.replace('_', '-')}" for flag, f in _FIELDS.items()}
    everything = settings_for(ctx, kafka=kafka_flags(bootstrap_servers, kafka_properties), live=given,
                              flag_names=names)
    city = city_from(city_dir) if city_dir is not None else default_city()
    settings = everything.live
    sock = listening_socket(settings.host, settings.port, settings.send_buffer_kib)
    # the embedded engine's prints abort the process when standard error cannot be written (a log
    # file on a full disk); the guard makes such a print lose the line, not the server
    with StderrGuard() if settings.embedded_path() is not None else contextlib.nullcontext():
        live_store = LiveStore(settings)
        live_store.load()  # a store it cannot read stops here, with one line
        app = create_app(everything.kafka, settings, city, live_store)
        err.print(f"live view on http://{settings.host}:{settings.port} (state in {settings.store})", markup=False)
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[sock])


def listening_socket(host: str, port: int, send_buffer_kib: int) -> socket.socket:
    """The server's socket; connections inherit its bounded send buffer (Linux autotunes it up to
    megabytes otherwise, which a browser that stops reading would fill before its queue drops anything)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_kib * 1024)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise LiveError(f"cannot serve on {host}:{port}: {exc.strerror} (choose another --port or --host)") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
