"""Fault injection: what it reports is what a consumer observes."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from smartcity.core.errors import DecodeError
from smartcity.simulator import City, SimEvent, inject_faults, simulate, to_records
from smartcity.simulator.faults import FAR_FUTURE_MS, YEAR_2000_MS
from smartcity.simulator.records import CODECS, TOPICS

from .conftest import PEAK_START

DOMAIN_BY_TOPIC = {topic: domain for domain, topic in TOPICS.items()}


@pytest.fixture(scope="module")
def events(city: City) -> list[SimEvent]:
    return list(simulate(city, PEAK_START, timedelta(minutes=10), seed=1))


def _impossible(message: object) -> bool:
    m = message
    t = m.event_time_ms  # type: ignore[attr-defined]
    if t < YEAR_2000_MS or t >= FAR_FUTURE_MS:
        return True
    if hasattr(m, "latitude") and (abs(m.latitude) > 90 or abs(m.longitude) > 180):
        return True
    counts = ("passengers", "boarded", "waiting_passengers", "pm25_ugm3", "no2_ppb")
    return any(getattr(m, f, 0) < 0 for f in counts)


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_injected_counts_match_what_a_consumer_sees(events: list[SimEvent], encoding: str) -> None:
    records = [(t, k, v, [*h, ("test-index", str(i).encode())], ts)
               for i, (t, k, v, h, ts) in enumerate(to_records(events, encoding))]  # type: ignore[arg-type]
    late_by = timedelta(seconds=60)
    injector = inject_faults(iter(records), seed=4, malformed=0.05, duplicates=0.03, late=0.02,
                             late_by=late_by)
    out = list(injector)
    counts = injector.counts
    assert counts.seen == len(records)
    assert counts.emitted == len(out) == len(records) + counts.duplicates
    assert counts.malformed > 0 and counts.duplicates > 0 and counts.late > 0
    assert min(counts.corrupt, counts.schema, counts.impossible) > 0

    duplicates = sum(a == b for a, b in itertools.pairwise(out))
    assert duplicates == counts.duplicates

    def index(record: tuple) -> int:
        return int(record[3][-1][1])

    changed = {index(r): (r[0], r[2]) for r in out if records[index(r)][2] != r[2]}
    assert len(changed) == counts.malformed
    undecodable = missing = impossible = 0
    for topic, value in changed.values():
        codec = CODECS[DOMAIN_BY_TOPIC[topic]]
        try:
            message = codec.decode_as(value, encoding)  # type: ignore[arg-type]
        except DecodeError:
            undecodable += 1
            continue
        fields = message.DESCRIPTOR.fields_by_name
        identity = next(f for f in ("bus_id", "sensor_id", "station_id") if f in fields)
        if not getattr(message, identity) and message.event_time_ms == 0:
            missing += 1
        else:
            assert _impossible(message)
            impossible += 1
    assert impossible == counts.impossible
    assert undecodable + missing == counts.corrupt + counts.schema
    if encoding == "protobuf":
        assert (undecodable, missing) == (counts.corrupt, counts.schema)

    seen_max = -1
    out_of_order = set()
    late_ms = late_by.total_seconds() * 1000
    for i, r in enumerate(out):
        if seen_max > r[4]:
            out_of_order.add(index(r))
            assert seen_max >= r[4] + late_ms or i >= len(out) - 3 * counts.late
        seen_max = max(seen_max, r[4])
    assert len(out_of_order) == counts.late


def test_no_faults_means_the_same_stream(events: list[SimEvent]) -> None:
    records = list(to_records(events[:500]))
    injector = inject_faults(records, seed=1)
    assert list(injector) == records
    assert injector.counts.malformed == injector.counts.duplicates == injector.counts.late == 0


def test_same_seed_same_faults(events: list[SimEvent]) -> None:
    records = list(to_records(events[:2000], "json"))
    run = lambda: list(inject_faults(records, seed=9, malformed=0.1, duplicates=0.1, late=0.1))  # noqa: E731
    assert run() == run()


def test_probabilities_are_checked() -> None:
    with pytest.raises(ValueError, match="malformed"):
        inject_faults([], malformed=1.5)
