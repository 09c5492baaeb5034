"""How many members a consumer group should run: KEDA's Kafka scaler and the HPA rule it feeds, as pure
functions (lag per partition in, desired replicas out).

It follows KEDA's ``kafka`` scaler (``getLagForPartition`` and ``getTotalLag``) and the Horizontal Pod
Autoscaler's ``AverageValue`` rule:

1. A partition's lag is its end offset minus the group's committed offset. Without a committed offset
   it is 1 under ``offsetResetPolicy: latest`` (0 with ``scaleToZeroOnInvalidOffset``) and the end
   offset under ``earliest``.
2. The total lag is their sum. Unless idle consumers are allowed (``allowIdleConsumers: false``, the
   default), it is capped at ``lagThreshold`` times the partition count, or times the partitions with
   lag under ``limitToPartitionsWithLag``, once ``total // lagThreshold`` (integer division, as KEDA
   writes it) exceeds that count. So a lag just under the next multiple escapes the cap: with 5
   partitions and a threshold of 1,000, a lag of 5,999 asks for 6 members and 6,000 for 5. Keep
   ``maxReplicaCount`` at the partition count, as smartcity's ScaledObjects do, and that quirk is clamped
   away.
3. The group is active when the total lag exceeds ``activationLagThreshold``; an inactive group goes to
   ``minReplicaCount`` (0 scales to zero).
4. Otherwise the HPA wants ``ceil(total / lagThreshold)`` members, keeps the current count while that
   is within its 10 % tolerance, and clamps to ``[max(minReplicaCount, 1), maxReplicaCount]``.
5. A lag that could not be read holds the current count: an unknown lag is never zero lag.

Scaling down goes through :func:`stabilized`, the HPA's scale-down stabilisation window: the largest
recommendation of the window wins, so a short dip never removes members.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

HPA_TOLERANCE = 0.1


@dataclass(frozen=True)
class ScalerSpec:
    """The fields of a KEDA ``kafka`` trigger and its ScaledObject that decide the replica count."""

    lag_threshold: int = 10_000
    activation_lag_threshold: int = 0
    limit_to_partitions_with_lag: bool = False
    allow_idle_consumers: bool = False
    offset_reset_policy: Literal["earliest", "latest"] = "latest"
    scale_to_zero_on_invalid_offset: bool = False
    min_replicas: int = 1
    max_replicas: int = 100

    def __post_init__(self) -> None:
        if self.lag_threshold <= 0:
            raise ValueError(f"lagThreshold must be positive, got {self.lag_threshold}")
        if not 0 <= self.min_replicas <= self.max_replicas:
            raise ValueError(f"need 0 <= minReplicaCount <= maxReplicaCount, got {self.min_replicas} and "
                             f"{self.max_replicas}")


@dataclass(frozen=True)
class PartitionOffsets:
    """One partition: the group's committed offset (None when it has none) and the end of the log."""

    topic: str
    partition: int
    committed: int | None
    end: int


@dataclass(frozen=True)
class Decision:
    replicas: int
    total_lag: int | None
    """The lag KEDA reports to the HPA, after the cap (None when it could not be read)."""
    active: bool
    why: str


def partition_lag(p: PartitionOffsets, spec: ScalerSpec) -> int:
    if p.committed is None or p.committed < 0:
        if spec.offset_reset_policy == "latest":
            return 0 if spec.scale_to_zero_on_invalid_offset else 1
        return p.end
    return max(p.end - p.committed, 0)


def total_lag(partitions: Sequence[PartitionOffsets], spec: ScalerSpec) -> int:
    lags = [partition_lag(p, spec) for p in partitions]
    total = sum(lags)
    if not spec.allow_idle_consumers or spec.limit_to_partitions_with_lag:
        bound = sum(1 for lag in lags if lag > 0) if spec.limit_to_partitions_with_lag else len(lags)
        if total // spec.lag_threshold > bound:
            total = bound * spec.lag_threshold
    return total


def desired_replicas(partitions: Sequence[PartitionOffsets] | None, current: int, spec: ScalerSpec) -> Decision:
    """The replica count KEDA and the HPA would choose now (before scale-down stabilisation)."""
    if partitions is None:
        return Decision(current, None, current > 0, "lag unknown: holding the current count")
    total = total_lag(partitions, spec)
    if total <= spec.activation_lag_threshold:
        if spec.min_replicas == 0:
            return Decision(0, total, False, f"lag {total} <= activationLagThreshold: scaled to zero")
        if current < spec.min_replicas or current == 0:
            return Decision(spec.min_replicas, total, False, "inactive: minReplicaCount")
    wanted = math.ceil(total / spec.lag_threshold)
    if current > 0 and abs(total / (spec.lag_threshold * current) - 1) <= HPA_TOLERANCE:
        wanted = current  # within the HPA's tolerance: no change
    floor = max(spec.min_replicas, 1)
    replicas = min(max(wanted, floor), spec.max_replicas)
    return Decision(replicas, total, total > spec.activation_lag_threshold,
                    f"ceil({total} / {spec.lag_threshold}) = {math.ceil(total / spec.lag_threshold)}, "
                    f"clamped to [{floor}, {spec.max_replicas}]")


def stabilized(recommendations: Sequence[tuple[float, int]], now: float, window_s: float) -> int:
    """The HPA's scale-down stabilisation: the largest recommendation ``(time, replicas)`` of the last
    ``window_s`` seconds (the newest alone when the window is 0)."""
    if not recommendations:
        raise ValueError("no recommendation yet")
    recent = [r for t, r in recommendations if now - t <= window_s]
    return max(recent) if recent else max(recommendations)[1]
