"""``smartcity bench all --quick``: every experiment runs against a real broker and writes its results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartcity.bench.registry import EXPERIMENTS


@pytest.mark.slow
def test_quick_suite_writes_every_experiment(kafka_bootstrap: str, tmp_path: Path) -> None:
    from smartcity.bench.transport_gateway import mosquitto_binary
    from smartcity.bench.transports import LABELS

    out, report = tmp_path / "results", tmp_path / "docs" / "benchmarks.md"
    result = subprocess.run(
        [sys.executable, "-m", "smartcity.cli.main", "bench", "all", "--quick", "--output", str(out),
         "--bootstrap-servers", kafka_bootstrap, "--publish", str(report)],
        capture_output=True, text=True, timeout=540, env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = report.read_text()
    for name in EXPERIMENTS:
        for suffix in (".json", ".md", ".png"):
            assert (out / f"{name}{suffix}").stat().st_size > 0, f"{name}{suffix} missing"
        payload = json.loads((out / f"{name}.json").read_text())
        assert payload["experiment"] == name
        assert payload["rows"], f"{name}: no rows"
        assert payload["headline"] and all(str(v) != "" for v in payload["headline"].values()), name
        assert payload["title"] in text
        assert (report.parent / "bench" / f"{name}.png").exists()
    analytics = json.loads((out / "analytics.json").read_text())
    assert all(row["agree"] != "DIFFERENT" for row in analytics["rows"])
    # devices into Kafka four ways (direct, and ZeroMQ, Zenoh, MQTT through the gateway): every message once
    transports = json.loads((out / "transports.json").read_text())
    rows = {row["way"]: row for row in transports["rows"]}
    assert list(rows) == list(LABELS.values())
    for way, label in LABELS.items():
        row = rows[label]
        if way == "mqtt" and mosquitto_binary() is None:
            assert "not measured" in row["note"]
            continue
        assert row["missing"] == 0 and row.get("strangers", 0) == 0, row
        assert row["msgs/s"] > 0 and row["p50 ms 2,000/s"] is not None and row["CPU s/10k"] > 0, row
    assert transports["headline"]["every message in Kafka once"] == "yes"
    # SurrealDB beside the lake formats: the same rows, the same aggregate, the same groups
    formats = {row["format"]: row for row in json.loads((out / "formats.json").read_text())["rows"]}
    assert formats["surrealdb"]["groups"] == formats["parquet"]["groups"] > 0
    assert formats["surrealdb"]["write msgs/s"] > 0 and formats["surrealdb"]["query s"] > 0
    # scale: every row landed once at every size of the group; alerts grown 1 -> 2 gave what 1 member gave
    scale = json.loads((out / "scale.json").read_text())
    assert scale["headline"]["every row landed once"] == "yes"
    assert scale["headline"]["alerts 1 → 2 members = 1 member"] == "yes"
    paths = {row["run"]: row["members over time"] for row in scale["rows"]}
    assert paths["KEDA 1 → 3 → 1"].startswith("1 → 3") and paths["KEDA 1 → 3 → 1"].endswith("→ 1")
    assert paths["alerts, KEDA 1 → 2"] == "1 → 2"
    assert len(scale["curves"]) == 6
    # the live view: every healthy client stayed connected in both phases; the stalled one overflowed its queue
    live = json.loads((out / "live.json").read_text())
    assert [row["healthy clients"] for row in live["rows"]] == [100, 100, 100]
    assert all(row["updates timed"] > 0 for row in live["rows"])
    assert live["headline"]["updates dropped for the stalled client"] > 0
