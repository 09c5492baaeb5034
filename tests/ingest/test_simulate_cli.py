"""`smartcity simulate` into Kafka, the lake and files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from smartcity.ingest.kafka.admin import create_topics
from smartcity.proto.codec import CODECS
from smartcity.storage.scan import read_table

from .helpers import consume_all, sink_env

START = "2026-03-10T06:00:00Z"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.kafka
def test_simulate_to_kafka_reads_back_every_message_keyed_by_device(kafka_settings, tmp_path: Path,
                                                                      unique: str) -> None:
    create_topics(kafka_settings)
    env = sink_env(kafka_settings, tmp_path)
    result = cli("simulate", "--to", "kafka", "--duration", "20m", "--start", START, "--seed", "3",
                 "--bootstrap-servers", kafka_settings.bootstrap_servers or "", env=env)
    assert result.returncode == 0, result.stderr
    import re

    produced = int(re.search(r"produced\W+([\d,]+)", result.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    failed = int(re.search(r"failed\W+([\d,]+)", result.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert failed == 0 and produced > 5000
    got = []
    for kind in ("bus", "air", "station"):
        msgs = consume_all(kafka_settings, kafka_settings.topic(kind), f"read-{kind}-{unique}")
        got += [(kind, m) for m in msgs]
        assert msgs
    assert len(got) == produced
    key_field = {"bus": "bus_id", "air": "sensor_id", "station": "station_id"}
    per_partition_keys: dict[tuple[str, bytes], set[int]] = {}
    for kind, m in got:
        headers = dict(m.headers())
        decoded = CODECS[headers["smartcity-type"].decode()].decode(m.value(), m.headers())
        assert getattr(decoded, key_field[kind]).encode() == m.key()
        per_partition_keys.setdefault((kind, m.key()), set()).add(m.partition())
    assert all(len(parts) == 1 for parts in per_partition_keys.values())  # a device's messages stay in order


def test_simulate_to_lake_lands_all_three_datasets(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    result = cli("simulate", "--to", "lake", "--lake", str(lake), "--duration", "30m", "--start", START)
    assert result.returncode == 0, result.stderr
    counts = {ds: read_table(lake, ds).num_rows for ds in ("bus_telemetry", "air_readings", "station_events")}
    assert all(n > 0 for n in counts.values()), counts
    again = cli("simulate", "--to", "lake", "--lake", str(lake), "--duration", "30m", "--start", START)
    assert again.returncode == 0
    assert {ds: read_table(lake, ds).num_rows for ds in counts} == counts  # a repeated run replaces its files


def test_simulate_to_files_with_faults_reports_counts(tmp_path: Path) -> None:
    out = tmp_path / "files"
    result = cli("simulate", "--to", "files", "--output", str(out), "--duration", "10m", "--start", START,
                 "--domains", "bus,air", "--malformed", "0.05", "--duplicates", "0.02")
    assert result.returncode == 0, result.stderr
    assert "malformed injected" in result.stdout and "duplicates injected" in result.stdout
    lines = (out / "bus_telemetry.ndjson").read_bytes().splitlines()
    ok = 0
    for line in lines:
        try:
            json.loads(line)
            ok += 1
        except ValueError:
            pass
    assert 0 < ok < len(lines)
    assert not (out / "station_events.ndjson").exists()
    ids = Counter(json.loads(line).get("bus_id") for line in lines[:2000] if line.startswith(b"{") and
                  line.endswith(b"}") and b'"bus_id"' in line)
    assert len(ids) > 10
