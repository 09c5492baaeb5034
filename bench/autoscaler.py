"""KEDA on one machine: a controller that scales a consumer group's member processes on its lag.

Every ``poll_s`` it reads the group's committed and end offsets, asks
:func:`~smartcity.ingest.kafka.scaling.desired_replicas` (the rule the ScaledObjects configure and
``smartcity lag`` prints) how many members to run, applies the HPA's scale-down stabilisation window,
and starts or stops processes to match, as a Deployment would its pods: each member has a pod-like name
that is also its static membership id, new members are added with the next free name, and a member
removed gets SIGTERM and its grace period (then SIGKILL), the newest first. A lag that cannot be read
holds the count. Used by ``smartcity bench scale`` and the scale-out tests.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartcity.ingest.kafka.lag import read_offsets
from smartcity.ingest.kafka.scaling import ScalerSpec, desired_replicas, partition_lag, stabilized
from smartcity.ingest.kafka.settings import KafkaSettings


@dataclass(frozen=True)
class Sample:
    t: float
    """Seconds since the controller started."""
    lag: int | None
    """Messages not yet committed by the group (None: not readable this time)."""
    before: int
    """Members running when the lag was read."""
    members: int
    """Members running after the decision (not counting those shutting down)."""
    desired: int


@dataclass
class Members:
    """The member processes of one group, named ``<name>-<n>`` like the pods of a Deployment."""

    command: Callable[[str], list[str]]
    """The command of a member, given its name (its static membership id)."""
    env: dict[str, str]
    logs: Path
    name: str = "member"
    grace_s: float = 60.0
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    stopping: dict[str, tuple[subprocess.Popen[bytes], float]] = field(default_factory=dict)
    exits: dict[str, int] = field(default_factory=dict)
    """Exit codes of the members that stopped (a member may run more than once under one name)."""

    def scale(self, replicas: int) -> None:
        while len(self.running) < replicas:
            used = set(self.running) | set(self.stopping)
            name = next(f"{self.name}-{i}" for i in range(len(used) + 1) if f"{self.name}-{i}" not in used)
            log = (self.logs / f"{name}.log").open("ab")
            self.running[name] = subprocess.Popen(self.command(name), env=self.env, stdout=subprocess.DEVNULL,
                                                  stderr=log)
            log.close()
        while len(self.running) > replicas:
            name = sorted(self.running, key=lambda n: int(n.rsplit("-", 1)[1]))[-1]
            proc = self.running.pop(name)
            proc.send_signal(signal.SIGTERM)
            self.stopping[name] = (proc, time.monotonic() + self.grace_s)
        self.reap()

    def reap(self) -> None:
        """Collect members that exited; SIGKILL those past their grace period (as the kubelet does)."""
        for name, (proc, deadline) in list(self.stopping.items()):
            if proc.poll() is None and time.monotonic() > deadline:
                proc.kill()
            if proc.poll() is not None:
                self.exits[f"{name}@{len(self.exits)}"] = proc.wait()
                del self.stopping[name]
        for name, proc in list(self.running.items()):
            if proc.poll() is not None:  # died on its own: a Deployment would restart it
                self.exits[f"{name}@{len(self.exits)}"] = proc.wait()
                del self.running[name]

    def stop_all(self, timeout: float = 90.0) -> None:
        self.scale(0)
        deadline = time.monotonic() + timeout
        while self.stopping and time.monotonic() < deadline:
            time.sleep(0.2)
            self.reap()
        for proc, _ in self.stopping.values():
            proc.kill()
        self.reap()


@dataclass
class Autoscaler:
    kafka: KafkaSettings
    group: str
    topics: list[str]
    spec: ScalerSpec
    members: Members
    poll_s: float = 1.0
    scale_down_window_s: float = 30.0
    samples: list[Sample] = field(default_factory=list)
    _recommendations: list[tuple[float, int]] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)

    def step(self) -> Sample:
        """One poll: read the lag, decide, scale."""
        now = time.monotonic()
        offsets = read_offsets(self.kafka, self.group, self.topics, timeout=5)
        current = len(self.members.running)
        decision = desired_replicas(offsets, current, self.spec)
        self._recommendations.append((now, decision.replicas))
        self._recommendations = [r for r in self._recommendations if now - r[0] <= self.scale_down_window_s]
        target = decision.replicas if decision.replicas >= current else \
            min(current, stabilized(self._recommendations, now, self.scale_down_window_s))
        self.members.scale(target)
        lag = None if offsets is None else sum(partition_lag(p, self.spec) for p in offsets)
        sample = Sample(round(now - self._started, 2), lag, current, len(self.members.running), decision.replicas)
        self.samples.append(sample)
        return sample

    def run(self, done: Callable[[Sample], bool], timeout: float) -> list[Sample]:
        """Poll until ``done`` says so (or ``timeout``, an error naming the last sample)."""
        deadline = time.monotonic() + timeout
        while True:
            began = time.monotonic()
            sample = self.step()
            if done(sample):
                return self.samples
            if began > deadline:
                raise TimeoutError(f"the group did not get there in {timeout:.0f} s; last: {sample}")
            time.sleep(max(0.0, self.poll_s - (time.monotonic() - began)))

    def drain(self, start: int, settled: Callable[[Sample, float], bool], timeout: float) -> float:
        """Start ``start`` members, poll until the lag first reads 0 and then ``settled(sample, t0)`` holds
        (``t0``: the seconds at which the lag read 0), and stop every member; returns ``t0``. A member
        that exited with an error fails the run, with the tail of its log."""
        drained: list[float] = []

        def done(sample: Sample) -> bool:
            if sample.lag == 0 and not drained:
                drained.append(sample.t)
            return bool(drained) and settled(sample, drained[0])

        self.members.scale(start)
        try:
            self.run(done, timeout)
        finally:
            self.members.stop_all()
        failed = {name: code for name, code in self.members.exits.items() if code != 0}
        if failed:
            tails = {name: (self.members.logs / f"{name.split('@')[0]}.log").read_text()[-1500:] for name in failed}
            raise RuntimeError(f"members of {self.group} exited with {failed}: {tails}")
        return drained[0]

    def path(self) -> str:
        """The member counts it went through, e.g. ``1 → 3 → 2 → 1``."""
        counts = [self.samples[0].before] + [s.members for s in self.samples] if self.samples else []
        return " → ".join(str(b) for a, b in itertools.pairwise([None, *counts]) if b != a)

    def lag_curve(self) -> list[tuple[float, float]]:
        """``(seconds, lag)`` of every sample whose lag could be read."""
        return [(s.t, float(s.lag)) for s in self.samples if s.lag is not None]
