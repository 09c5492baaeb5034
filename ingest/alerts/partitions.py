"""The input partitions one consumer owns, per stream: assignment, event clocks, and their state in changelog form."""

from __future__ import annotations

import json

from smartcity.ingest.alerts.engine_types import STREAMS, PartitionState, StreamState
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.alerts.state import Agg, AirAgg, BusAgg, dump_entity, dumps, load_entity
from smartcity.ingest.alerts.windows import KeyedWindows, StreamClock


class StreamPartitions:
    """The state of every assigned partition of every stream, and each stream's clock (its watermark)."""

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings
        self.streams: dict[str, StreamState] = {
            kind: StreamState(kind, StreamClock(settings.idle_timeout)) for kind in STREAMS
        }

    def _new_windows(self, kind: str) -> KeyedWindows[Agg] | None:
        s = self.settings
        if kind == "bus":
            return KeyedWindows(s.window_ms, s.grace_ms, BusAgg)
        if kind == "air":
            return KeyedWindows(s.air_bucket_ms, s.grace_ms, AirAgg)
        return None

    def assign(self, kind: str, partition: int, now: float) -> PartitionState:
        """Start tracking a partition with empty state (``load_partition`` restores one)."""
        stream = self.streams[kind]
        part = stream.parts[partition] = PartitionState(kind, partition, self._new_windows(kind))
        stream.clock.assign(partition, None, now)
        return part

    def revoke(self, kind: str, partition: int) -> None:
        stream = self.streams[kind]
        stream.parts.pop(partition, None)
        stream.clock.revoke(partition)

    def assigned(self) -> list[tuple[str, int]]:
        return [(kind, p) for kind, stream in self.streams.items() for p in sorted(stream.parts)]

    def hold(self, kind: str, partition: int, now: float) -> None:
        """The partition has messages waiting in its log: its stream's clock waits for them."""
        self.streams[kind].clock.hold(partition, now)

    def _part(self, kind: str, partition: int, now: float) -> PartitionState:
        part = self.streams[kind].parts.get(partition)
        return part if part is not None else self.assign(kind, partition, now)

    def _observe(self, kind: str, maxima: dict[int, int], now: float) -> None:
        clock = self.streams[kind].clock
        for p, t in maxima.items():
            if clock.observe(p, t, now):
                self.streams[kind].parts[p].meta_dirty = True

    # -- state for the changelog ----------------------------------------------------------------------

    def dump_dirty(self) -> list[tuple[str, int, str, bytes | None]]:
        """``(kind, partition, entity, json)`` of every entity changed since the last call (``None``: delete
        it; entity ``""`` is the partition's clock), forgetting entities with nothing left to keep."""
        out: list[tuple[str, int, str, bytes | None]] = []
        for kind, stream in self.streams.items():
            for p, part in stream.parts.items():
                if part.meta_dirty:
                    clock = stream.clock.partitions.get(p)
                    meta = {"wm": clock.watermark if clock else None,
                            "ct": part.windows.closed_through if part.windows else None}
                    out.append((kind, p, "", dumps(meta)))
                    part.meta_dirty = False
                for key in part.dirty:
                    ent = part.entities.get(key)
                    data = dump_entity(part.windows, key, ent) if ent is not None else None
                    if data is None:
                        part.entities.pop(key, None)
                        if part.windows is not None:
                            part.windows.drop(key)
                    out.append((kind, p, key, None if data is None else dumps(data)))
                part.dirty.clear()
        return out

    def load_partition(self, kind: str, partition: int, stored: dict[str, bytes], now: float) -> None:
        """Rebuild a partition from its changelog values (device -> JSON, ``""`` the partition's clock)."""
        part = self.assign(kind, partition, now)
        part.meta_dirty = False
        meta = json.loads(stored.get("", b"{}"))
        if meta.get("wm") is not None:
            self.streams[kind].clock.assign(partition, int(meta["wm"]), now)
        if part.windows is not None and meta.get("ct") is not None:
            part.windows.closed_through = int(meta["ct"])
        for key, text in stored.items():
            if key:
                part.entities[key] = load_entity(kind, text, part.windows, key)

    def open_windows(self) -> int:
        return sum(part.windows.open_windows for s in self.streams.values() for part in s.parts.values()
                   if part.windows is not None)

    def watermarks(self, now: float) -> dict[str, int | None]:
        return {kind: s.clock.watermark(now) for kind, s in self.streams.items() if s.parts}
