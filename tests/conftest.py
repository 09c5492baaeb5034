"""Shared fixtures: a real Kafka broker for tests marked ``kafka``, fresh names, offline Prefect."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

# Prefect offline and out of the user's home, for any test that imports it.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="smartcity-prefect-"))

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(message: str) -> NoReturn:
    """A real part a test needs (a broker, a browser, a published feed) is not there: under CI that
    fails the test, elsewhere it skips it."""
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


KAFKA_FIXTURES = {"kafka_bootstrap", "kafka_settings"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the broker carry the ``kafka`` marker, so ``-m 'not kafka'`` deselects them."""
    for item in items:
        if KAFKA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real broker: ``SMARTCITY_KAFKA_BOOTSTRAP_SERVERS`` if set, else a
    single-node KRaft broker started for this session. Under CI a broker that cannot start fails
    the tests instead of skipping them."""
    given = os.environ.get("SMARTCITY_KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    from smartcity.devbroker.local import LocalCluster

    cluster = LocalCluster(brokers=1, workdir=tmp_path_factory.mktemp("kafka"))
    try:
        state = cluster.start()
    except Exception as exc:
        cluster.stop()
        unavailable(f"no Kafka broker could start: {exc}")
    try:
        yield state.bootstrap_servers
    finally:
        cluster.stop()


@pytest.fixture
def unique() -> str:
    """A fresh suffix for topic and group names."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def kafka_settings(kafka_bootstrap: str, unique: str):
    """Kafka settings on the test broker with a fresh topic prefix (so fresh topics)."""
    from smartcity.ingest.kafka.settings import KafkaSettings

    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{unique}", partitions=2)
