"""The replica decision KEDA's Kafka scaler and the HPA make, as properties and worked cases."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.ingest.kafka.scaling import (
    Decision,
    PartitionOffsets,
    ScalerSpec,
    desired_replicas,
    partition_lag,
    stabilized,
    total_lag,
)


def _parts(lags: list[int | None], end: int = 1_000_000) -> list[PartitionOffsets]:
    return [PartitionOffsets("t", i, None if lag is None else end - lag, end) for i, lag in enumerate(lags)]


lags = st.lists(st.one_of(st.none(), st.integers(0, 200_000)), min_size=1, max_size=32)
specs = st.builds(ScalerSpec, lag_threshold=st.integers(1, 50_000), activation_lag_threshold=st.integers(0, 1000),
                  limit_to_partitions_with_lag=st.booleans(), allow_idle_consumers=st.booleans(),
                  offset_reset_policy=st.sampled_from(["earliest", "latest"]),
                  scale_to_zero_on_invalid_offset=st.booleans(), min_replicas=st.integers(0, 3),
                  max_replicas=st.integers(3, 64))
currents = st.integers(0, 40)


@given(specs, currents)
def test_a_lag_that_cannot_be_read_holds_the_current_count(spec: ScalerSpec, current: int) -> None:
    decision = desired_replicas(None, current, spec)
    assert decision.replicas == current and decision.total_lag is None


@given(lags, specs, currents)
def test_never_more_members_than_partitions_to_give_them(lag: list[int | None], spec: ScalerSpec,
                                                         current: int) -> None:
    partitions = _parts(lag)
    decision = desired_replicas(partitions, current, spec)
    assert decision.replicas <= spec.max_replicas or decision.replicas == current
    # KEDA caps once total // lagThreshold exceeds the bound (integer division), so one more than the bound
    # gets through; maxReplicaCount at the partition count clamps it
    if not spec.allow_idle_consumers and current <= len(partitions):
        assert decision.replicas <= max(len(partitions) + 1, spec.min_replicas)
        if spec.max_replicas <= len(partitions):
            assert decision.replicas <= max(len(partitions), spec.min_replicas)
    if spec.limit_to_partitions_with_lag and current <= len(partitions):
        with_lag = sum(1 for p in partitions if partition_lag(p, spec) > 0)
        assert decision.replicas <= max(with_lag + 1, spec.min_replicas, 1)


@given(lags, specs, currents)
def test_zero_only_when_allowed_and_below_activation(lag: list[int | None], spec: ScalerSpec, current: int) -> None:
    decision = desired_replicas(_parts(lag), current, spec)
    if decision.replicas == 0:
        assert spec.min_replicas == 0 and decision.total_lag is not None
        assert decision.total_lag <= spec.activation_lag_threshold
    else:
        assert decision.replicas >= max(spec.min_replicas, 1)


@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=16), st.integers(1, 100_000), specs, currents)
def test_more_lag_never_means_fewer_members(lag: list[int], extra: int, spec: ScalerSpec, current: int) -> None:
    """With maxReplicaCount at most the partition count (KEDA's integer-division cap is not monotonic
    above it: 5,999 behind on 5 partitions asks for 6 members, 6,000 for 5)."""
    spec = dataclasses.replace(spec, max_replicas=max(spec.min_replicas, min(spec.max_replicas, len(lag))))
    before = desired_replicas(_parts(list(lag)), current, spec)
    after = desired_replicas(_parts([lag[0] + extra, *lag[1:]]), current, spec)
    assert after.replicas >= before.replicas


@given(st.lists(st.tuples(st.floats(0, 1000), st.integers(0, 50)), min_size=1, max_size=20),
       st.floats(0, 600))
def test_scale_down_waits_for_the_window(recs: list[tuple[float, int]], window: float) -> None:
    now = max(t for t, _ in recs)
    chosen = stabilized(recs, now, window)
    newest = max(recs)[1]
    assert chosen >= newest
    assert chosen == max(r for t, r in recs if now - t <= window)


def test_worked_cases() -> None:
    spec = ScalerSpec(lag_threshold=1000, activation_lag_threshold=10, min_replicas=0, max_replicas=4)
    # 4 partitions, 9,000 behind: ceil(9) = 9 members wanted, capped at 4 partitions x 1000 -> 4
    assert desired_replicas(_parts([3000, 3000, 2000, 1000]), 1, spec).replicas == 4
    assert total_lag(_parts([3000, 3000, 2000, 1000]), spec) == 4000
    # 2,050 behind with 2 members: within the 10 % tolerance, stay at 2
    assert desired_replicas(_parts([2050, 0, 0, 0]), 2, spec).replicas == 2
    # KEDA's cap in integer division: 5,999 on 5 partitions escapes it (6 members), 6,000 does not (5)
    five = ScalerSpec(lag_threshold=1000)
    assert desired_replicas(_parts([5999, 0, 0, 0, 0]), 1, five).replicas == 6
    assert desired_replicas(_parts([6000, 0, 0, 0, 0]), 1, five).replicas == 5
    # limitToPartitionsWithLag: one partition has all the lag -> one member
    one = ScalerSpec(lag_threshold=1000, limit_to_partitions_with_lag=True, max_replicas=4)
    assert desired_replicas(_parts([9000, 0, 0, 0]), 3, one).replicas == 1
    # under the activation threshold with minReplicaCount 0: scale to zero
    assert desired_replicas(_parts([5, 0, 0, 0]), 2, spec) == Decision(0, 5, False, desired_replicas(
        _parts([5, 0, 0, 0]), 2, spec).why)
    # no committed offset: 1 under latest (KEDA), the whole log under earliest
    assert partition_lag(PartitionOffsets("t", 0, None, 500), spec) == 1
    assert partition_lag(PartitionOffsets("t", 0, None, 500), ScalerSpec(offset_reset_policy="earliest")) == 500


def test_a_spec_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="lagThreshold"):
        ScalerSpec(lag_threshold=0)
    with pytest.raises(ValueError, match="minReplicaCount"):
        ScalerSpec(min_replicas=5, max_replicas=2)
