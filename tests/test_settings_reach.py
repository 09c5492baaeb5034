"""One settings path: a value set only in ``smartcity.toml`` reaches every entry point (commands,
daemons, flows). Each test runs from a directory that is not the lake's parent, so a hard-coded
default (``./lake``, ``parquet``, the daemon's group) would be visibly used instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smartcity.core.resources import samples_dir

DAY = "2026-03-10"  # the committed sample day


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``<tmp>/site/lake`` (a copy of the sample day) named only by ``<tmp>/site/smartcity.toml``;
    the working directory is ``<tmp>/elsewhere``."""
    root = tmp_path / "site"
    shutil.copytree(samples_dir(), root / "lake")
    (root / "smartcity.toml").write_text(f'[lake]\npath = "{root / "lake"}"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in [n for n in os.environ if n.startswith("SMARTCITY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SMARTCITY_CONFIG", str(root / "smartcity.toml"))
    return root


def add_settings(site: Path, text: str) -> None:
    with (site / "smartcity.toml").open("a") as f:
        f.write("\n" + text + "\n")


def smartcity(*args: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, "-m", "smartcity.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())
    assert done.returncode == 0, f"smartcity {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout + done.stderr


def files(root: Path, suffix: str) -> list[Path]:
    return [p for p in root.rglob(f"*{suffix}") if "_state" not in p.parts]


# -- commands -------------------------------------------------------------------------------------


def test_config_show(site: Path) -> None:
    assert str(site / "lake") in smartcity("config", "show")


def test_simulate_to_lake_uses_the_lake_and_its_format(site: Path) -> None:
    (site / "smartcity.toml").write_text(f'[lake]\npath = "{site / "fresh"}"\nformat = "csv"\n')
    smartcity("simulate", "--to", "lake", "--duration", "10m", "--domains", "air")
    assert files(site / "fresh", ".csv") and not files(site / "fresh", ".parquet")
    assert not Path("lake").exists()


def test_sql_reads_the_configured_lake(site: Path) -> None:
    out = smartcity("sql", "--format", "csv", "SELECT count(*) AS n FROM bus_telemetry", "--refresh")
    assert int(out.split()[1]) > 1000
    assert (site / "lake" / "smartcity.duckdb").exists()


def test_report_writes_into_the_configured_lake(site: Path) -> None:
    smartcity("report", "--date", DAY, timeout=600)
    assert (site / "lake" / "reports" / f"smartcity-report-{DAY}.html").exists()


def test_compact_works_on_the_configured_lake(site: Path) -> None:
    """Without the setting it would stop with "no lake at ./lake" (nothing is there)."""
    assert "compacted" in smartcity("compact", "--older-than", "1h")
    assert not Path("lake").exists()


def test_health_reads_the_heartbeat_setting(site: Path) -> None:
    beat = site / "beat"
    add_settings(site, f'[health]\nheartbeat = "{beat}"')
    done = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "health"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and str(beat) in done.stderr + done.stdout
    beat.touch()
    smartcity("health")


# -- flows ----------------------------------------------------------------------------------------


@pytest.fixture
def offline_flows(tmp_path: Path) -> None:
    from smartcity.flows.demo import offline_prefect

    offline_prefect(tmp_path / ".prefect")


@pytest.mark.slow
@pytest.mark.parametrize(("flow", "marts"), [
    ("air_quality", ["air_quality_hourly"]),
    ("bus_operations", ["bus_occupancy", "route_performance"]),
    ("station_service", ["station_service"]),
])
def test_flows_read_the_lake_from_the_settings(site: Path, offline_flows: None, flow: str,
                                               marts: list[str]) -> None:
    from smartcity.flows.pipelines import FLOWS
    from smartcity.storage.marts import read_mart

    FLOWS[flow](date=DAY)
    for mart in marts:
        assert read_mart(site / "lake", mart).height > 0, mart
    assert not Path("lake").exists()


@pytest.mark.slow
def test_maintenance_and_daily_report_flows_read_the_lake_from_the_settings(site: Path, offline_flows: None) -> None:
    from smartcity.flows.pipelines import FLOWS

    assert FLOWS["maintenance"]()["views"] > 0
    assert (site / "lake" / "smartcity.duckdb").exists()
    path = Path(FLOWS["daily_report"](date=DAY))
    assert path.parent.parent == site / "lake"


# -- Kafka: the daemons and the ingest_batch flow ------------------------------------------------------


def kafka_section(settings) -> str:  # type: ignore[no-untyped-def]
    return (f'[kafka]\nbootstrap_servers = "{settings.bootstrap_servers}"\n'
            f'topic_prefix = "{settings.topic_prefix}"\npartitions = {settings.partitions}')


@pytest.mark.kafka
def test_topics_create_uses_the_configured_prefix(site: Path, kafka_settings) -> None:  # type: ignore[no-untyped-def]
    from smartcity.ingest.kafka.admin import admin_client

    add_settings(site, kafka_section(kafka_settings))
    smartcity("topics", "create")
    names = set(admin_client(kafka_settings).list_topics(timeout=30).topics)
    assert kafka_settings.topic("bus") in names


@pytest.mark.kafka
def test_ingest_lands_in_the_configured_lake_format_and_group(site: Path, kafka_settings, unique: str) -> None:  # type: ignore[no-untyped-def]
    from smartcity.ingest.kafka.admin import create_topics

    from .alerts.brokers import committed
    from .ingest.helpers import produce_bus

    create_topics(kafka_settings, [kafka_settings.topic("bus")])
    produce_bus(kafka_settings, 0, 500)
    (site / "smartcity.toml").write_text(
        f'[lake]\npath = "{site / "h5lake"}"\nformat = "hdf5"\n\n{kafka_section(kafka_settings)}\n\n'
        f'[ingest]\ngroup = "g-{unique}"\ntopics = ["bus"]\n')
    smartcity("ingest", "--until-caught-up", timeout=300)
    assert files(site / "h5lake", ".h5") and not files(site / "h5lake", ".parquet")
    assert committed(kafka_settings, f"g-{unique}") == 500


@pytest.mark.kafka
@pytest.mark.slow
def test_ingest_batch_flow_uses_the_configured_format(site: Path, kafka_settings, unique: str,  # type: ignore[no-untyped-def]
                                                      offline_flows: None) -> None:
    from smartcity.flows.pipelines import FLOWS
    from smartcity.ingest.kafka.admin import create_topics

    from .ingest.helpers import produce_bus

    create_topics(kafka_settings, [kafka_settings.topic("bus")])
    produce_bus(kafka_settings, 0, 300)
    (site / "smartcity.toml").write_text(
        f'[lake]\npath = "{site / "h5lake"}"\nformat = "hdf5"\n\n{kafka_section(kafka_settings)}\n\n'
        f'[ingest]\ngroup = "g-{unique}"\ntopics = ["bus"]\n')
    result = FLOWS["ingest_batch"]()
    assert result["rows"] == 300
    assert files(site / "h5lake", ".h5") and not files(site / "h5lake", ".parquet")


@pytest.mark.kafka
def test_alerts_daemon_uses_the_configured_group(site: Path, kafka_settings, unique: str) -> None:  # type: ignore[no-untyped-def]
    from smartcity.ingest.kafka.admin import create_topics

    from .alerts.brokers import committed
    from .ingest.helpers import produce_bus

    create_topics(kafka_settings, [kafka_settings.topic(k) for k in ("bus", "air", "station")])
    produce_bus(kafka_settings, 0, 200)
    add_settings(site, kafka_section(kafka_settings) + f'\n\n[alerts]\ngroup = "a-{unique}"\nstreams = ["bus"]\n')
    smartcity("alerts", "--until-idle", "3s", "--quiet", timeout=300)
    assert committed(kafka_settings, f"a-{unique}") == 200
