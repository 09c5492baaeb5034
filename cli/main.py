"""Entry point of the ``smartcity`` console script.

Sub-commands live in their own modules and are imported only when used, so ``smartcity --help``
and light commands start fast.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from smartcity.cli.common import AppContext, err, setup_logging
from smartcity.core.errors import SmartcityError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

COMMANDS: dict[str, str] = {
    "alerts": "smartcity.cli.alerts_cmd:alerts",
    "bench": "smartcity.cli.bench_cmd:bench",
    "compact": "smartcity.cli.compact_cmd:compact",
    "config": "smartcity.cli.config_cmds:config",
    "demo": "smartcity.cli.demo_cmd:demo",
    "edge": "smartcity.cli.edge_cmd:edge",
    "health": "smartcity.cli.health_cmd:health",
    "ingest": "smartcity.cli.ingest_cmd:ingest",
    "kafka": "smartcity.cli.kafka_cmds:kafka",
    "lag": "smartcity.cli.lag_cmd:lag",
    "live": "smartcity.cli.live_cmd:live",
    "report": "smartcity.cli.report_cmd:report",
    "samples": "smartcity.cli.samples_cmd:samples",
    "serve": "smartcity.cli.serve_cmd:serve",
    "simulate": "smartcity.cli.simulate_cmd:simulate",
    "sql": "smartcity.cli.sql_cmd:sql",
    "topics": "smartcity.cli.kafka_cmds:topics",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module, attr = spec.split(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              envvar="SMARTCITY_CONFIG", help="Settings file [default: ./smartcity.toml if present].")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.version_option(package_name="smartcity-platform")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, verbose: int) -> None:
    """smartcity: bus, air-quality and station telemetry from Kafka into a lake,
    analytics, alerts and reports.

    \b
    Example:
      smartcity kafka start && smartcity topics create
      smartcity simulate --to kafka --duration 2h & smartcity ingest --until-caught-up
    """
    setup_logging(verbose)
    ctx.obj = AppContext(config_file=config_file, verbose=verbose)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr (exit 2 for usage/config, 1 otherwise)."""
    try:
        cli.main(args=argv, prog_name="smartcity", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help(), err=True)
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
