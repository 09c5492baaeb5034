"""Compaction while a backfill lands: hours that ended long ago are merged as soon as they fill up.

A live stream lands each hour's files while the hour runs; the nightly ``maintenance`` flow merges
them once the hour is closed. A backfill (an archive replayed through Kafka) lands into hours that
closed long ago, and every batch of it adds one file to each hour it spans: 100k readings in
batches of 1,000 left 74k files. So after each batch the writer looks at the closed hours it just
landed into, and merges (``smartcity.storage.compact.compact_hour``) those whose folder holds
``files_at`` files or more. Compaction is atomic for readers and checks, under the lake's lock, that
nothing landed in the hour meanwhile, so it can run beside other sink members.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartcity.storage.commit import LandedFile
from smartcity.storage.compact import HourResult, compact_hour
from smartcity.storage.layout import hour_end

log = logging.getLogger("smartcity.ingest")

CLOSED_AFTER = timedelta(hours=2)  # as the maintenance flow's default: an hour this long over is closed


@dataclass
class BackfillCompactor:
    """Merges closed hours that reached ``files_at`` files (0: never)."""

    root: Path
    files_at: int
    closed_after: timedelta = CLOSED_AFTER
    hours_compacted: int = 0

    def after_batch(self, landed: Iterable[LandedFile], now: datetime | None = None) -> list[HourResult]:
        """Compact the closed, full hours among those ``landed`` files went into."""
        if self.files_at <= 0:
            return []
        cutoff = (now or datetime.now(UTC)) - self.closed_after
        hours = {(f.dataset, f.path.parent) for f in landed if hour_end(f.date, f.hour) <= cutoff}
        out = []
        for dataset, folder in sorted(hours):
            with os.scandir(folder) as entries:
                files = sum(1 for e in entries if e.is_file())
            if files < self.files_at:
                continue
            result = compact_hour(self.root, dataset, folder)
            if result is not None:
                self.hours_compacted += 1
                out.append(result)
                log.info("compacted %s %s hour %02d while backfilling: %d files into %d", dataset, result.date,
                         result.hour, result.files_before, result.files_after)
        return out
