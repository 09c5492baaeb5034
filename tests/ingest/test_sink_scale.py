"""A sink group scaled on its lag as KEDA would (1 → 3 → 1 members) while data flows: every offset lands
exactly once. Members are ``smartcity ingest`` processes with static membership ids (the pod names of
the Deployment) and are stopped with SIGTERM, as Kubernetes stops a pod."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from smartcity.bench.autoscaler import Autoscaler, Members, Sample
from smartcity.ingest.kafka.admin import create_topics
from smartcity.ingest.kafka.scaling import ScalerSpec

from .helpers import landed_offsets, produce_bus, sink_command, sink_env, topic_offsets

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_a_group_scaled_1_3_1_on_its_lag_while_data_flows_lands_every_offset_once(kafka_settings, tmp_path: Path,
                                                                                   unique: str) -> None:
    kafka = kafka_settings.model_copy(update={"partitions": 6})
    topic = kafka.topic("bus")
    create_topics(kafka, [topic])
    backlog = 150_000
    produce_bus(kafka, 0, backlog)
    lake, group = tmp_path / "lake", f"g-{unique}"
    # small batches make landing slow enough on any machine that the added members find work
    members = Members(lambda name: sink_command(kafka, lake, group, "--batch-rows", "1000", "--batch-age", "0.2",
                                                "--instance-id", name),
                      sink_env(kafka, tmp_path), tmp_path, name="smartcity-ingest")
    spec = ScalerSpec(lag_threshold=backlog // 3, min_replicas=1, max_replicas=3, offset_reset_policy="earliest")
    scaler = Autoscaler(kafka, group, [topic], spec, members, poll_s=1.0, scale_down_window_s=5.0)
    flowing = threading.Event()
    produced = [backlog]

    def feed() -> None:  # data keeps flowing while the group grows and shrinks
        while not flowing.wait(0.25):
            produce_bus(kafka, produced[0], produced[0] + 500)
            produced[0] += 500

    feeder = threading.Thread(target=feed)
    feeder.start()

    def grew_and_shrank(sample: Sample) -> bool:
        return any(s.members == 3 for s in scaler.samples) and sample.members == 1 and not members.stopping

    members.scale(1)
    try:
        scaler.run(grew_and_shrank, timeout=240)
        flowing.set()
        feeder.join()
        scaler.run(lambda s: s.lag == 0, timeout=120)  # the one member left catches up the rest
    finally:
        flowing.set()
        feeder.join()
        members.stop_all()
    counts = [scaler.samples[0].before] + [s.members for s in scaler.samples]
    assert counts[0] == 1 and max(counts) == 3 and counts[-1] == 1, counts
    assert any(s.lag for s in scaler.samples if s.before == 3), "the three members had nothing to land"
    assert all(code == 0 for code in members.exits.values()), members.exits  # SIGTERM: flushed, committed
    assert len(members.exits) == 3
    assert landed_offsets(lake) == topic_offsets(kafka, topic)  # every offset exactly once
    assert len(landed_offsets(lake)) == produced[0]
