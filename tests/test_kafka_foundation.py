"""Against a real broker: schemas through topics, topic admin, and the `kafka` commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from smartcity.ingest.kafka.admin import create_topics, describe_topics
from smartcity.ingest.kafka.config import consumer_config, producer_config
from smartcity.proto.codec import CODECS, codec_for

from .test_proto import SAMPLES

pytestmark = pytest.mark.kafka


def consume_all(settings, topic: str, expected: int, group: str) -> list:
    consumer = Consumer(consumer_config(settings, group, **{"fetch.min.bytes": 1}))
    consumer.subscribe([topic])
    got: list = []
    try:
        for _ in range(60):
            for msg in consumer.consume(500, timeout=1.0):
                assert msg.error() is None, msg.error()
                got.append(msg)
            if len(got) >= expected:
                break
    finally:
        consumer.close()
    return got


def test_every_schema_round_trips_through_a_topic_in_both_encodings(kafka_settings, unique: str) -> None:
    topic = f"{kafka_settings.topic_prefix}.roundtrip"
    create_topics(kafka_settings, [topic], partitions=3)
    producer = Producer(producer_config(kafka_settings))
    sent = []
    for kind, message in SAMPLES.items():
        codec = codec_for(type(message))
        for encoding in ("protobuf", "json"):
            key = f"{kind}-{encoding}-κey".encode()
            headers = [*codec.headers(encoding), ("trace-id", f"{kind}:{encoding}".encode())]
            producer.produce(topic, key=key, value=codec.encode(message, encoding), headers=headers)
            sent.append((key, message, encoding))
    assert producer.flush(30) == 0
    got = consume_all(kafka_settings, topic, len(sent), f"g{unique}")
    assert len(got) == len(sent)
    by_key = {m.key(): m for m in got}
    for key, message, encoding in sent:
        msg = by_key[key]
        headers = msg.headers()
        assert dict(headers)["trace-id"] == f"{key.decode().split('-')[0]}:{encoding}".encode()
        type_name = dict(headers)["smartcity-type"].decode()
        decoded = CODECS[type_name].decode(msg.value(), headers)
        assert decoded == message


def test_topics_create_is_idempotent_and_describe_counts(kafka_settings) -> None:
    first = create_topics(kafka_settings)
    assert set(first.values()) == {"created"}
    assert set(first) == set(kafka_settings.topics.values())
    again = create_topics(kafka_settings)
    assert set(again.values()) == {"exists"}
    producer = Producer(producer_config(kafka_settings))
    for i in range(7):
        producer.produce(kafka_settings.topic("bus"), key=f"B{i}".encode(), value=b"x")
    producer.flush(30)
    infos = {i.name: i for i in describe_topics(kafka_settings)}
    bus = infos[kafka_settings.topic("bus")]
    assert bus.partitions == kafka_settings.partitions and bus.replication_factor == 1
    assert bus.messages == 7
    assert dict(infos[kafka_settings.topic("deadletter")].configs)["retention.ms"] == str(30 * 24 * 3600 * 1000)


def _cli(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_kafka_start_status_stop(tmp_path: Path) -> None:
    """The CLI starts its own broker (separate cache, shared jars), reports it and stops exactly it."""
    from smartcity.devbroker.maven import jars_dir, provision
    from smartcity.devbroker.state import pid_alive

    provision()
    cache = tmp_path / "cache"
    target = cache / "kafka" / jars_dir().parent.name
    target.mkdir(parents=True)
    (target / "libs").symlink_to(jars_dir())
    env = {k: v for k, v in os.environ.items() if k != "SMARTCITY_KAFKA_BOOTSTRAP_SERVERS"}
    env["SMARTCITY_CACHE"] = str(cache)

    assert _cli(env, "kafka", "status").returncode == 1
    started = _cli(env, "kafka", "start")
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip().splitlines()[-1]
    assert bootstrap.startswith("127.0.0.1:")
    import json

    state = json.loads((cache / "kafka" / "cluster.json").read_text())
    pids = [n["pid"] for n in state["nodes"]]
    try:
        assert all(pid_alive(p) for p in pids)
        status = _cli(env, "kafka", "status")
        assert status.returncode == 0 and status.stdout.strip() == bootstrap
        again = _cli(env, "kafka", "start")  # idempotent: reports the running broker
        assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == bootstrap
        # with nothing configured, commands use the broker `kafka start` left running
        shown = _cli(env, "config", "show", "--format", "json")
        assert f'"bootstrap_servers": "{bootstrap}"' in shown.stdout
        created = _cli(env, "topics", "create")
        assert created.returncode == 0 and "smartcity.bus.telemetry\tcreated" in created.stdout
    finally:
        stopped = _cli(env, "kafka", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not any(pid_alive(p) for p in pids)
    assert _cli(env, "kafka", "status").returncode == 1


def test_missing_java_is_a_one_line_error(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path), "JAVA_HOME": str(tmp_path / "nojdk"),
           "SMARTCITY_CACHE": str(tmp_path / "cache")}
    result = _cli(env, "kafka", "start")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "Java 17+ is required" in result.stderr
