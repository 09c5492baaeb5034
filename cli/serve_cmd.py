"""``smartcity serve``: serve every deployment of prefect.yaml from this process."""

from __future__ import annotations

from pathlib import Path

import click

from smartcity.cli.common import AppContext, err, lake_option, settings_for


@click.command()
@lake_option
@click.option("--prefect-yaml", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Deployments file [default: the packaged flows/prefect.yaml].")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many flow runs at once.")
@click.pass_context
def serve(ctx: click.Context, lake: Path | None, prefect_yaml: Path | None, limit: int | None) -> None:
    """Register every deployment of prefect.yaml with its cron schedules on the Prefect server
    (PREFECT_API_URL) and run their flow runs here, without a work pool. Runs until stopped.

    \b
    Example:
      prefect server start &                      # or any Prefect server
      PREFECT_API_URL=http://127.0.0.1:4200/api smartcity serve --lake ./lake
    """
    import os

    from smartcity.flows.deployments import runner_deployments

    if not os.environ.get("PREFECT_API_URL"):
        raise click.UsageError("set PREFECT_API_URL to a Prefect server (schedules need `prefect server start`)")
    settings = settings_for(ctx, lake={"path": lake})
    app = ctx.find_object(AppContext)
    if app is not None and app.config_file is not None:  # the flow runs read the same file
        os.environ["SMARTCITY_CONFIG"] = str(app.config_file.resolve())
    deployments = runner_deployments(settings.lake.root if lake else None, prefect_yaml)
    err.print(f"serving {len(deployments)} deployments for lake {settings.lake.root}"
              + ("" if lake else " (from the settings when each run starts)"))
    from prefect import serve as prefect_serve

    prefect_serve(*deployments, limit=limit, print_starting_message=True)
