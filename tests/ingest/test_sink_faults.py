"""The sink under the faults an operator meets, against a real broker: bounded runs beside other
members, a frozen zombie, a topic recreated under a kept lake, a damaged lake record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from smartcity.ingest.kafka.admin import admin_client, create_topics
from smartcity.storage.commit import state_path

from .helpers import landed_offsets, produce_bus, run_sink, sink_command, sink_env, topic_offsets

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def topics(kafka_settings):
    create_topics(kafka_settings, [kafka_settings.topic("bus"), kafka_settings.topic("deadletter")])
    return kafka_settings


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
    proc.wait(30)


def test_bounded_run_beside_a_live_daemon_waits_for_every_partition(topics, tmp_path: Path, unique: str) -> None:
    """Same group as a running daemon (the ingest_batch default): it is given no partition, yet it may only
    succeed once the lake holds everything the topic held when it started."""
    lake, group = tmp_path / "lake", f"g-{unique}"
    env = sink_env(topics, tmp_path)
    daemon = subprocess.Popen(sink_command(topics, lake, group, "--batch-age", "4"), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)  # the daemon holds every partition
        produce_bus(topics, 0, 6000)
        run_sink(topics, lake, group, timeout=240)
        assert landed_offsets(lake) == topic_offsets(topics, topics.topic("bus"))  # all of it, at once
    finally:
        _stop(daemon)


def test_bounded_run_that_cannot_finish_fails_and_names_the_partitions(topics, tmp_path: Path,
                                                                          unique: str) -> None:
    """A frozen member keeps its partitions until its 10 s session runs out: a bounded run with a shorter
    time limit waits for them, then gives up and says which."""
    lake, group = tmp_path / "lake", f"g-{unique}"
    env = sink_env(topics, tmp_path)
    produce_bus(topics, 0, 3000)
    holder = subprocess.Popen(sink_command(topics, lake, group, "--batch-age", "600", "--instance-id", "holder"),
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6)
        os.kill(holder.pid, signal.SIGSTOP)
        result = subprocess.run(sink_command(topics, lake, group, "--until-caught-up", "--caught-up-within", "2s"),
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        assert "not caught up within" in result.stderr and topics.topic("bus") in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        _stop(holder)
    run_sink(topics, lake, group, timeout=240)  # the partitions come back: everything lands once
    assert landed_offsets(lake) == topic_offsets(topics, topics.topic("bus"))


@pytest.mark.parametrize("fmt", ["parquet", "hdf5", "csv"])
def test_a_frozen_zombie_cannot_land_what_the_new_owner_landed(topics, tmp_path: Path, unique: str,  # type: ignore[no-untyped-def]
                                                               fmt: str) -> None:
    """SIGSTOP a member holding buffered batches past its session timeout, let the other take and land its
    partitions, SIGCONT it: its stale batches are fenced at the commit point, in every lake format."""
    lake, group = tmp_path / "lake", f"g-{unique}"
    env = sink_env(topics, tmp_path)
    cmd = sink_command(topics, lake, group, "--batch-age", "3", "--format", fmt)
    zombie = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    other = None
    try:
        time.sleep(4)
        produce_bus(topics, 0, 8000)
        time.sleep(1.5)  # consumed and buffered, not yet due
        os.kill(zombie.pid, signal.SIGSTOP)
        other = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(25)  # past the 10 s session: the other member owns and lands everything
        produce_bus(topics, 8000, 10_000)
        os.kill(zombie.pid, signal.SIGCONT)
        time.sleep(8)
        for proc in (zombie, other):
            proc.send_signal(signal.SIGTERM)
        zombie.wait(60)
        other.wait(60)
    finally:
        _stop(zombie)
        if other is not None:
            _stop(other)
    run_sink(topics, lake, group, "--format", fmt, timeout=240)
    landed = landed_offsets(lake)
    assert [k for k, n in Counter(landed).items() if n > 1] == []
    assert landed == topic_offsets(topics, topics.topic("bus"))


@pytest.mark.parametrize("new_messages", [300, 5000])  # fewer, and more, than the lake holds
def test_a_recreated_topic_under_a_kept_lake_is_a_stated_error(topics, tmp_path: Path, unique: str,  # type: ignore[no-untyped-def]
                                                                new_messages: int) -> None:
    lake, group = tmp_path / "lake", f"g-{unique}"
    produce_bus(topics, 0, 2000)
    run_sink(topics, lake, group)
    bus_topic = topics.topic("bus")
    admin = admin_client(topics)
    for future in admin.delete_topics([bus_topic]).values():
        future.result(30)
    deadline = time.monotonic() + 60
    while bus_topic in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
        time.sleep(0.5)
    create_topics(topics, [bus_topic])
    produce_bus(topics, 0, new_messages)  # with more, only the topic id tells the lake's offsets are stale
    result = subprocess.run(sink_command(topics, lake, f"{group}-new", "--until-caught-up"),
                            env=sink_env(topics, tmp_path), capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert "created again" in result.stderr and "Traceback" not in result.stderr


def test_an_offsets_record_past_the_log_end_is_never_re_landed(topics, tmp_path: Path, unique: str) -> None:
    lake, group = tmp_path / "lake", f"g-{unique}"
    produce_bus(topics, 0, 1000)
    run_sink(topics, lake, group)
    before = landed_offsets(lake)
    record = state_path(lake, topics.topic("bus"), 0)
    record.write_text(json.dumps({"last_offset": 10**9}))
    result = subprocess.run(sink_command(topics, lake, f"{group}-2", "--until-caught-up"),
                            env=sink_env(topics, tmp_path), capture_output=True, text=True, timeout=180)
    assert result.returncode != 0 and "created again" in result.stderr
    assert landed_offsets(lake) == before  # nothing landed twice


def test_a_damaged_offsets_record_is_named_with_the_fix(topics, tmp_path: Path, unique: str) -> None:
    lake, group = tmp_path / "lake", f"g-{unique}"
    produce_bus(topics, 0, 500)
    run_sink(topics, lake, group)
    record = state_path(lake, topics.topic("bus"), 1)
    record.write_text('{"last_offs')
    result = subprocess.run(sink_command(topics, lake, group, "--until-caught-up"),
                            env=sink_env(topics, tmp_path), capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert str(record) in result.stderr and "remove the file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_poison_message_too_large_for_the_dead_letter_topic_is_contained(topics, tmp_path: Path,
                                                                            unique: str) -> None:
    """A ~1 MB undecodable message plus the dead-letter headers is over the producer's limit: it goes to the
    dead-letter topic truncated, with its size and hash; the other bad message and the good ones are kept."""
    import hashlib

    from smartcity.proto.codec import BUS

    from .helpers import bus, consume_all, produce

    lake, group = tmp_path / "lake", f"g-{unique}"
    poison = b"\x0f" * 1_000_000
    headers = BUS.headers("protobuf")
    records = [(b"B01", BUS.encode(bus(i)), headers) for i in range(50)]
    records += [(b"B02", poison, headers), (b"B03", b"\xff\xfe not protobuf", headers)]
    records += [(b"B01", BUS.encode(bus(i)), headers) for i in range(50, 100)]
    producer_settings = topics.model_copy(update={"properties": {"message.max.bytes": "2000000"}})
    produce(producer_settings, topics.topic("bus"), [(k, v, list(h)) for k, v, h in records])
    run_sink(topics, lake, group)
    assert len(landed_offsets(lake)) == 100
    letters = consume_all(topics, topics.topic("deadletter"), f"dlq-{unique}", expected=2)
    assert len(letters) == 2
    big = next(m for m in letters if dict(m.headers()).get("smartcity-truncated") == b"true")
    meta = dict(big.headers())
    assert int(meta["smartcity-original-size"]) == len(poison)
    assert meta["smartcity-original-sha256"] == hashlib.sha256(poison).hexdigest().encode()
    assert meta["smartcity-error"] and len(big.value()) < len(poison)


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 256 kB tmpfs (root only); yields its path and a function that makes it 256 MB."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a small tmpfs, which needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")

    def grow() -> None:
        subprocess.run(["mount", "-o", "remount,size=256m", str(mount)], check=True)

    try:
        yield mount, grow
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stops_the_sink_and_a_rerun_lands_everything_once(topics, small_disk, unique: str) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    from smartcity.storage.layout import data_files

    mount, grow = small_disk
    lake, group = mount / "lake", f"g-{unique}"
    produce_bus(topics, 0, 60_000)
    result = subprocess.run(sink_command(topics, lake, group, "--until-caught-up", "--batch-rows", "5000"),
                            env=sink_env(topics, mount.parent), capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "No space left on device" in result.stderr
    for path in data_files(lake, "bus_telemetry"):  # whatever is visible is whole
        assert pq.read_metadata(path).num_rows > 0
    grow()
    run_sink(topics, lake, group, timeout=300)
    landed = landed_offsets(lake)
    assert [k for k, n in Counter(landed).items() if n > 1] == []
    assert landed == topic_offsets(topics, topics.topic("bus"))


@pytest.mark.parametrize(("point", "fmt"), [("staged", "parquet"), ("manifest", "hdf5"), ("renamed", "csv"),
                                            ("recorded", "parquet"), ("landed", "hdf5")])
def test_a_crash_at_each_step_of_landing_loses_and_duplicates_nothing(topics, tmp_path: Path, unique: str,  # type: ignore[no-untyped-def]
                                                                      point: str, fmt: str) -> None:
    """kill -9 semantics (os._exit) at every step of the protocol, on the third batch, then a rerun."""
    lake, group = tmp_path / "lake", f"g-{unique}"
    produce_bus(topics, 0, 6000)
    env = {**sink_env(topics, tmp_path), "SMARTCITY_FAULT": f"{point}:3"}
    crashed = subprocess.run(sink_command(topics, lake, group, "--until-caught-up", "--batch-rows", "1000",
                                          "--format", fmt),
                             env=env, capture_output=True, text=True, timeout=180)
    assert crashed.returncode == 137 and f"fault injected at {point}" in crashed.stderr, crashed.stderr[-2000:]
    run_sink(topics, lake, group, "--format", fmt)
    landed = landed_offsets(lake)
    assert [k for k, n in Counter(landed).items() if n > 1] == []
    assert landed == topic_offsets(topics, topics.topic("bus"))
