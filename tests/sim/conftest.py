"""Shared simulator runs: computed once per session, read by many tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcity.simulator import City, SimEvent, default_city, simulate

# Tuesday 11 March 2025, 07:00-09:00 in Zurich (UTC+1): the weekday morning peak
PEAK_START = datetime(2025, 3, 11, 6, 0, tzinfo=UTC)
PEAK_HOURS = 2
SEED = 7


@pytest.fixture(scope="session")
def city() -> City:
    return default_city()


@pytest.fixture(scope="session")
def peak_run(city: City) -> list[SimEvent]:
    return list(simulate(city, PEAK_START, timedelta(hours=PEAK_HOURS), seed=SEED))


@pytest.fixture(scope="session")
def peak_bus(peak_run: list[SimEvent]) -> list[SimEvent]:
    return [e for e in peak_run if e.domain == "bus"]


@pytest.fixture(scope="session")
def peak_station(peak_run: list[SimEvent]) -> list[SimEvent]:
    return [e for e in peak_run if e.domain == "station"]
