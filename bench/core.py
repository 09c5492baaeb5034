"""What every experiment shares: its context (time budget, broker, output) and its result."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil

from smartcity.ingest.kafka.settings import KafkaSettings

N = TypeVar("N", int, float)


@dataclass
class Chart:
    """One bar or line chart: ``y`` per ``x``, one series per ``series`` value."""

    x: str
    y: str
    series: str | None = None
    kind: str = "bar"  # or "line" (categories on x), or "curve" (Result.curves on numeric axes)
    ylabel: str = ""
    log: bool = False


@dataclass
class Result:
    experiment: str
    title: str
    rows: list[dict[str, Any]]
    headline: dict[str, Any] = field(default_factory=dict)
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """For a ``curve`` chart: series name -> ``(x, y)`` points, drawn on numeric axes."""


def machine() -> dict[str, Any]:
    """A description of this machine and the versions measured."""
    import confluent_kafka
    import duckdb
    import polars
    import pyarrow

    from smartcity.devbroker.maven import KAFKA_VERSION

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(), "python": platform.python_version(),
        "kafka": KAFKA_VERSION, "confluent_kafka": confluent_kafka.__version__,
        "librdkafka": confluent_kafka.libversion()[0], "pyarrow": pyarrow.__version__,
        "polars": polars.__version__, "duckdb": duckdb.__version__,
    }


@dataclass
class BenchContext:
    out_dir: Path
    quick: bool = False
    budget_s: float = 120.0
    bootstrap: str | None = None
    log: Callable[[str], None] = print
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _local: str | None = None

    def size(self, full: N, quick: N) -> N:
        """``quick`` in quick mode, else ``full`` (counts, or seconds as floats)."""
        return quick if self.quick else full

    def broker(self) -> str:
        """Bootstrap servers of the broker to measure: given, else a local one started for the run."""
        if self.bootstrap:
            return self.bootstrap
        if self._local is None:
            self._local = self.start_cluster(1)
        return self._local

    def start_cluster(self, brokers: int, heap: str = "1g") -> str:
        """A private cluster that runs until :meth:`close`; its bootstrap servers."""
        return self._stack.enter_context(self.cluster(brokers, heap))

    @contextlib.contextmanager
    def cluster(self, brokers: int, heap: str = "1g") -> Iterator[str]:
        """A private cluster for the length of a ``with`` block, then stopped and its data deleted."""
        from smartcity.devbroker.local import LocalCluster

        cluster = LocalCluster(brokers=brokers, heap=heap, workdir=self.out_dir / ".kafka")
        self.log(f"starting a {brokers}-node Kafka for the benchmark")
        try:
            yield cluster.start().bootstrap_servers
        finally:
            cluster.stop(timeout=2.0)  # its data is thrown away: no need to wait for a controlled shutdown
            if cluster.state is not None:
                shutil.rmtree(cluster.state.workdir, ignore_errors=True)

    def settings(self, bootstrap: str | None = None, partitions: int = 4, replication: int = 1) -> KafkaSettings:
        """Kafka settings with a fresh topic prefix (fresh topics) on ``bootstrap`` (default: :meth:`broker`)."""
        return KafkaSettings(bootstrap_servers=bootstrap or self.broker(), topic_prefix=f"bench{uuid.uuid4().hex[:8]}",
                             partitions=partitions, replication_factor=replication)

    def scratch(self, name: str) -> Path:
        path = self.out_dir / ".scratch" / f"{name}-{uuid.uuid4().hex[:6]}"
        path.mkdir(parents=True)
        self._stack.callback(shutil.rmtree, path, ignore_errors=True)
        return path

    def close(self) -> None:
        self._stack.close()


@contextlib.contextmanager
def timed() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    began = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - began


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(result: Result, out_dir: Path, host: dict[str, Any]) -> list[Path]:
    """``<experiment>.json``, ``.md`` and ``.png`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / result.experiment
    payload = {"machine": host, **asdict(result)}
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str))
    written = [base.with_suffix(".json")]
    if result.chart is not None and result.rows:
        from smartcity.bench.charts import bar_chart

        bar_chart(result, base.with_suffix(".png"))
        written.append(base.with_suffix(".png"))
    base.with_suffix(".md").write_text(markdown(result, host, image=base.with_suffix(".png").name
                                                if len(written) > 1 else None))
    written.append(base.with_suffix(".md"))
    return written


def _fmt(v: Any) -> str:
    if v is None:  # not measured for this row
        return ""
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)\n"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    lines += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def markdown(result: Result, host: dict[str, Any], image: str | None = None, level: int = 2) -> str:
    h = "#" * level
    parts = [f"{h} {result.title}\n", f"`smartcity bench {result.experiment}` — {result.seconds:.0f} s, "
             f"{host.get('cores')} cores, {host.get('cpu')}, {host.get('when')}\n"]
    if result.headline:
        parts.append("**Headline:** " + "; ".join(f"{k}: {_fmt(v)}" for k, v in result.headline.items()) + "\n")
    parts.append(markdown_table(result.rows))
    if image:
        parts.append(f"![{result.title}]({image})\n")
    parts += [f"- {n}" for n in result.notes]
    return "\n".join(parts) + "\n"
