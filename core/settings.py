"""Effective settings: defaults < smartcity.toml < SMARTCITY_* environment < command-line flags.

One model per concern; the entry point reads them once and passes them down.

Environment variables are ``SMARTCITY_<SECTION>_<FIELD>`` (``SMARTCITY_KAFKA_BOOTSTRAP_SERVERS``,
``SMARTCITY_LAKE_FORMAT``), plus ``SMARTCITY_LAKE`` for the lake path and
``SMARTCITY_KAFKA_PROPERTY_<NAME>`` for Kafka client properties (``SASL_MECHANISM`` ->
``sasl.mechanism``). The config file is ``--config``, else ``$SMARTCITY_CONFIG``, else
``./smartcity.toml`` when present.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from smartcity.core.errors import ConfigError
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.edge.settings import EdgeSettings
from smartcity.ingest.health import HealthSettings
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.settings import IngestSettings
from smartcity.live.settings import LiveSettings
from smartcity.storage.settings import LakeSettings

ENV_PREFIX = "SMARTCITY_"
DEFAULT_CONFIG = Path("smartcity.toml")
_SECRET = re.compile(r"(password|secret|jaas|token|\.key$|api[._]?key|credentials)", re.I)
_ALIASES = {"SMARTCITY_LAKE": ("lake", "path"), "SMARTCITY_HEARTBEAT": ("health", "heartbeat")}
_PROPERTY_PREFIX = "SMARTCITY_KAFKA_PROPERTY_"


class Settings(BaseModel):
    """All of smartcity's settings, one section per concern."""

    model_config = ConfigDict(extra="forbid")

    kafka: KafkaSettings = KafkaSettings()
    lake: LakeSettings = LakeSettings()
    ingest: IngestSettings = IngestSettings()
    alerts: AlertSettings = AlertSettings()
    edge: EdgeSettings = EdgeSettings()
    live: LiveSettings = LiveSettings()
    health: HealthSettings = HealthSettings()


SECTIONS: dict[str, type[BaseModel]] = {
    name: typing.get_type_hints(Settings)[name] for name in Settings.model_fields
}


def _is_list(model: type[BaseModel], field: str) -> bool:
    annotation = model.model_fields[field].annotation
    return typing.get_origin(annotation) in (list, tuple) or annotation in (list, tuple)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _from_env(environ: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
    values: dict[str, dict[str, Any]] = {}
    sources: dict[tuple[str, str], str] = {}
    for var, (section, field) in _ALIASES.items():
        if environ.get(var):
            values.setdefault(section, {})[field] = environ[var]
            sources[(section, field)] = var
    for section, model in SECTIONS.items():
        for field in model.model_fields:
            if field == "properties":
                continue
            var = f"{ENV_PREFIX}{section.upper()}_{field.upper()}"
            if var in environ and environ[var] != "":
                raw: Any = environ[var]
                if _is_list(model, field):
                    raw = [item.strip() for item in raw.split(",") if item.strip()]
                values.setdefault(section, {})[field] = raw
                sources[(section, field)] = var
    props = {
        var[len(_PROPERTY_PREFIX):].lower().replace("_", "."): value
        for var, value in environ.items()
        if var.startswith(_PROPERTY_PREFIX) and var != _PROPERTY_PREFIX
    }
    if props:
        values.setdefault("kafka", {})["properties"] = props
        sources[("kafka", "properties")] = f"{_PROPERTY_PREFIX}*"
    return values, sources


def _merge(base: dict[str, dict[str, Any]], layer: Mapping[str, Mapping[str, Any]]) -> None:
    for section, fields in layer.items():
        target = base.setdefault(section, {})
        for key, value in fields.items():
            if key == "properties" and isinstance(value, Mapping):
                target.setdefault("properties", {}).update({str(k): str(v) for k, v in value.items()})
            else:
                target[key] = value


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    if explicit:
        return explicit
    if environ.get("SMARTCITY_CONFIG"):
        return Path(environ["SMARTCITY_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(
    config_file: Path | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    flag_names: Mapping[tuple[str, str], str] | None = None,
) -> Settings:
    """Merge the layers and validate once; raise :class:`ConfigError` naming the first bad value.

    ``flags`` are the explicit arguments of the entry point (a command's flags, a flow's parameters):
    ``{section: {field: value}}``, where None means "not given". ``flag_names`` says how to name a
    field's flag in an error when it is not ``--<field>``.
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, dict[str, Any]] = {}
    sources: dict[tuple[str, str], str] = {}
    path = config_path(config_file, environ)
    if path is not None:
        data = _read_toml(path)
        for section, fields in data.items():
            if section not in SECTIONS:
                raise ConfigError(f"unknown section [{section}] in {path}; known: {', '.join(SECTIONS)}")
            if not isinstance(fields, dict):
                raise ConfigError(f"[{section}] in {path} must be a table")
            for key in fields:
                sources[(section, key)] = str(path)
        _merge(merged, data)
    env_values, env_sources = _from_env(environ)
    _merge(merged, env_values)
    sources.update(env_sources)
    if flags:
        clean = {s: {k: v for k, v in f.items() if v is not None} for s, f in flags.items()}
        _merge(merged, clean)
        for section, fields in clean.items():
            for key in fields:
                sources[(section, key)] = (flag_names or {}).get((section, key), f"--{key.replace('_', '-')}")
    built: dict[str, BaseModel] = {}
    for section, model in SECTIONS.items():
        given = merged.get(section, {})
        try:
            built[section] = model.model_validate(given)
        except ValidationError as exc:
            raise _config_error(section, given, sources, exc) from None
    settings = Settings(**built)  # type: ignore[arg-type]
    if settings.kafka.bootstrap_servers is None:
        settings.kafka.bootstrap_servers = _default_bootstrap()
    return settings


def _default_bootstrap() -> str:
    """No servers configured: the development broker `smartcity kafka start` left running, else localhost."""
    from smartcity.devbroker.state import recorded_bootstrap
    from smartcity.ingest.kafka.settings import DEFAULT_BOOTSTRAP

    return recorded_bootstrap() or DEFAULT_BOOTSTRAP


def _config_error(section: str, given: Mapping[str, Any], sources: Mapping[tuple[str, str], str],
                  exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:  # a rule across fields
        return ConfigError(f"invalid [{section}] settings: {msg}")
    field = str(err["loc"][0])
    name = f"{section}.{field}"
    source = sources.get((section, field), "defaults")
    if err["type"] == "extra_forbidden":
        return ConfigError(f"unknown setting {name} (from {source})")
    value = given.get(field)
    return ConfigError(f"invalid setting {name} = {value!r} (from {source}): {msg}")


def masked(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if key and _SECRET.search(key) and value not in (None, ""):
        return "****"
    return value


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    """Effective settings as plain data, secrets masked."""
    plain: dict[str, Any] = masked(settings.model_dump(mode="json"))
    return plain
