"""Fan-out of live updates to any number of browsers over Server-Sent Events.

The feed thread encodes each update once; the hub (on the event loop) numbers it, keeps it in a ring
for reconnecting browsers and offers the same bytes to every client's bounded queue. Offering never
waits: a client that cannot keep up loses its *oldest* queued updates, is told so with a ``dropped``
event and gets the whole picture again (a ``snapshot``), so a slow tablet never stalls the consumer
or anyone else.

Event ids are ``<epoch>-<seq>``; ``epoch`` changes with every server start. A browser reconnecting
with ``Last-Event-ID`` gets the updates it missed from the ring, or a snapshot when they are gone
(or when the server restarted since).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from smartcity.live.state import KINDS, public

Record = dict[str, Any]


def frame(event: str, data: bytes, event_id: str | None = None) -> bytes:
    """One SSE frame; ``data`` is one line of JSON (orjson never writes a newline)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + data + b"\n\n"


def encode_update(payload: Record) -> bytes:
    """An update payload as JSON, without the store's private fields (done on the feed thread)."""
    slim = {key: [public(r) for r in value] if isinstance(value, list) and key != "closed" else value
            for key, value in payload.items()}
    return orjson.dumps(slim)


@dataclass(eq=False)
class Client:
    """One browser's bounded queue of frames."""

    size: int
    queue: deque[bytes] = field(default_factory=deque)
    dropped: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, data: bytes) -> bool:
        """Queue a frame; True when the oldest had to go to make room."""
        full = len(self.queue) >= self.size
        if full:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append(data)
        self.wake.set()
        return full


@dataclass
class Hub:
    """Numbered updates, the picture they add up to, and the clients listening (event-loop thread only)."""

    client_queue: int = 64
    history: int = 2048
    epoch: str = field(default_factory=lambda: format(time.time_ns() // 1_000_000, "x"))
    seq: int = 0
    ring: deque[tuple[int, bytes]] = field(default_factory=deque)
    clients: set[Client] = field(default_factory=set)
    picture: dict[str, dict[str, Record]] = field(default_factory=lambda: {kind: {} for kind in KINDS})
    _snapshot: bytes | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"published": 0, "dropped": 0, "snapshots": 0})

    def event_id(self, seq: int | None = None) -> str:
        return f"{self.epoch}-{self.seq if seq is None else seq}"

    def load(self, picture: Record) -> None:
        """Start from a stored picture (a snapshot-shaped payload)."""
        self._merge(picture)

    def publish(self, payload: Record, data: bytes) -> None:
        """Number an update, remember it and offer it to every client."""
        self.seq += 1
        self._merge(payload)
        message = frame("update", data, self.event_id())
        self.ring.append((self.seq, message))
        while len(self.ring) > self.history:
            self.ring.popleft()
        self.stats["published"] += 1
        for client in self.clients:
            if client.offer(message):
                self.stats["dropped"] += 1

    def _merge(self, payload: Record) -> None:
        for kind in KINDS:
            key = f"{kind}s" if kind != "fleet" else kind
            for record in payload.get(key, ()):
                self.picture[kind][record["id"]] = public(record)
        for alert_id in payload.get("closed", ()):
            self.picture["alert"].pop(alert_id, None)
        self._snapshot = None

    def snapshot(self) -> bytes:
        """The whole picture as one frame, at the current event id (built once per update)."""
        if self._snapshot is None:
            body: Record = {f"{kind}s" if kind != "fleet" else kind: list(records.values())
                            for kind, records in self.picture.items()}
            body["closed"] = []
            self._snapshot = frame("snapshot", orjson.dumps(body), self.event_id())
        self.stats["snapshots"] += 1
        return self._snapshot

    def missed(self, last_event_id: str | None) -> list[bytes] | None:
        """The updates after ``last_event_id`` when the ring still has all of them, else None."""
        if not last_event_id:
            return None
        epoch, _, seq_text = last_event_id.strip().rpartition("-")
        if epoch != self.epoch or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if seq > self.seq or (seq < self.seq and (not self.ring or self.ring[0][0] > seq + 1)):
            return None
        return [message for n, message in self.ring if n > seq]

    def subscribe(self, last_event_id: str | None = None) -> Client:
        """A new client, primed with what it missed or with the whole picture."""
        client = Client(self.client_queue)
        missed = self.missed(last_event_id)
        for message in missed if missed is not None else [self.snapshot()]:
            client.queue.append(message)  # may exceed the bound once: the catch-up is sent whole
        self.clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self.clients.discard(client)

    async def stream(self, client: Client, keepalive_s: float) -> AsyncIterator[bytes]:
        """The frames of one client until it goes away (the server cancels the generator)."""
        yield b"retry: 2000\n\n"
        try:
            while True:
                if client.dropped:
                    dropped, client.dropped = client.dropped, 0
                    client.queue.clear()  # the snapshot holds everything they carried
                    yield frame("dropped", orjson.dumps({"dropped": dropped}))
                    yield self.snapshot()
                    continue
                if client.queue:
                    yield client.queue.popleft()
                    continue
                client.wake.clear()
                try:
                    await asyncio.wait_for(client.wake.wait(), keepalive_s)
                except TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            self.unsubscribe(client)
