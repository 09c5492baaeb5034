"""The local broker can come back: `kafka start --data-dir` formats once and restarts on the data,
`kafka stop --keep-data` keeps it. Runs its own broker (own cache, shared jars), never the session's."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from smartcity.devbroker.local import META, stored_cluster
from smartcity.devbroker.state import ClusterState, Node, pid_alive, write_state
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.settings import KafkaSettings

from .conftest import unavailable

N = 500
PARTITIONS = 3


def _cli(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def _own_cache(tmp_path: Path) -> dict[str, str]:
    """An environment whose $SMARTCITY_CACHE is private (its own cluster.json) but shares the jars."""
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "SMARTCITY_KAFKA_BOOTSTRAP_SERVERS"}
    env["SMARTCITY_CACHE"] = str(cache)
    try:
        from smartcity.devbroker.maven import check_java, jars_dir, provision

        check_java()
        provision()
    except Exception as exc:
        unavailable(f"no Kafka broker could start: {exc}")
    target = cache / "kafka" / jars_dir().parent.name
    target.mkdir(parents=True)
    (target / "libs").symlink_to(jars_dir())
    return env


def _start(env: dict[str, str], data_dir: Path) -> tuple[str, ClusterState]:
    started = _cli(env, "kafka", "start", "--data-dir", str(data_dir))
    assert started.returncode == 0, started.stderr
    state = ClusterState.from_json((Path(env["SMARTCITY_CACHE"]) / "kafka" / "cluster.json").read_text())
    return started.stdout.strip().splitlines()[-1], state


def _consume_all(bootstrap: str, topic: str) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "enable.partition.eof": True})
    got: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        at_end: set[int] = set()
        for _ in range(600):
            if len(at_end) == PARTITIONS:
                break
            for msg in consumer.consume(1000, timeout=0.1):
                if msg.error() is not None:
                    at_end.add(msg.partition())  # _PARTITION_EOF: this partition is read to its end
                    continue
                got.append(msg.value())
        assert len(at_end) == PARTITIONS, f"could not read {topic} to its end"
    finally:
        consumer.close()
    return got


@pytest.mark.kafka
@pytest.mark.slow
def test_a_broker_restarts_on_its_data_dir(tmp_path: Path) -> None:
    env = _own_cache(tmp_path)
    data_dir = tmp_path / "kafka-data"
    bootstrap, first = _start(env, data_dir)
    pids = [n.pid for n in first.nodes]
    try:
        assert first.persistent and Path(first.workdir) == data_dir.resolve()
        assert (data_dir / "node-1" / "data" / META).exists()
        topic = f"restart-{uuid.uuid4().hex[:8]}"
        kafka = KafkaSettings(bootstrap_servers=bootstrap)
        assert create_topics(kafka, [topic], partitions=PARTITIONS) == {topic: "created"}
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
        sent = [f"message-{i}".encode() for i in range(N)]
        for i, value in enumerate(sent):
            producer.produce(topic, key=str(i).encode(), value=value)
        assert producer.flush(30) == 0
    finally:
        stopped = _cli(env, "kafka", "stop", "--keep-data")
    assert stopped.returncode == 0, stopped.stderr
    assert f"--data-dir {data_dir.resolve()}" in stopped.stderr
    assert not any(pid_alive(p) for p in pids)
    assert (data_dir / "node-1" / "data" / META).exists()

    again, second = _start(env, data_dir)  # no format: the same cluster, node ids and ports
    try:
        assert again == bootstrap and second.cluster_id == first.cluster_id
        assert [(n.node_id, n.port, n.controller_port) for n in second.nodes] == \
               [(n.node_id, n.port, n.controller_port) for n in first.nodes]
        got = _consume_all(again, topic)
        assert len(got) == N and sorted(got) == sorted(sent)
    finally:
        final = _cli(env, "kafka", "stop")
    assert final.returncode == 0, final.stderr
    assert not any(pid_alive(n.pid) for n in second.nodes)
    assert (data_dir / "node-1" / "data" / META).exists()  # a --data-dir is never removed by stop


def test_stored_cluster_reads_what_a_restart_reuses_and_refuses_half_formatted_dirs(tmp_path: Path) -> None:
    from smartcity.core.errors import BrokerError

    assert stored_cluster(tmp_path) is None  # nothing formatted: start formats
    for node_id, port in ((1, 41001), (2, 41003)):
        ndir = tmp_path / f"node-{node_id}"
        (ndir / "data").mkdir(parents=True)
        (ndir / "server.properties").write_text(
            f"node.id={node_id}\nlisteners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}\n")
        (ndir / "data" / META).write_text(f"#\nnode.id={node_id}\nversion=1\ncluster.id=abcDEF123\n")
    stored = stored_cluster(tmp_path)
    assert stored is not None and stored.cluster_id == "abcDEF123"
    assert [(n.node_id, n.port, n.controller_port) for n in stored.nodes] == [(1, 41001, 41002), (2, 41003, 41004)]
    (tmp_path / "node-3" / "data").mkdir(parents=True)
    with pytest.raises(BrokerError, match="partly formatted"):
        stored_cluster(tmp_path)
    (tmp_path / "node-3" / "data").rmdir()
    (tmp_path / "node-3").rmdir()
    (tmp_path / "node-2" / "data" / META).write_text("node.id=2\nversion=1\ncluster.id=other\n")
    with pytest.raises(BrokerError, match="different clusters"):
        stored_cluster(tmp_path)
    (tmp_path / "node-2" / "server.properties").write_text("node.id=7\nlisteners=PLAINTEXT://127.0.0.1:1\n")
    with pytest.raises(BrokerError, match="cannot restart"):
        stored_cluster(tmp_path)


def test_stop_keeps_a_data_dir_and_removes_a_fresh_one_unless_asked(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCITY_CACHE", str(tmp_path / "cache"))
    env = dict(os.environ)
    gone = 2**22 + 1  # a PID above pid_max: nothing to signal
    for persistent, flags, kept in ((True, (), True), (False, ("--keep-data",), True), (False, (), False)):
        workdir = tmp_path / f"cluster-{persistent}-{len(flags)}"
        (workdir / "node-1").mkdir(parents=True)
        write_state(ClusterState("4.4.0", "id", str(workdir), [Node(1, 1, 2, str(workdir / "node-1"), gone)],
                                 persistent=persistent))
        result = _cli(env, "kafka", "stop", *flags)
        assert result.returncode == 0, result.stderr
        assert workdir.exists() == kept
        assert ("--data-dir" in result.stderr) == kept
        assert not (tmp_path / "cache" / "kafka" / "cluster.json").exists()
