"""Apache Kafka's own performance tools (ProducerPerformance, ConsumerPerformance), run from the
provisioned jars, with their summary lines parsed."""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass

from smartcity.core.errors import BrokerError
from smartcity.devbroker.maven import KAFKA_VERSION, check_java, provision

_PRODUCER_TOTAL = re.compile(
    r"^(\d+)( steady state)? records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
    r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th\.")
_TOOLS = "org.apache.kafka.tools."
LOCALE = ["-Duser.language=en", "-Duser.country=US", "-Dlog4j2.level=WARN"]


@dataclass(frozen=True)
class ProducerPerf:
    records: int
    records_per_s: float
    mb_per_s: float
    avg_latency_ms: float
    p50_ms: int
    p99_ms: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class ConsumerPerf:
    records: int
    records_per_s: float
    mb_per_s: float
    fetch_records_per_s: float
    rebalance_ms: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _java(main: str, args: list[str], heap: str = "512m", timeout: float = 600) -> str:
    java = check_java()
    jars = provision(KAFKA_VERSION)
    cmd = [java, f"-Xmx{heap}", *LOCALE, "-cp", jars.classpath, _TOOLS + main, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(f"{main} failed: {tail[0]}")
    return result.stdout


def producer_performance(bootstrap: str, topic: str, records: int, record_size: int,
                         props: dict[str, str] | None = None) -> ProducerPerf:
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": "20", "batch.size": "1000000",
            "compression.type": "zstd", **(props or {})}
    out = _java("ProducerPerformance", ["--topic", topic, "--num-records", str(records), "--record-size",
                                        str(record_size), "--throughput", "-1", "--producer-props",
                                        *[f"{k}={v}" for k, v in conf.items()]])
    for line in reversed(out.splitlines()):
        m = _PRODUCER_TOTAL.match(line.strip())
        if m:
            return ProducerPerf(int(m[1]), float(m[3]), float(m[4]), float(m[5]), int(m[7]), int(m[9]))
    raise BrokerError("ProducerPerformance printed no summary line")


def consumer_performance(bootstrap: str, topic: str, records: int, group: str,
                         timeout_ms: int = 60_000) -> ConsumerPerf:
    out = _java("ConsumerPerformance", ["--bootstrap-server", bootstrap, "--topic", topic, "--messages",
                                        str(records), "--timeout", str(timeout_ms), "--group", group])
    rows = [ln for ln in out.splitlines() if re.match(r"^\d{4}-\d\d-\d\d ", ln)]
    if not rows:
        raise BrokerError("ConsumerPerformance printed no result line")
    f = rows[-1].split(", ")
    consumed = int(f[4])
    if consumed < records:
        raise BrokerError(f"ConsumerPerformance read {consumed} of {records} records")
    return ConsumerPerf(consumed, float(f[5]), float(f[3]), float(f[9]), int(f[6]))
