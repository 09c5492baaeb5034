"""Play the simulator's devices over an edge transport: number each device's messages, address them
``<prefix>/<domain>/<device>``, send them through a :class:`ReliableSender`, optionally dropping the
link now and then, and wait until everything numbered is acknowledged."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartcity.ingest.edge.devices import ReliableSender, SendStats
from smartcity.ingest.producer import Pacer, Record
from smartcity.proto.codec import CONTENT_TYPE_HEADER, CONTENT_TYPES

if TYPE_CHECKING:
    from smartcity.simulator import SimEvent


@dataclass(frozen=True)
class LinkDrops:
    """Drop the link after every ``every`` messages, for ``for_s`` seconds."""

    every: int
    for_s: float


def numbered(events: Iterable[SimEvent]) -> Iterator[SimEvent]:
    """The events with ``device_seq`` 1, 2, 3, ... per device (domain and key), in emission order."""
    counters: dict[tuple[str, str], int] = {}
    for ev in events:
        key = (ev.domain, ev.key)
        n = counters[key] = counters.get(key, 0) + 1
        ev.message.device_seq = n  # type: ignore[attr-defined]  # bus, air and station messages have it
        yield ev


def address_topics(prefix: str) -> dict[str, str]:
    """What :func:`smartcity.simulator.to_records` calls topics: the address of each domain's devices."""
    return {d: f"{prefix}/{d}" for d in ("bus", "air", "station")}


def content_type(headers: list[tuple[str, bytes]]) -> str:
    for key, value in headers:
        if key == CONTENT_TYPE_HEADER:
            return value.decode()
    return CONTENT_TYPES["protobuf"]


def play(records: Iterable[Record], sender: ReliableSender, *, drops: LinkDrops | None = None,
         pacer: Pacer | None = None, max_messages: int | None = None, settle_s: float = 120.0,
         on_progress: Callable[[SendStats, int], None] | None = None) -> tuple[SendStats, int]:
    """Send ``records`` (topics from :func:`address_topics`); the stats and how many stayed unacknowledged."""
    import time

    began = time.monotonic()
    sender.start()
    stream = records if max_messages is None else itertools.islice(records, max_messages)
    for i, (topic, key, value, headers, event_time_ms) in enumerate(stream, 1):
        if pacer is not None:
            pacer.wait(event_time_ms, sender.service)
        sender.send(f"{topic}/{key.decode()}", value, content_type(headers))
        if drops is not None and i % drops.every == 0:
            sender.drop_link(drops.for_s)
        if on_progress is not None and i % 5_000 == 0:
            on_progress(sender.stats, event_time_ms)
    left = sender.finish(settle_s)
    sender.stats.seconds = time.monotonic() - began
    return sender.stats, left
