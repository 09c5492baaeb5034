"""Fixtures of the mart tests: the scenario lake of ``tests.marts.lakes`` in every format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.marts.lakes import FORMATS, build_scenario


@pytest.fixture(scope="session")
def scenario_lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The scenario landed once per lake format."""
    return {fmt: build_scenario(tmp_path_factory.mktemp(f"lake-{fmt}"), fmt) for fmt in FORMATS}


@pytest.fixture(scope="session")
def lake(scenario_lakes: dict[str, Path]) -> Path:
    """The scenario as a Parquet lake."""
    return scenario_lakes["parquet"]
