"""``peers``: the same landing (JSON bus telemetry from one topic into Parquet files) done by smartcity's sink
and by a Quix Streams application with ``LocalFileSink``, each in its own process on the same broker:
throughput and peak memory."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet as pq

from smartcity.bench.children import ChildRun, child_command, run_child
from smartcity.bench.core import BenchContext, Chart, Result
from smartcity.bench.steps import backlog
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.settings import IngestSettings

QUIX_VERSION = "3.28.1"
QUIX_APP = Path(__file__).with_name("quix_app.py")


def quix_python(ctx: BenchContext) -> tuple[str, str, bool]:
    """An interpreter with Quix Streams, its version and whether it is this one.

    Quix Streams pins confluent-kafka and pydantic older than smartcity's, so unless this interpreter
    already has it, it goes into a virtualenv of its own under the benchmark's scratch folder, made once
    and kept for later runs.
    """
    try:
        return sys.executable, importlib.metadata.version("quixstreams"), True
    except importlib.metadata.PackageNotFoundError:
        pass
    venv = ctx.out_dir / ".scratch" / f"quixstreams-{QUIX_VERSION}"
    python = venv / "bin" / "python"
    ready = venv / ".ready"
    if not ready.exists():
        ctx.log(f"peers: installing Quix Streams {QUIX_VERSION} into {venv}")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                  f"quixstreams[parquet]=={QUIX_VERSION}", f"pyarrow=={pyarrow.__version__}"],
                                 capture_output=True, text=True, timeout=900)
        if install.returncode != 0:
            tail = " | ".join(install.stderr.strip().splitlines()[-2:])
            raise RuntimeError(f"installing quixstreams {QUIX_VERSION} failed: {tail}")
        ready.write_text(QUIX_VERSION)
    return str(python), QUIX_VERSION, False


def parquet_rows(folder: Path) -> tuple[int, int]:
    """Rows and files of the Parquet files under ``folder``."""
    files = list(folder.rglob("*.parquet"))
    return sum(pq.read_metadata(f).num_rows for f in files), len(files)


def quix_landing(ctx: BenchContext, python: str, settings: KafkaSettings, topic: str, n: int
                 ) -> tuple[ChildRun, int, int]:
    """Quix Streams (under ``python``) landing ``n`` JSON messages of ``topic`` into Parquet files: its run,
    and the rows and files it wrote."""
    cwd = ctx.scratch("quix")  # LocalFileSink wants a relative directory
    quix = run_child([python, str(QUIX_APP), settings.bootstrap_servers or "", topic,
                      f"{settings.topic_prefix}-quix", str(n), "quix_out"], cwd=cwd)
    rows, files = parquet_rows(cwd / "quix_out")
    return quix, rows, files


def run(ctx: BenchContext) -> Result:
    n = ctx.size(1_000_000, 20_000)
    python, version, shared = quix_python(ctx)
    ctx.log(f"peers: producing {n:,} JSON bus telemetry records")
    topic = backlog(ctx, n, "json")
    settings = topic.settings

    ctx.log("peers: smartcity ingest")
    lake = ctx.scratch("lake")
    ours = run_child(child_command("sink", bootstrap=settings.bootstrap_servers, prefix=settings.topic_prefix,
                                   group=f"{settings.topic_prefix}-smartcity", lake=str(lake)))
    ctx.log(f"peers: Quix Streams {version}")
    quix, quix_rows, quix_files = quix_landing(ctx, python, settings, topic.topic, n)
    our_rows, our_files = parquet_rows(lake)
    if quix_rows != n or our_rows != n:
        raise RuntimeError(f"expected {n:,} rows from each, got smartcity {our_rows:,}, Quix Streams {quix_rows:,}")

    def row(tool: str, child: ChildRun, files: int) -> dict[str, object]:
        answer = child.answer
        return {"tool": tool, "msgs/s": answer["consumed"] / answer["active_seconds"],
                "peak RSS MB": round(child.peak_rss_mb), "process s": round(child.seconds, 1),
                "rows": answer["consumed"], "files": files}

    rows = [row("smartcity ingest", ours, our_files), row(f"Quix Streams {version}", quix, quix_files)]
    speed = {"smartcity": ours.answer["consumed"] / ours.answer["active_seconds"],
             "quix": quix.answer["consumed"] / quix.answer["active_seconds"]}
    headline = {"smartcity/Quix msgs/s": round(speed["smartcity"] / speed["quix"], 2),
                "Quix/smartcity peak RSS": round(quix.peak_rss_mb / ours.peak_rss_mb, 2),
                "smartcity msgs/s": round(speed["smartcity"]), "Quix Streams msgs/s": round(speed["quix"])}
    batch = IngestSettings().batch_max_rows
    where = "this interpreter" if shared else "a virtualenv of its own: it pins confluent-kafka < 2.13"
    return Result("peers", "smartcity ingest vs Quix Streams, JSON to Parquet", rows, headline,
                  Chart(x="tool", y="msgs/s", ylabel="messages per second landed"),
                  notes=[f"{n:,} JSON bus telemetry records on 4 partitions; each tool runs in its own process, "
                         "reads the topic from the start and exits when all is landed.",
                         f"smartcity: the sink with its default settings (batches of {batch:,} rows per partition, "
                         "Parquet zstd, hourly partitions, exactly-once offsets in the lake). Quix Streams "
                         f"{version} ({where}): an Application with the JSON deserializer and "
                         "`LocalFileSink(format=ParquetFormat(compression='zstd'))`, defaults otherwise (a "
                         "checkpoint every 5 s writes one file per partition).",
                         "msgs/s: from the first message to the end of the run (process start-up and group join "
                         "excluded). Peak RSS: the process, sampled every 50 ms with psutil, or its own "
                         "high-water mark (VmHWM) if higher; imports (and smartcity's compiled decoder) included."])
