"""Deployments read from ``prefect.yaml`` (the single place schedules are declared).

Entrypoints are module paths (``smartcity.flows.pipelines:air_quality``), so they resolve in any
install. Parameters left out of a deployment come from the settings when the flow runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smartcity.core.errors import DeploymentError
from smartcity.core.resources import prefect_yaml


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow_name: str
    entrypoint: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[tuple[str, str], ...] = ()  # (cron, timezone)

    def load_flow(self) -> Any:
        module, _, attr = self.entrypoint.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise DeploymentError(f"deployment {self.name}: cannot load {self.entrypoint} ({exc})") from None


def read_deployments(path: Path | None = None) -> list[DeploymentSpec]:
    """The deployments of ``path`` (default: the packaged ``prefect.yaml``)."""
    path = path or prefect_yaml()
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DeploymentError(f"cannot read {path}: {exc}") from None
    specs = []
    for d in doc.get("deployments", []):
        schedules = tuple((s["cron"], s.get("timezone", "UTC")) for s in d.get("schedules", []) if "cron" in s)
        entry = d["entrypoint"]
        specs.append(DeploymentSpec(d["name"], entry.rsplit(":", 1)[1], entry, d.get("description", ""),
                                    dict(d.get("parameters") or {}), schedules))
    return specs


def runner_deployments(lake: Path | None = None, path: Path | None = None) -> list[Any]:
    """``RunnerDeployment`` objects for ``prefect.serve``; ``lake``, when given, becomes every flow's
    ``lake`` parameter (otherwise the flows read it from the settings when they run)."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    out = []
    for spec in read_deployments(path):
        params = dict(spec.parameters)
        if lake is not None:
            params["lake"] = str(lake)
        flow = spec.load_flow()
        out.append(flow.to_deployment(name=spec.name, description=spec.description, parameters=params,
                                      schedules=[Cron(c, timezone=tz) for c, tz in spec.schedules],
                                      tags=["smartcity"], entrypoint_type=EntrypointType.MODULE_PATH))
    return out
