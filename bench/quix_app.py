"""The ``peers`` experiment's Quix Streams landing: JSON bus telemetry from a topic into Parquet files.

Runs as a script, possibly under another interpreter (Quix Streams pins older confluent-kafka and
pydantic than smartcity), so it imports nothing from smartcity. Prints one JSON line: messages seen,
seconds from the first message to the end of the run (group join excluded), seconds in all, peak memory.

    python quix_app.py BOOTSTRAP TOPIC GROUP COUNT DIRECTORY
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any


def main(bootstrap: str, topic_name: str, group: str, count: int, directory: str) -> dict[str, float]:
    from quixstreams import Application
    from quixstreams.sinks.community.file.formats.parquet import ParquetFormat
    from quixstreams.sinks.community.file.local import LocalFileSink

    began = time.perf_counter()
    first: list[float] = []
    seen = [0]

    def mark(value: dict[str, Any]) -> None:
        if not first:
            first.append(time.perf_counter())
        seen[0] += 1

    app = Application(broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
                      auto_create_topics=False, use_changelog_topics=False, loglevel=logging.WARNING)
    sdf = app.dataframe(app.topic(topic_name, value_deserializer="json"))
    sdf = sdf.update(mark)
    sdf.sink(LocalFileSink(directory=directory, format=ParquetFormat(compression="zstd")))
    app.run(count=count, timeout=60.0, collect=False)
    ended = time.perf_counter()
    return {"consumed": seen[0], "active_seconds": ended - (first[0] if first else ended),
            "seconds": ended - began, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB), as ``smartcity.bench.children.peak_rss_mb``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    bootstrap, topic, group, count, directory = sys.argv[1:6]
    print(json.dumps(main(bootstrap, topic, group, int(count), directory)), flush=True)
