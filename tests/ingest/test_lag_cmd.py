"""``smartcity lag`` on a real broker: the lag per partition of a group and the replica count KEDA would
choose; a lag it cannot read is an error, never zero lag."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from smartcity.devbroker.local import free_port
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config, producer_config
from smartcity.ingest.kafka.member import produce
from smartcity.ingest.kafka.settings import KafkaSettings

pytestmark = [pytest.mark.kafka]


def _lag(kafka: KafkaSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SMARTCITY_KAFKA_BOOTSTRAP_SERVERS=str(kafka.bootstrap_servers),
               SMARTCITY_KAFKA_TOPIC_PREFIX=kafka.topic_prefix)
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", "lag", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_lag_per_partition_and_the_keda_decision(kafka_settings: KafkaSettings, unique: str) -> None:
    topic = kafka_settings.topic("bus")
    create_topics(kafka_settings, [topic])
    producer = Producer(producer_config(kafka_settings))
    for partition, n in ((0, 30_000), (1, 12_000)):
        for _ in range(n):
            produce(producer, topic, b"v", b"k", partition=partition)
    assert producer.flush(60) == 0
    group = f"g-{unique}"
    consumer = Consumer(consumer_config(kafka_settings, group))
    consumer.commit(offsets=[TopicPartition(topic, 0, 1_000)], asynchronous=False)  # partition 1: nothing committed
    consumer.close()

    done = _lag(kafka_settings, "--group", group, "--topics", "bus", "--lag-threshold", "10000", "--format", "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert [(p["partition"], p["committed"], p["end"], p["lag"]) for p in answer["partitions"]] == [
        (0, 1_000, 30_000, 29_000), (1, None, 12_000, 1)]  # no committed offset: 1 (offsetResetPolicy latest)
    assert answer["members"] == 0
    # 29,001 behind: 29,001 // 10,000 = 2 is not above the 2 partitions, so KEDA does not cap the lag
    # and the HPA wants ceil(2.9) = 3; maxReplicaCount (the partition count by default) makes it 2
    assert answer["total_lag"] == 29_001 and answer["replicas"] == 2

    table = _lag(kafka_settings, "--group", group, "--topics", "bus", "--lag-threshold", "50000")
    assert table.returncode == 0 and "29,000" in table.stdout and "KEDA would run 1" in table.stdout


def test_a_lag_it_cannot_read_is_an_error_not_zero(kafka_settings: KafkaSettings) -> None:
    away = kafka_settings.model_copy(update={"bootstrap_servers": f"127.0.0.1:{free_port()}"})
    done = _lag(away, "--group", "g")
    assert done.returncode == 1
    assert "could not read the lag of g" in done.stderr and "Traceback" not in done.stderr
