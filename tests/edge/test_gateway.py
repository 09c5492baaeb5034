"""The edge gateway against real transports (ZeroMQ sockets, a Zenoh peer session, a Mosquitto
broker) and a real Kafka broker: every device message lands in the lake exactly once, through
resends, injected duplicates and link drops; bad messages are dead-lettered with the transport named;
and with Kafka stopped for part of the run and the gateway killed with kill -9 while spooling,
nothing is lost and nothing duplicated."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from smartcity.ingest.edge.devices import link_for
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.proto import BusTelemetry
from smartcity.proto.codec import BUS
from tests.edge.transports import (
    cli,
    devices_command,
    edge_env,
    expected_messages,
    free_port,
    landed_messages,
    mosquitto,  # noqa: F401  # the fixture
    start_gateway,
)
from tests.ingest.helpers import consume_all
from tests.test_devbroker_restart import _cli, _own_cache, _start

TRANSPORTS = ["zmq", "zenoh", "mqtt"]


def wait_for(path: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"the gateway did not come up: {log.read_text()[-3000:]}"
        time.sleep(0.05)


def send_bad_messages(transport: str, env: dict[str, str], prefix: str = "smartcity") -> int:
    """Three messages the gateway must dead-letter, sent straight over the transport."""
    link = link_for(transport, zmq_pull=env["SMARTCITY_EDGE_ZMQ_PULL"], zmq_acks=env["SMARTCITY_EDGE_ZMQ_ACKS"],
                    zenoh_connect=[env["SMARTCITY_EDGE_ZENOH_LISTEN"]], mqtt_host="127.0.0.1",
                    mqtt_port=int(env.get("SMARTCITY_EDGE_MQTT_PORT", "1883")), prefix=prefix)
    link.connect()
    time.sleep(1.0)  # a Zenoh peer learns the gateway's subscription just after connecting
    ct = "application/x-protobuf"
    link.send(f"{prefix}/bus/B900", b"\xff\xfe garbage", ct, None)
    link.send(f"{prefix}/bus/B901", BUS.encode(BusTelemetry(bus_id="B902", event_time_ms=1, device_seq=1)), ct, None)
    link.send(f"{prefix}/tram/T1", BUS.encode(BusTelemetry(bus_id="T1", event_time_ms=1)), ct, None)
    time.sleep(1.0)
    link.close()
    return 3


def ingest(env: dict[str, str], lake: Path, group: str) -> None:
    done = subprocess.run(cli("ingest", "--until-caught-up", "--lake", str(lake), "--group", group,
                              "--topics", "bus,air"), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_device_message_lands_once_and_bad_ones_are_dead_lettered(
        transport: str, kafka_bootstrap: str, mosquitto: int, unique: str, tmp_path: Path) -> None:  # noqa: F811
    prefix = f"e{unique}"
    env = edge_env(kafka_bootstrap, prefix, mosquitto)
    log = tmp_path / "gateway.log"
    port = free_port()
    gateway = start_gateway(env, transport, tmp_path / "spool", "--until-idle", "6s", "--metrics-port", str(port),
                            log=log)
    try:
        wait_for(Path(env["SMARTCITY_HEALTH_HEARTBEAT"]), gateway, log)
        bad = send_bad_messages(transport, env)
        devices = subprocess.run(devices_command(transport, "--duplicates", "0.03", "--drop-link", "1000:1s"),
                                 env=env, capture_output=True, text=True, timeout=300)
        assert devices.returncode == 0, devices.stdout[-2000:] + devices.stderr[-2000:]
        metrics = settled_metrics(port, transport)
        assert gateway.wait(120) == 0, log.read_text()[-3000:]
    finally:
        gateway.kill()
    assert "0 still spooled" in log.read_text()
    ingest(env, tmp_path / "lake", f"g{unique}")
    landed = landed_messages(tmp_path / "lake")
    assert len(landed) == len(set(landed))  # the injected duplicates and the resends were dropped
    assert set(landed) == expected_messages()  # and nothing is missing

    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=prefix)
    dead = consume_all(settings, settings.topic("deadletter"), f"d{unique}", expected=bad)
    assert len(dead) == bad
    headers = [dict(m.headers()) for m in dead]
    assert all(h["smartcity-transport"] == transport.encode() and h["smartcity-error-stage"] == b"edge"
               for h in headers)
    reasons = sorted(h["smartcity-error"].decode() for h in headers)
    assert any("invalid Protobuf" in r for r in reasons)
    assert any("'B902' is not the address's device 'B901'" in r for r in reasons)
    assert any("no known domain" in r for r in reasons)
    assert {m.key() for m in dead} == {b"B900", b"B901", b"T1"}

    # per-transport metrics: everything forwarded, the injected duplicates dropped at the gateway
    sent = len(expected_messages())
    assert metrics["messages_forwarded_total"] == sent and metrics["deadletters_total"] == bad
    assert metrics["duplicates_dropped_total"] > 0
    assert metrics["messages_received_total"] >= sent + bad + metrics["duplicates_dropped_total"]
    assert metrics["spool_records"] == 0 and metrics["spool_age_seconds"] == 0 and metrics["spool_full"] == 0

    # forwarded as a direct producer sends them: key = device id, the same headers and bytes
    forwarded = consume_all(settings, settings.topic("bus"), f"b{unique}", expected=50)
    for m in forwarded[:50]:
        message = BUS.decode(m.value(), m.headers())
        assert m.key() == message.bus_id.encode() and m.headers() == BUS.headers("protobuf")


def settled_metrics(port: int, transport: str, timeout: float = 20) -> dict[str, float]:
    """The gateway's metrics of ``transport`` (names without the ``smartcity_edge_`` prefix) once every
    spooled message is in Kafka."""
    deadline = time.monotonic() + timeout
    while True:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        values = {}
        for line in text.splitlines():
            match = re.match(rf'smartcity_edge_(\w+)\{{transport="{transport}"\}} (\S+)$', line)
            if match:
                values[match[1]] = float(match[2])
        done = values.get("messages_forwarded_total", 0) + values.get("deadletters_total", 0)
        if values.get("messages_spooled_total") == done and values.get("spool_records") == 0:
            return values
        assert time.monotonic() < deadline, values
        time.sleep(0.2)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_kafka_away_and_the_gateway_killed_while_spooling_lose_and_duplicate_nothing(
        transport: str, mosquitto: int, unique: str, tmp_path: Path) -> None:  # noqa: F811
    own = _own_cache(tmp_path)
    data = tmp_path / "kafka"
    bootstrap, _ = _start(own, data)
    env = {**edge_env(bootstrap, f"k{unique}", mosquitto), "SMARTCITY_CACHE": own["SMARTCITY_CACHE"]}
    spool, log = tmp_path / "spool", tmp_path / "gateway.log"
    heartbeat = Path(env["SMARTCITY_HEALTH_HEARTBEAT"])
    gateway = start_gateway(env, transport, spool, log=log)
    devices = None
    try:
        wait_for(heartbeat, gateway, log)
        devices = subprocess.Popen(devices_command(transport, "--rate", "300", minutes=5), env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2)
        assert _cli(own, "kafka", "stop", "--keep-data").returncode == 0
        time.sleep(4)  # the devices keep sending; the gateway spools
        pending = sum(f.stat().st_size for f in (spool / transport).glob("*.spool"))
        assert pending > 0
        gateway.kill()  # kill -9 while spooling, with Kafka away
        gateway.wait(10)
        heartbeat.unlink(missing_ok=True)
        gateway = start_gateway(env, transport, spool, "--until-idle", "6s", log=log)
        wait_for(heartbeat, gateway, log)
        time.sleep(3)
        _start(own, data)  # Kafka is back, on its data
        out, err = devices.communicate(timeout=300)
        assert devices.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        assert gateway.wait(180) == 0, log.read_text()[-3000:]
        text = log.read_text()
        assert "waiting for Kafka" in text and "still to be forwarded" in text  # it spooled, and resumed after -9
        ingest(env, tmp_path / "lake", f"g{unique}")
        landed = landed_messages(tmp_path / "lake")
        assert len(landed) == len(set(landed))
        assert set(landed) == expected_messages(minutes=5)
    finally:
        gateway.kill()
        if devices is not None:
            devices.kill()
        _cli(own, "kafka", "stop")


@pytest.mark.parametrize("transport", ["zmq", "mqtt"])
def test_a_full_spool_holds_the_devices_back_and_drops_nothing(
        transport: str, mosquitto: int, unique: str, tmp_path: Path) -> None:  # noqa: F811
    own = _own_cache(tmp_path)
    data = tmp_path / "kafka"
    bootstrap, _ = _start(own, data)
    assert _cli(own, "kafka", "stop", "--keep-data").returncode == 0  # Kafka away from the start
    env = {**edge_env(bootstrap, f"f{unique}", mosquitto), "SMARTCITY_CACHE": own["SMARTCITY_CACHE"]}
    log = tmp_path / "gateway.log"
    gateway = start_gateway(env, transport, tmp_path / "spool", "--spool-max-bytes", "65536", "--until-idle", "6s",
                            log=log)
    devices = None
    try:
        wait_for(Path(env["SMARTCITY_HEALTH_HEARTBEAT"]), gateway, log)
        devices = subprocess.Popen(devices_command(transport), env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while "holding the devices back" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(3)
        if transport == "zmq":
            assert devices.poll() is None  # held back: its messages wait, unacknowledged, on the device
        # (over MQTT the broker acknowledged them and queues them for the gateway's session instead)
        spooled = sum(f.stat().st_size for f in (tmp_path / "spool" / transport).glob("*.spool"))
        assert spooled <= 65536
        _start(own, data)
        out, err = devices.communicate(timeout=300)
        assert devices.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        assert gateway.wait(180) == 0, log.read_text()[-3000:]
        assert "the spool has room again" in log.read_text()
        ingest(env, tmp_path / "lake", f"g{unique}")
        landed = landed_messages(tmp_path / "lake")
        assert len(landed) == len(set(landed)) and set(landed) == expected_messages()
    finally:
        gateway.kill()
        if devices is not None:
            devices.kill()
        _cli(own, "kafka", "stop")


def test_a_full_disk_holds_the_devices_back_and_loses_nothing(kafka_bootstrap: str, unique: str,
                                                               tmp_path: Path) -> None:
    env = edge_env(kafka_bootstrap, f"d{unique}", None)
    log = tmp_path / "gateway.log"
    gateway = start_gateway(env, "zmq", tmp_path / "spool", "--until-idle", "6s", log=log, max_file_bytes=40_000)
    try:
        wait_for(Path(env["SMARTCITY_HEALTH_HEARTBEAT"]), gateway, log)
        devices = subprocess.run(devices_command("zmq"), env=env, capture_output=True, text=True, timeout=300)
        assert devices.returncode == 0, devices.stdout[-2000:] + devices.stderr[-2000:]
        assert gateway.wait(120) == 0, log.read_text()[-3000:]
    finally:
        gateway.kill()
    text = log.read_text()
    assert "cannot grow" in text and "the spool has room again" in text  # the disk refused, and devices waited
    ingest(env, tmp_path / "lake", f"g{unique}")
    landed = landed_messages(tmp_path / "lake")
    assert len(landed) == len(set(landed)) and set(landed) == expected_messages()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_stalled_gateway_that_wakes_up_late_loses_and_duplicates_nothing(
        transport: str, kafka_bootstrap: str, mosquitto: int, unique: str, tmp_path: Path) -> None:  # noqa: F811
    env = edge_env(kafka_bootstrap, f"s{unique}", mosquitto)
    log = tmp_path / "gateway.log"
    gateway = start_gateway(env, transport, tmp_path / "spool", "--until-idle", "6s", log=log)
    devices = None
    try:
        wait_for(Path(env["SMARTCITY_HEALTH_HEARTBEAT"]), gateway, log)
        devices = subprocess.Popen(devices_command(transport, "--rate", "500"), env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        time.sleep(2)
        gateway.send_signal(signal.SIGSTOP)  # frozen mid-stream: the devices go unacknowledged and send again
        time.sleep(10)
        gateway.send_signal(signal.SIGCONT)
        out, err = devices.communicate(timeout=300)
        assert devices.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        assert gateway.wait(120) == 0, log.read_text()[-3000:]
    finally:
        gateway.kill()
        if devices is not None:
            devices.kill()
    ingest(env, tmp_path / "lake", f"g{unique}")
    landed = landed_messages(tmp_path / "lake")
    assert len(landed) == len(set(landed)) and set(landed) == expected_messages()


def test_a_damaged_spool_stops_the_gateway_with_one_line_naming_it(tmp_path: Path) -> None:
    from smartcity.ingest.edge.spool import Spool

    spool = Spool(tmp_path / "spool" / "zmq", segment_bytes=64)
    for i in range(20):
        spool.append([f"record {i}".encode()])
    spool.close()
    first = sorted((tmp_path / "spool" / "zmq").glob("*.spool"))[0]
    data = bytearray(first.read_bytes())
    data[10] ^= 0xFF
    first.write_bytes(bytes(data))
    env = edge_env("127.0.0.1:9", "x", None)
    done = subprocess.run(cli("edge", "--zmq", "--spool-dir", str(tmp_path / "spool"), "--max-seconds", "5"),
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged record at byte 0" in lines[0] and first.name in lines[0], done.stderr
    assert "Traceback" not in done.stderr
