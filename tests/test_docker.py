"""The compose file is valid and its services use commands the CLI has (where a compose client exists)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from smartcity.cli.main import cli

from .conftest import REPO

COMPOSE = REPO / "docker-compose.yml"


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_docker_compose_config_is_valid() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose client on this machine")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr


def test_compose_runs_the_services_the_design_names() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    wanted = {"topics-init": "topics", "ingest": "ingest", "alerts": "alerts", "simulator": "simulate",
              "flows": "serve", "edge": "edge", "live": "live"}
    for service, subcommand in wanted.items():
        assert services[service]["command"][0] == subcommand
    assert "prefect-server" in services and "lake" in spec["volumes"]
    assert services["ingest"]["stop_grace_period"] == "60s"
    # the edge gateway spools on a volume of its own and reaches Mosquitto by name
    assert services["edge"]["environment"]["SMARTCITY_EDGE_MQTT_HOST"] == "mosquitto"
    assert "edge-spool:/spool" in services["edge"]["volumes"] and "mosquitto" in services["edge"]["depends_on"]
    conf = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "persistence true" in conf and "max_queued_messages 0" in conf
    # the live view keeps its state on a volume (embedded SurrealDB); a SurrealDB server is a profile away,
    # the same engine version as the one the Python SDK embeds
    assert "live-state:/live-state" in services["live"]["volumes"]
    assert "surrealkv:///live-state/" in services["live"]["environment"]["SMARTCITY_LIVE_STORE"]
    assert services["surrealdb"]["profiles"] == ["surrealdb"]
    assert services["surrealdb"]["image"] == "surrealdb/surrealdb:v2.3.10"


def test_compose_publishes_on_loopback_and_binds_metrics_in_the_network() -> None:
    """Closed by default: every published port is on the host's 127.0.0.1; the metrics servers listen
    on every interface inside their containers only because compose says so."""
    spec = yaml.safe_load(COMPOSE.read_text())
    published = {name: svc["ports"] for name, svc in spec["services"].items() if svc.get("ports")}
    assert set(published) == {"kafka", "ingest", "alerts", "prefect-server", "mosquitto", "edge", "live", "surrealdb"}
    for ports in published.values():
        assert all(str(port).startswith("127.0.0.1:") for port in ports), ports
    assert spec["services"]["ingest"]["environment"]["SMARTCITY_INGEST_METRICS_HOST"] == "0.0.0.0"
    assert spec["services"]["alerts"]["environment"]["SMARTCITY_ALERTS_METRICS_HOST"] == "0.0.0.0"
    assert spec["services"]["edge"]["environment"]["SMARTCITY_EDGE_METRICS_HOST"] == "0.0.0.0"
    assert spec["services"]["ingest"]["environment"]["SMARTCITY_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
    assert "SMARTCITY_SQL_SAFE=true" in (REPO / "Dockerfile").read_text()


def test_compose_subcommands_exist_in_the_cli() -> None:
    """Every sub-command the compose file runs is a real `smartcity` command (once its issue lands)."""
    spec = yaml.safe_load(COMPOSE.read_text())
    commands = {svc["command"][0] for svc in spec["services"].values()
                if isinstance(svc.get("command"), list) and svc.get("image", "").startswith("smartcity")}
    missing = commands - set(cli.list_commands(None))  # type: ignore[arg-type]
    assert not missing, f"compose runs sub-commands the CLI lacks: {missing}"


def test_dockerfile_is_slim_non_root_with_entrypoint_and_healthcheck() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER smartcity" in text and 'ENTRYPOINT ["smartcity"]' in text
    assert 'CMD ["smartcity", "health"' in text


def test_image_installs_the_built_wheel_not_the_source_tree() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "pip wheel" in text and "/dist/*.whl" in text
    assert "-e ." not in text and "--editable" not in text
    final = text.rsplit("FROM ", 1)[1]  # the runtime stage copies no source room
    rooms = ("proto", "ingest", "storage", "analysis", "flows", "cli", "core", "data")
    assert not any(f"COPY {room}" in final for room in rooms)
