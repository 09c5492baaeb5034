"""The demo leaves a catalog in which every raw view and mart has rows, and a report."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcity.flows.demo import offline_prefect, run_demo
from smartcity.flows.jobs import ALL_MARTS
from smartcity.storage.datasets import DATASETS

pytestmark = pytest.mark.slow


def test_demo_fills_every_view(tmp_path: Path) -> None:
    offline_prefect(tmp_path / ".prefect")
    steps: list[str] = []
    result = run_demo(tmp_path / "lake", history_days=35, step=steps.append)
    assert steps and result.report is not None and result.report.exists()
    assert result.report.read_text().count("<section") >= 8
    expected = set(DATASETS) | set(ALL_MARTS)
    assert expected <= set(result.counts), expected - set(result.counts)
    empty = sorted(name for name in expected if result.counts[name] == 0)
    assert not empty, f"views without rows: {empty}"
