"""Settings: layering, pass-through, masking and one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smartcity.core.settings import ConfigError, load_settings, settings_as_dict
from smartcity.ingest.kafka.settings import KafkaSettings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "smartcity.toml"
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCITY_CACHE", str(tmp_path))  # no development broker recorded
    s = load_settings(environ={})
    assert s.kafka.bootstrap_servers == "localhost:9092" and s.kafka.partitions == 4
    assert s.lake.format == "parquet" and s.kafka.topic("bus") == "smartcity.bus.telemetry"
    assert s.health.heartbeat == Path("/tmp/smartcity-heartbeat")


def test_unset_servers_find_the_running_development_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smartcity.devbroker.state import ClusterState, Node, write_state

    monkeypatch.setenv("SMARTCITY_CACHE", str(tmp_path))
    write_state(ClusterState("4.4.0", "id", str(tmp_path), [Node(1, 39092, 39093, str(tmp_path), pid=os.getpid())]))
    assert load_settings(environ={}).kafka.bootstrap_servers == "127.0.0.1:39092"
    assert load_settings(environ={"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": "k:9092"}).kafka.bootstrap_servers == "k:9092"
    write_state(ClusterState("4.4.0", "id", str(tmp_path), [Node(1, 39092, 39093, str(tmp_path), pid=2**22 + 1)]))
    assert load_settings(environ={}).kafka.bootstrap_servers == "localhost:9092"  # its broker is gone


def test_the_kafka_client_config_never_reads_the_development_broker() -> None:
    import inspect

    from smartcity.ingest.kafka import config

    assert "devbroker" not in inspect.getsource(config)
    assert config.client_config(KafkaSettings())["bootstrap.servers"] == "localhost:9092"


def test_layers_rise_in_priority(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[kafka]\npartitions = 6\ntopic_prefix = "city"\nreplication_factor = 2\n'
                          '[lake]\npath = "/data/lake"\n')
    env = {"SMARTCITY_KAFKA_PARTITIONS": "8", "SMARTCITY_LAKE": "/env/lake"}
    s = load_settings(cfg, flags={"kafka": {"replication_factor": 3}}, environ=env)
    assert s.kafka.topic_prefix == "city"          # file
    assert s.kafka.partitions == 8                 # env beats file
    assert s.kafka.replication_factor == 3         # flag beats file
    assert s.lake.path == Path("/env/lake")        # SMARTCITY_LAKE beats file
    s2 = load_settings(cfg, flags={"lake": {"path": Path("/flag")}}, environ=env)
    assert s2.lake.path == Path("/flag")           # flag beats env


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = write(tmp_path, "[kafka]\npartitions = 12\n")
    assert load_settings(environ={"SMARTCITY_CONFIG": str(cfg)}).kafka.partitions == 12


def test_kafka_properties_pass_through_and_are_masked(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[kafka.properties]\n"security.protocol" = "SASL_SSL"\n"sasl.mechanism" = "PLAIN"\n')
    env = {"SMARTCITY_KAFKA_PROPERTY_SASL_PASSWORD": "hunter2", "SMARTCITY_KAFKA_PROPERTY_SASL_USERNAME": "svc"}
    s = load_settings(cfg, flags={"kafka": {"properties": {"ssl.ca.location": "/ca.pem"}}}, environ=env)
    assert s.kafka.properties == {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                                  "sasl.password": "hunter2", "sasl.username": "svc", "ssl.ca.location": "/ca.pem"}
    shown = settings_as_dict(s)["kafka"]["properties"]
    assert shown["sasl.password"] == "****" and shown["sasl.username"] == "svc"
    from smartcity.ingest.kafka.config import client_config

    conf = client_config(s.kafka)
    assert conf["sasl.password"] == "hunter2" and conf["security.protocol"] == "SASL_SSL"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SMARTCITY_KAFKA_PARTITIONS": "many"}, "kafka.partitions = 'many' (from SMARTCITY_KAFKA_PARTITIONS)"),
        ({"SMARTCITY_KAFKA_PARTITIONS": "0"}, "kafka.partitions"),
        ({"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": "broker"}, "kafka.bootstrap_servers = 'broker'"),
        ({"SMARTCITY_LAKE_FORMAT": "xlsx"}, "lake.format = 'xlsx'"),
        ({"SMARTCITY_KAFKA_ENCODING": "avro"}, "kafka.encoding"),
    ],
)
def test_bad_environment_value_names_it(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_file_values_name_the_file(tmp_path: Path) -> None:
    cfg = write(tmp_path, "[kafka]\nreplication_factor = -1\n")
    with pytest.raises(ConfigError, match=r"kafka.replication_factor = -1 \(from .*smartcity.toml\)"):
        load_settings(cfg, environ={})
    with pytest.raises(ConfigError, match=r"unknown setting kafka.partition "):
        load_settings(write(tmp_path, "[kafka]\npartition = 3\n"), environ={})
    with pytest.raises(ConfigError, match=r"unknown section \[kafak\]"):
        load_settings(write(tmp_path, "[kafak]\npartitions = 3\n"), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[kafka\n"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})
