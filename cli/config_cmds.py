"""``smartcity config ...``."""

from __future__ import annotations

import json

import click

from smartcity.cli.common import out, settings_for
from smartcity.core.settings import settings_as_dict


@click.group()
def config() -> None:
    """Inspect the effective settings.

    \b
    Example:
      smartcity config show
    """


@config.command()
@click.option("--format", "fmt", type=click.Choice(["toml", "json"]), default="toml", show_default=True)
@click.pass_context
def show(ctx: click.Context, fmt: str) -> None:
    """Print the effective settings (defaults < smartcity.toml < SMARTCITY_* < flags), secrets masked.

    \b
    Example:
      SMARTCITY_KAFKA_PARTITIONS=8 smartcity config show --format json
    """
    settings = settings_for(ctx)
    data = settings_as_dict(settings)
    if fmt == "json":
        out.print_json(json.dumps(data))
        return
    out.print(_to_toml(data), markup=False)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(str(value))


def _to_toml(data: dict[str, dict[str, object]]) -> str:
    lines: list[str] = []
    for section, fields in data.items():
        nested = {k: v for k, v in fields.items() if isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in fields.items() if k not in nested]
        for name, table in nested.items():
            lines.append(f"\n[{section}.{name}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table.items()]
        lines.append("")
    return "\n".join(lines)
