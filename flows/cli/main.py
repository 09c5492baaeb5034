"""Entry point of the ``smartcity`` console script."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from flows.cli.common import AppContext, err, setup_logging
from flows.cli.config_cmds import config
from flows.cli.health_cmd import health
from flows.cli.ingest_cmd import ingest
from flows.cli.kafka_cmds import kafka, topics
from flows.cli.simulate_cmd import simulate
from proto.errors import SmartcityError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              envvar="SMARTCITY_CONFIG", help="Settings file [default: ./smartcity.toml if present].")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.version_option(package_name="smartcity")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, verbose: int) -> None:
    """smartcity: bus, air-quality and station telemetry from Kafka into a lake,
    analytics, alerts and reports.

    \b
    Example:
      smartcity kafka start && smartcity topics create
      smartcity config show
    """
    setup_logging(verbose)
    ctx.obj = AppContext(config_file=config_file, verbose=verbose)


cli.add_command(config)
cli.add_command(health)
cli.add_command(ingest)
cli.add_command(simulate)
cli.add_command(kafka)
cli.add_command(topics)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr (exit 2 for usage/config, 1 otherwise)."""
    try:
        cli.main(args=argv, prog_name="smartcity", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=True)
        return 2
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        err.print(f"smartcity: error: {exc.format_message()}{hint}", markup=False)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        err.print("smartcity: aborted", markup=False)
        return 130
    except SmartcityError as exc:
        err.print(f"smartcity: error: {exc}", markup=False)
        return int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
