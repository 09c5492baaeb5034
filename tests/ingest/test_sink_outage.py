"""A broker outage is weather: the sink daemon waits for Kafka (and says so), then goes on; every message
lands once and every bad one reaches the dead-letter topic. Runs on a broker of its own, stopped and
started again on the same data directory."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from smartcity.ingest.health import heartbeat_status
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto.codec import BUS
from tests.test_devbroker_restart import _cli, _own_cache, _start

from .helpers import bus, consume_all, landed_offsets, produce, run_sink, sink_command, sink_env

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def _source(message) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    headers = dict(message.headers() or [])
    return headers["smartcity-source-partition"], headers["smartcity-source-offset"]


def _records(start: int, stop: int, bad: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    headers = BUS.headers("protobuf")
    good = [(f"B{i % 7:02d}".encode(), BUS.encode(bus(i)), list(headers)) for i in range(start, stop)]
    return good + [(b"B99", b"\xff not a message %d" % n, list(headers)) for n in range(bad)]


def _assert_alive(daemon: subprocess.Popen[str]) -> None:
    if daemon.poll() is not None:
        pytest.fail(f"the sink exited {daemon.returncode}: {daemon.stderr.read()[-3000:] if daemon.stderr else ''}")


@pytest.mark.parametrize("membership", [[], ["--instance-id", "a"]], ids=["dynamic", "static"])
def test_the_sink_rides_out_a_broker_outage(tmp_path: Path, unique: str, membership: list[str]) -> None:
    env = _own_cache(tmp_path)
    data_dir = tmp_path / "broker"
    bootstrap, _state = _start(env, data_dir)
    settings = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"o{unique}", partitions=2)
    daemon = None
    try:
        create_topics(settings, [settings.topic("bus"), settings.topic("deadletter")])
        lake, group = tmp_path / "lake", f"g-{unique}"
        sink_environment = sink_env(settings, tmp_path)
        beat = Path(sink_environment["SMARTCITY_HEARTBEAT"])
        command = sink_command(settings, lake, group, "--batch-age", "1", *membership)
        daemon = subprocess.Popen(command, env=sink_environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        time.sleep(5)
        produce(settings, settings.topic("bus"), _records(0, 2000, 1))
        time.sleep(4)
        produce(settings, settings.topic("bus"), _records(2000, 4000, 2))
        time.sleep(0.3)  # consumed, not yet landed: its dead letters cannot be acknowledged
        stopped = _cli(env, "kafka", "stop", "--keep-data")
        assert stopped.returncode == 0, stopped.stderr
        time.sleep(25)
        _assert_alive(daemon)
        assert "waiting for Kafka" in heartbeat_status(beat)
        restarted, _ = _start(env, data_dir)
        assert restarted == bootstrap
        produce(settings, settings.topic("bus"), _records(4000, 5000, 0))
        time.sleep(8)
        _assert_alive(daemon)
        assert heartbeat_status(beat) == "ok"
        run_sink(settings, lake, group, timeout=300)
        landed = landed_offsets(lake)
        assert [k for k, n in Counter(landed).items() if n > 1] == []
        assert len(landed) == 5000
        # dead letters are at least once (a batch dropped with a lost partition sends its letters again when
        # it is read again); their source coordinates tell copies apart
        letters = consume_all(settings, settings.topic("deadletter"), f"dlq-{unique}", expected=3)
        sources = Counter(_source(m) for m in letters)
        assert len(sources) == 3, sources
        assert all(dict(m.headers() or [])["smartcity-error"] for m in letters)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        _cli(env, "kafka", "stop")
