"""``smartcity health``: the container health-check hook."""

from __future__ import annotations

from pathlib import Path

import click

from smartcity.cli.common import err, settings_for


@click.command()
@click.option("--file", "path", type=click.Path(path_type=Path, dir_okay=False),
              help="Heartbeat file the daemon touches [default: the [health] heartbeat setting, "
                   "/tmp/smartcity-heartbeat].")
@click.option("--max-age", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds after which a silent daemon counts as unhealthy.")
@click.pass_context
def health(ctx: click.Context, path: Path | None, max_age: float) -> None:
    """Exit 0 when the daemon in this container beat recently, 1 otherwise.

    \b
    Example:
      smartcity health --max-age 60     # Dockerfile: HEALTHCHECK CMD ["smartcity", "health"]
    """
    from smartcity.ingest.health import heartbeat_age, heartbeat_status

    path = settings_for(ctx, health={"heartbeat": path}).health.heartbeat
    age = heartbeat_age(path)
    if age is None:
        err.print(f"unhealthy: no heartbeat at {path}")
        raise SystemExit(1)
    if age > max_age:
        err.print(f"unhealthy: last heartbeat {age:.0f} s ago (limit {max_age:.0f} s)")
        raise SystemExit(1)
    status = heartbeat_status(path)
    err.print(f"healthy: last heartbeat {age:.1f} s ago" + (f" ({status})" if status and status != "ok" else ""),
              markup=False)
