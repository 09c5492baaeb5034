"""What the daemons read from librdkafka's statistics (``statistics.interval.ms`` / ``stats_cb``)."""

from __future__ import annotations

import json
from collections.abc import Iterator


def consumer_lags(stats_json: str) -> Iterator[tuple[str, str, int]]:
    """(topic, partition, messages behind the high watermark) for every assigned partition with a known lag."""
    try:
        stats = json.loads(stats_json)
    except ValueError:
        return
    for topic, t in stats.get("topics", {}).items():
        for pid, part in t.get("partitions", {}).items():
            lag = part.get("consumer_lag", -1)
            if pid != "-1" and lag is not None and lag >= 0:
                yield topic, pid, int(lag)
