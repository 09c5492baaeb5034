"""What the alerts daemon counts and reports: its run statistics, the alerts and windows of each
committed transaction, and the engine's late events (logged at most every few seconds), watermarks,
open windows and idle closes, as Prometheus metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from smartcity.ingest.alerts.engine import AlertEngine
from smartcity.ingest.alerts.metrics import AlertMetrics
from smartcity.proto import Alert
from smartcity.proto.codec import enum_names

log = logging.getLogger("smartcity.alerts")

LATE_LOG_EVERY_S = 5.0
_STATES = enum_names(Alert.DESCRIPTOR.fields_by_name["state"])
_KINDS = enum_names(Alert.DESCRIPTOR.fields_by_name["kind"])


@dataclass
class AlertStats:
    consumed: int = 0
    invalid: int = 0
    alerts: int = 0
    windows: int = 0
    transactions: int = 0
    aborts: int = 0
    restored_partitions: int = 0
    seconds: float = 0.0
    by_state: dict[str, int] = field(default_factory=dict)


def count_committed(stats: AlertStats, metrics: AlertMetrics, alerts: list[Alert], windows: int,
                    changelog_records: int, seconds: float) -> None:
    """Count one committed transaction."""
    stats.transactions += 1
    metrics.transactions.inc()
    metrics.changelog_records.inc(changelog_records)
    metrics.commit_seconds.observe(seconds)
    metrics.last_commit.set_to_current_time()
    stats.windows += windows
    metrics.windows.inc(windows)
    for alert in alerts:
        state = _STATES[alert.state]
        stats.alerts += 1
        stats.by_state[state] = stats.by_state.get(state, 0) + 1
        metrics.alerts.labels(_KINDS[alert.kind], state).inc()


class EngineReporter:
    def __init__(self, engine: AlertEngine, metrics: AlertMetrics, grace_s: float) -> None:
        self.engine, self.metrics, self.grace_s = engine, metrics, grace_s
        self._late_seen = dict(engine.stats.late)
        self._logged_at = 0.0

    def report(self, now: float) -> None:
        if self._logged_at and now - self._logged_at < LATE_LOG_EVERY_S:
            return
        engine, metrics = self.engine, self.metrics
        for kind, n in engine.stats.late.items():
            new = n - self._late_seen[kind]
            if new:
                metrics.late.labels(kind).inc(new)
                log.warning("%d late %s events dropped (window closed, beyond the %s grace); latest: %s",
                            new, kind, f"{self.grace_s:g}s", engine.stats.last_late.get(kind, "?"))
                self._late_seen[kind] = n
        self._logged_at = now
        for kind, mark in engine.watermarks(now).items():
            if mark is not None:
                metrics.watermark.labels(kind).set(mark / 1000)
        metrics.open_windows.set(engine.open_windows())
        if engine.stats.idle_closes:
            metrics.idle_closes.inc(engine.stats.idle_closes)
            engine.stats.idle_closes = 0
