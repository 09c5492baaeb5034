"""Against a real `prefect server start`: deployments from prefect.yaml registered with their
schedules by `smartcity serve`, and a run triggered through the API completes and writes marts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smartcity.core.resources import samples_dir
from smartcity.flows.deployments import read_deployments
from smartcity.storage.marts import read_mart
from tests.conftest import unavailable
from tests.marts.lakes import land, telemetry

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false", "PREFECT_API_URL": ""}
    prefect = Path(sys.executable).with_name("prefect")
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                unavailable(f"prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
    try:
        yield {**env, "PREFECT_API_URL": url}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def test_serve_registers_schedules_and_a_triggered_run_writes_marts(prefect_api: dict[str, str],
                                                                     tmp_path: Path) -> None:
    """The lake is named only in the settings file given with --config: the served flows find it there."""
    lake = tmp_path / "lake"
    shutil.copytree(samples_dir(), lake)
    config = tmp_path / "smartcity.toml"
    config.write_text(f'[lake]\npath = "{lake.resolve()}"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in prefect_api.items() if not k.startswith("SMARTCITY_")}
    serve = subprocess.Popen([sys.executable, "-m", "smartcity.cli.main", "--config", str(config), "serve"],
                             env=env, cwd=elsewhere,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        from prefect.client.orchestration import get_client
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        expected = {f"{d.flow_name}/{d.name}": d for d in read_deployments()}

        async def registered() -> dict[str, object]:
            async with get_client() as client:
                found = {}
                for name in expected:
                    with contextlib.suppress(ObjectNotFound):
                        found[name] = await client.read_deployment_by_name(name)
                return found

        from prefect.settings import PREFECT_API_URL, temporary_settings

        api = temporary_settings(updates={PREFECT_API_URL: prefect_api["PREFECT_API_URL"]})
        api.__enter__()
        deadline = time.monotonic() + 120
        found: dict[str, object] = {}
        while len(found) < len(expected) and time.monotonic() < deadline:
            assert serve.poll() is None, serve.stderr.read() if serve.stderr else ""
            found = asyncio.run(registered())
            time.sleep(1)
        assert set(found) == set(expected)
        for name, spec in expected.items():
            deployment = found[name]
            crons = {(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules}  # type: ignore[attr-defined]
            assert crons == set(spec.schedules), name
            assert "lake" not in deployment.parameters  # type: ignore[attr-defined]  # read when each run starts

        run = run_deployment("bus_operations/bus-operations-hourly", parameters={"date": "2026-03-10"},
                             timeout=240)
        assert run.state is not None and run.state.is_completed(), run.state
        performance = read_mart(lake, "route_performance")
        assert performance.height > 5 and set(performance["date"].cast(str)) == {"2026-03-10"}
        assert read_mart(lake, "bus_occupancy").height > 100
        assert (lake / "smartcity.duckdb").exists()  # the flow refreshed the catalog
        assert not (elsewhere / "lake").exists()

        async def artifacts() -> set[str]:
            async with get_client() as client:
                return {a.key for a in await client.read_artifacts() if a.key}

        assert {"bus-operations-summary", "bus-operations-marts"} <= asyncio.run(artifacts())

        async def marts_table() -> Any:
            async with get_client() as client:
                found = [a for a in await client.read_artifacts() if a.key == "bus-operations-marts"]
                return found[0].data

        data = asyncio.run(marts_table())
        table = json.loads(data) if isinstance(data, str) else data
        by_mart = {row["mart"]: row for row in table}
        route = by_mart["route_performance"]  # what it read: the day and the day before of station events
        assert route["rows_read"] > 1000 and route["partitions_read"] >= 24 and route["bytes_read"] > 0

        # the nightly maintenance: a trickle left two files in one partition-hour; compaction leaves one
        t = int(datetime(2026, 3, 10, 8, 30, tzinfo=UTC).timestamp() * 1000)
        land(lake, "parquet", "bus_telemetry", [telemetry("B1", "R1", t, 5)], partition=9)
        land(lake, "parquet", "bus_telemetry", [telemetry("B1", "R1", t + 1000, 6)], partition=9, first_offset=1)
        run = run_deployment("maintenance/maintenance-nightly", timeout=240)
        assert run.state is not None and run.state.is_completed(), run.state

        async def files_table() -> Any:
            async with get_client() as client:
                return next(a for a in await client.read_artifacts() if a.key == "maintenance-files").data

        data = asyncio.run(files_table())
        files = {row["dataset"]: row for row in (json.loads(data) if isinstance(data, str) else data)}
        assert files["bus_telemetry"]["files_per_partition_hour_before"] > 1.0
        assert {row["files_per_partition_hour_after"] for row in files.values()} == {1.0}
        api.__exit__(None, None, None)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(30)
