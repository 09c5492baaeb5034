"""Benchmark steps run in child processes, for clean memory figures and real parallelism.

The parent starts ``python -m smartcity.bench.children TASK JSON`` (or any other command printing one JSON
line last) and samples the child's resident memory while it runs. Tasks:

- ``sink``: one sink group member landing topics until caught up.
- ``bare``: a bare read of a topic (``smartcity.bench.sink.bare_read``), optionally with the sink's
  garbage-collector setting.
- ``mart``: one mart computed by ``polars`` (``smartcity.analysis.marts``) or ``pandas``
  (``smartcity.bench.baseline_pandas``),
  written to a Parquet file for the parent to compare.
- ``archive_cycle``: one hourly run of a mart flow on a lake (``smartcity.bench.archive``).
"""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    import pandas as pd

    from smartcity.storage.settings import LakeFormat


@dataclass(frozen=True)
class ChildRun:
    answer: dict[str, Any]
    seconds: float
    peak_rss_mb: float


def _tree_rss(proc: psutil.Process) -> float:
    """Resident memory (MB) of ``proc`` and its children; 0 once it is gone."""
    total = 0
    with contextlib.suppress(psutil.Error):
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    return total / 2**20


def run_child(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
              timeout: float = 900, interval: float = 0.05) -> ChildRun:
    """Run ``cmd`` and sample its memory every ``interval`` s; its last stdout line is its JSON answer.

    The peak is the larger of the sampled RSS and the peak the child reports (``peak_rss_mb``), so a short
    spike between two samples is not missed.
    """
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def watch() -> None:
        try:
            p = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(p))
            time.sleep(interval)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"{' '.join(cmd[:4])} ... did not finish within {timeout:.0f} s") from None
    watcher.join()
    seconds = time.perf_counter() - began
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = " | ".join((err or out).strip().splitlines()[-3:]) or "no output"
        raise RuntimeError(f"child {' '.join(cmd[:4])} ... failed (exit {proc.returncode}): {tail}")
    answer = json.loads(lines[-1])
    return ChildRun(answer, seconds, max(peak[0], float(answer.get("peak_rss_mb", 0.0))))


def child_command(task: str, **args: Any) -> list[str]:
    return [sys.executable, "-m", "smartcity.bench.children", task, json.dumps(args, default=str)]


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): ``VmHWM``, which starts afresh at exec, unlike
    ``getrusage``'s ``ru_maxrss`` that a child keeps from the parent it was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sink(bootstrap: str, prefix: str, group: str, lake: str, fmt: LakeFormat = "parquet",
          batch_rows: int | None = None, start_at: float | None = None) -> dict[str, Any]:
    from smartcity.ingest.decode.rows import BatchDecoder
    from smartcity.ingest.kafka.settings import KafkaSettings
    from smartcity.ingest.sink.daemon import Sink
    from smartcity.ingest.sink.settings import IngestSettings
    from smartcity.storage.settings import LakeSettings

    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix)
    # landing as live data: the simulated day lies in the past, which would make the sink merge its hours
    # as a backfill's
    ingest = IngestSettings(topics=["bus"], group=group, compact_closed_hours_at=0)
    if batch_rows is not None:
        ingest.batch_max_rows = batch_rows
    sink = Sink(kafka, LakeSettings(path=Path(lake), format=fmt), ingest, until_caught_up=True)
    if start_at is not None:  # members of one group join together, so the first does not take every partition
        for decoder in sink.decoders.values():
            if isinstance(decoder, BatchDecoder):  # the GTFS-Realtime decoder has nothing to warm up
                decoder.warm_up()
        time.sleep(max(0.0, start_at - time.time()))
    began = time.monotonic()
    try:
        stats = sink.run()
    except Exception as exc:
        # A member closing while another leaves can be handed the other's partitions during close(); the
        # sink's assignment callback then fails to read committed offsets and close() raises, after every
        # batch has been landed and committed. Count the run; the parent checks the rows in the lake.
        landing_failed = sink.writer is not None and sink.writer.error is not None
        if "Failed to get committed offsets" not in str(exc) or landing_failed:
            raise
        stats = sink.stats
        ended = time.monotonic()
        stats.seconds, stats.active_seconds = ended - began, ended - (sink._first_message_at or ended)
    return {"consumed": stats.consumed, "rows": stats.rows, "files": stats.files,
            "active_seconds": stats.active_seconds, "seconds": stats.seconds, "end": time.time(),
            "peak_rss_mb": peak_rss_mb()}


def _bare(bootstrap: str, topic: str, group: str, n: int, fewer_gc: bool = False) -> dict[str, Any]:
    from smartcity.bench.sink import bare_read
    from smartcity.core.gc_pause import fewer_collections
    from smartcity.ingest.kafka.settings import KafkaSettings

    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    with fewer_collections() if fewer_gc else contextlib.nullcontext():
        rate = bare_read(kafka, topic, n, group)
    return {"consumed": n, "active_seconds": n / rate, "peak_rss_mb": peak_rss_mb()}


def _mart(engine: str, mart: str, lake: str, day: str, out: str) -> dict[str, Any]:
    import polars as pl

    if engine == "pandas":
        from smartcity.analysis.marts import MARTS
        from smartcity.bench import baseline_pandas

        compute: Callable[[str, Path, str], pd.DataFrame | pl.DataFrame] = baseline_pandas.compute
    else:
        from smartcity.analysis.marts import MARTS, compute_mart

        compute = compute_mart
    before = psutil.Process().memory_info().rss / 2**20
    began = time.perf_counter()
    computed = compute(mart, Path(lake), day)
    seconds = time.perf_counter() - began
    peak = peak_rss_mb()
    schema = MARTS[mart].schema
    if isinstance(computed, pl.DataFrame):  # the marts
        frame = computed
    else:  # the pandas baseline
        frame = pl.from_pandas(computed[list(schema)]).select([pl.col(c).cast(t) for c, t in schema.items()])
    frame.write_parquet(out)
    return {"seconds": seconds, "rows": frame.height, "rss_before_mb": before, "peak_rss_mb": peak}


def _archive_cycle(flow: str, lake: str) -> dict[str, Any]:
    from smartcity.bench.archive import cycle

    return cycle(flow, lake) | {"peak_rss_mb": peak_rss_mb()}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {"sink": _sink, "bare": _bare, "mart": _mart,
                                                  "archive_cycle": _archive_cycle}

if __name__ == "__main__":
    task, raw = sys.argv[1], sys.argv[2]
    print(json.dumps(TASKS[task](**json.loads(raw))), flush=True)
