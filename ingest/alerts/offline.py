"""The alerting engine over a finished stream of simulated events, without Kafka: for the demo's
embedded path, which lands the alerts and window statistics a live ``smartcity alerts`` would publish."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from smartcity.ingest.alerts.engine import AlertEngine
from smartcity.ingest.alerts.engine_types import Output
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.decode.rows import BatchDecoder
from smartcity.simulator.events import SimEvent
from smartcity.storage.datasets import BY_KIND


def run_offline(settings: AlertSettings, events: Iterable[SimEvent], chunk: int = 5000) -> Iterator[Output]:
    """Outputs of the engine over ``events`` (event-time order), one partition per stream, the wall clock
    frozen (windows close by watermark only; idle closes and silence need a live stream)."""
    engine = AlertEngine(settings)
    decoders: dict[str, BatchDecoder] = {kind: BatchDecoder(BY_KIND[kind]) for kind in settings.streams}
    pending: dict[str, list[bytes]] = {kind: [] for kind in settings.streams}

    def flush(kind: str) -> list[Output]:
        values, pending[kind] = pending[kind], []
        if not values:
            return []
        table = decoders[kind].decode(values).table
        return engine.process(kind, table, [0] * table.num_rows, now=0.0) + engine.advance(now=0.0)

    for event in events:
        batch = pending.get(event.domain)
        if batch is None:
            continue
        batch.append(event.message.SerializeToString())
        if len(batch) >= chunk:
            yield from flush(event.domain)
    for kind in pending:
        yield from flush(kind)
