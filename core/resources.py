"""Files that ship inside the package: the city model, the sample day, prefect.yaml.

They are found through :mod:`importlib.resources`, so a regular wheel install works from any
directory, not only a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from smartcity.core.errors import TerminalError


def package_path(package: str, *parts: str) -> Path:
    """``parts`` inside ``package`` (``smartcity.data``, ``smartcity.flows``) as a file-system path."""
    resource = files(package).joinpath(*parts)
    path = Path(str(resource))
    if not path.exists():
        raise TerminalError(f"{'/'.join(parts)} is missing from the installed {package}; reinstall smartcity")
    return path


def city_dir() -> Path:
    """The default city model (``data/city``)."""
    return package_path("smartcity.data", "city")


def samples_dir() -> Path:
    """The committed sample day (``data/samples``), a lake of raw data."""
    return package_path("smartcity.data", "samples")


def prefect_yaml() -> Path:
    """The deployments file (``flows/prefect.yaml``)."""
    return package_path("smartcity.flows", "prefect.yaml")
