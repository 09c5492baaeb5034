"""Pieces shared by the command modules: context, option decorators, settings, consoles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from smartcity.core.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class AppContext:
    config_file: Path | None = None
    verbose: int = 0


def parse_properties(values: tuple[str, ...]) -> dict[str, str] | None:
    """``-X key=value`` pairs as a dict (None when none given)."""
    if not values:
        return None
    props: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="'-X/--kafka-property'")
        props[key.strip()] = value
    return props


def kafka_options(func: F) -> F:
    """``--bootstrap-servers`` and ``-X key=value`` (librdkafka property pass-through)."""
    func = click.option("-X", "--kafka-property", "kafka_properties", multiple=True, metavar="KEY=VALUE",
                        help="Kafka client property, repeatable (e.g. -X security.protocol=SASL_SSL).")(func)
    func = click.option("--bootstrap-servers", "-b", metavar="HOST:PORT[,...]",
                        help="Kafka bootstrap servers [default: the local broker, else localhost:9092].")(func)
    return func


def lake_option(func: F) -> F:
    return click.option("--lake", type=click.Path(path_type=Path, file_okay=False),
                        help="Lake root folder [default: ./lake, or SMARTCITY_LAKE].")(func)


def settings_for(ctx: click.Context, *, flag_names: dict[tuple[str, str], str] | None = None,
                 **sections: dict[str, Any]) -> Settings:
    """Effective settings with this command's flags as the top layer (a None flag was not given)."""
    app: AppContext = ctx.find_object(AppContext) or AppContext()
    return load_settings(app.config_file, sections, flag_names=flag_names)


def kafka_flags(bootstrap_servers: str | None, kafka_properties: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"bootstrap_servers": bootstrap_servers, "properties": parse_properties(kafka_properties)}


def setup_logging(verbose: int) -> None:
    """Warnings by default; ``-v`` info, ``-vv`` debug and librdkafka's own client log."""
    import logging

    from rich.logging import RichHandler

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=err, show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    logging.getLogger("smartcity.kafka.client").setLevel(logging.DEBUG if verbose >= 2 else logging.CRITICAL)
