"""A broker outage is weather for the alerts daemon too: it waits for Kafka (and says so in its heartbeat),
then goes on, and every alert and window is committed exactly once. Runs on a broker of its own, stopped
and started again on the same data directory while a transaction is open."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from smartcity.ingest.health import heartbeat_status
from smartcity.ingest.kafka.settings import KafkaSettings
from tests.alerts.brokers import alerts_command, alerts_env, committed, create_inputs, produce_events
from tests.alerts.reference import scenario
from tests.alerts.test_daemon import assert_outputs_are_the_reference
from tests.test_devbroker_restart import _cli, _own_cache, _start

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def _wait(predicate, timeout: float, what) -> None:  # type: ignore[no-untyped-def]
    """Until ``predicate()``; ``what()`` says what did not happen."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what()
        time.sleep(0.2)


@pytest.mark.parametrize("membership", [[], ["--instance-id", "a"]], ids=["dynamic", "static"])
def test_the_alerts_daemon_rides_out_a_broker_outage(tmp_path: Path, unique: str, membership: list[str]) -> None:
    env = _own_cache(tmp_path)
    data_dir = tmp_path / "broker"
    bootstrap, _state = _start(env, data_dir)
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"a{unique}", partitions=2)
    events = list(scenario())
    first, second, third = events[:len(events) // 3], events[len(events) // 3:len(events) // 2], \
        events[len(events) // 2:]
    group = f"g-{unique}"
    # no window closes on the wall clock (idle timeout longer than the test): the outputs must equal the
    # engine's over the same events, record for record
    flags = ["--window", "5m", "--grace", "10s", "--idle-timeout", "10m", "--commit-interval", "3s", *membership]
    daemon_env = alerts_env(kafka, tmp_path)
    beat = Path(daemon_env["SMARTCITY_HEARTBEAT"])
    log = tmp_path / "alerts.log"
    daemon = None

    def said() -> str:
        return log.read_text()[-4000:]

    try:
        create_inputs(kafka)
        with log.open("w") as err:
            command = alerts_command(kafka, group, *flags)
            command.insert(command.index("alerts"), "-v")  # the log is the failure message
            daemon = subprocess.Popen(command, env=daemon_env,
                                      stdout=subprocess.DEVNULL, stderr=err)
        produced = produce_events(kafka, first)
        _wait(lambda: committed(kafka, group) == produced, 120, lambda: "the first part was not committed:\n" + said())
        produced += produce_events(kafka, second)
        time.sleep(0.5)  # consumed into an open transaction, not yet committed (the interval is 3 s)
        stopped = _cli(env, "kafka", "stop", "--keep-data")
        assert stopped.returncode == 0, stopped.stderr
        time.sleep(25)
        assert daemon.poll() is None, said()
        assert "waiting for Kafka" in heartbeat_status(beat)
        restarted, _ = _start(env, data_dir)
        assert restarted == bootstrap
        produced += produce_events(kafka, third)
        assert produced == len(events)
        _wait(lambda: daemon.poll() is not None or committed(kafka, group) == produced, 240,
              lambda: "not everything was committed after the broker came back:\n" + said())
        assert daemon.poll() is None, said()
        _wait(lambda: heartbeat_status(beat) == "ok", 30, lambda: "the heartbeat still says " + heartbeat_status(beat))
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0, said()

        want_alerts, _ = assert_outputs_are_the_reference(kafka, events)
        assert len(want_alerts) >= 40
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        _cli(env, "kafka", "stop")
