"""The shared member skeleton's error handling: a fatal consumer error is never just logged, a fenced static
member may join again once, and a second fencing soon after names the instance id; and which partitions
still have messages waiting."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition

from smartcity.core.errors import AlertsError, SinkError
from smartcity.devbroker.local import free_port
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.config import consumer_config
from smartcity.ingest.kafka.member import InstanceFenced, Reach, Rejoins, backlogged, check_error
from smartcity.ingest.kafka.settings import KafkaSettings
from tests.ingest.helpers import produce

FENCED_TEXT = ("Fatal error: Broker: Static consumer fenced by other consumer with same group.instance.id: "
               "Fatal consumer error: Broker: Static consumer fenced by other consumer with same group.instance.id")


def test_a_consumer_fatal_error_stops_the_member_even_without_the_fatal_flag() -> None:
    # a consumer delivers its fatal error as an _FATAL event whose fatal() is False
    err = KafkaError(KafkaError._FATAL, "Fatal error: Broker: Group authorization failed")
    assert not err.fatal()
    with pytest.raises(SinkError, match="Group authorization failed"):
        check_error(err, SinkError)


def test_a_fenced_static_member_is_told_apart_from_other_fatal_errors() -> None:
    with pytest.raises(InstanceFenced):
        check_error(KafkaError(KafkaError._FATAL, FENCED_TEXT), SinkError)
    with pytest.raises(InstanceFenced):
        check_error(KafkaError(KafkaError.FENCED_INSTANCE_ID), AlertsError)


def test_transient_errors_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    check_error(KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"), SinkError)
    assert "brokers are down" in caplog.text


def test_a_member_rejoins_once_then_names_the_shared_instance_id() -> None:
    rejoins = Rejoins("ingest-0", AlertsError, window_s=60)
    rejoins.allow("fenced")
    with pytest.raises(AlertsError, match=r"'ingest-0'.*its own instance id"):
        rejoins.allow("fenced")
    later = Rejoins("ingest-0", AlertsError, window_s=0)
    later.allow("fenced")
    later.allow("fenced")  # long after the first: another broker outage, not a twin


def test_backlogged_names_the_partitions_with_messages_not_yet_consumed(kafka_settings: KafkaSettings) -> None:
    topic = kafka_settings.topic("bus")
    create_topics(kafka_settings, [topic])
    produce(kafka_settings, topic, ((b"k", b"v", []) for _ in range(200)))  # one key: one partition
    consumer = Consumer(consumer_config(kafka_settings, "backlog-probe"))
    try:
        tps = [TopicPartition(topic, p, 0) for p in range(kafka_settings.partitions)]
        consumer.assign(tps)
        first = consumer.consume(1, timeout=30)
        assert len(first) == 1
        loaded = first[0].partition()
        waiting = backlogged(consumer, tps)
        assert [(tp.topic, tp.partition) for tp in waiting] == [(topic, loaded)]
        got, deadline = 1, time.monotonic() + 30
        while got < 200 and time.monotonic() < deadline:
            got += len(consumer.consume(500, timeout=1))
        assert got == 200 and backlogged(consumer, tps) == []
    finally:
        consumer.close()


def test_reach_says_kafka_is_away_until_a_fetch_or_a_metadata_answer(kafka_settings: KafkaSettings) -> None:
    reach = Reach()
    reach.saw(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
    assert reach.error is None  # not a reachability error
    reach.saw(KafkaError(KafkaError._TRANSPORT, "connection refused"))
    assert reach.error is not None and "connection refused" in reach.error
    away = Consumer({"bootstrap.servers": f"127.0.0.1:{free_port()}", "group.id": "reach"})
    here = Consumer(consumer_config(kafka_settings, "reach"))
    try:
        reach.probe(away, now=100.0)
        assert reach.error is not None  # nobody answered
        reach.probe(here, now=102.0)
        assert reach.error is not None  # probed again only every few seconds
        reach.probe(here, now=106.0)
        assert reach.error is None
        reach.saw(KafkaError(KafkaError._ALL_BROKERS_DOWN))
        reach.fetched()
        assert reach.error is None
    finally:
        away.close()
        here.close()

