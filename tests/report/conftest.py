"""Fixtures of the report tests: the sample lake with alerts, and its report built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.helpers import ALERT_RECORDS, DAY, copy_samples, land_alerts


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample lake with raw data only (no marts), plus two alerts of the day."""
    root = copy_samples(tmp_path_factory.mktemp("report") / "lake")
    land_alerts(root, ALERT_RECORDS)
    return root


@pytest.fixture(scope="session")
def sample_report(sample_lake: Path) -> Path:
    """The report of the sample day, built once."""
    from smartcity.report import build_report

    return build_report(sample_lake, DAY)
