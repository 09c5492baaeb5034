"""The alerting daemon under benchmark: its scoped topics and group, its own process, and probes of its progress."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition

from smartcity.core.errors import SmartcityError
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.kafka.admin import create_topics, delete_topics
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.settings import KafkaSettings


def prepare_run(kafka: KafkaSettings, tag: str, commit_interval: float | None) -> tuple[KafkaSettings, AlertSettings]:
    """Settings scoped to a fresh topic prefix and group for one run (1-second windows of the bus stream), with
    its input and output topics created."""
    run = uuid.uuid4().hex[:6]
    prefix = f"{kafka.topic_prefix}-bench-{tag}-{run}"
    scoped = kafka.model_copy(update={"topic_prefix": prefix})
    settings = AlertSettings(group=f"bench-{tag}-{run}", streams=["bus"], window=1.0, grace=0.2,
                             idle_timeout=5.0, instance_id="bench")
    if commit_interval is not None:
        settings = settings.model_copy(update={"commit_interval": commit_interval})
    create_topics(scoped, [scoped.topic("bus"), scoped.topic("alerts"), scoped.topic("bus_windows")])
    return scoped, settings


def daemon_main(kafka_json: str, settings_json: str, until_idle: str) -> None:
    """Entry point of the daemon's own process (see :func:`start_daemon`)."""
    from smartcity.ingest.alerts.daemon import AlertDaemon

    daemon = AlertDaemon(KafkaSettings.model_validate_json(kafka_json),
                         AlertSettings.model_validate_json(settings_json),
                         until_idle=float(until_idle) if until_idle else None)
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
    daemon.run()


def start_daemon(kafka: KafkaSettings, settings: AlertSettings, until_idle: float | None = None
                 ) -> subprocess.Popen[bytes]:
    code = "import sys; from smartcity.bench.alert_daemon import daemon_main; daemon_main(*sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", code, kafka.model_dump_json(), settings.model_dump_json(),
                             "" if until_idle is None else str(until_idle)], stdout=subprocess.DEVNULL)


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: the daemon commits and leaves
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def wait_for_member(kafka: KafkaSettings, group: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the group has a member with an assignment."""
    from smartcity.ingest.kafka.admin import admin_client

    admin = admin_client(kafka)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the benchmark daemon exited with code {proc.returncode}")
        with contextlib.suppress(KafkaException):  # the group does not exist yet
            described = admin.describe_consumer_groups([group])[group].result(10)
            if any(m.assignment.topic_partitions for m in described.members):
                time.sleep(1.0)  # restore and assign callbacks
                return
        time.sleep(0.2)
    raise RuntimeError(f"the benchmark daemon did not join group {group} within {timeout:.0f} s")


def end_offsets(kafka: KafkaSettings, topic: str) -> int:
    """Messages in ``topic``: the sum of its partitions' high watermarks."""
    consumer = Consumer(consumer_config(kafka, "bench-probe"))
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts)
    finally:
        consumer.close()


def committed_offsets(kafka: KafkaSettings, group: str, topic: str) -> int:
    """Messages of ``topic`` that ``group`` has committed, summed over the partitions."""
    consumer = Consumer(consumer_config(kafka, group))
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = consumer.committed([TopicPartition(topic, p) for p in parts], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()


def delete_run_topics(kafka: KafkaSettings) -> None:
    """Delete the run's topics, best effort."""
    names = [kafka.topic(k) for k in ("bus", "alerts", "bus_windows", "alerts_changelog")]
    with contextlib.suppress(SmartcityError):  # best effort
        delete_topics(kafka, names)
