"""Many browsers at once, in one process: ``python -m smartcity.bench.live_clients JSON``.

Opens ``clients`` Server-Sent Event streams to a live server and records, for every update each client
receives, how long after the Kafka timestamp of its newest and of its oldest message it arrived. After
``seconds`` it opens one *stalled* client (a socket with a tiny receive buffer that never reads) and
records ``seconds`` more, then closes it and records ``seconds`` again (the same conditions as the first
phase, later: a control for drift). Prints one JSON line: the latencies of each phase and per-client
event counts.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import time
from typing import Any

_TAIL = re.compile(rb'"first_ms":(\d+),"produced_ms":(\d+)}\s*$')
REQUEST = b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"


class Phase:
    def __init__(self) -> None:
        self.name = "without a stalled client"
        self.samples: dict[str, list[float]] = {}

    def record(self, newest_ms: int, oldest_ms: int) -> None:
        now = time.time() * 1000
        bucket = self.samples.setdefault(self.name, [])
        bucket.append(now - newest_ms)
        self.samples.setdefault(self.name + " (oldest)", []).append(now - oldest_ms)


async def client(host: str, port: int, phase: Phase, counts: list[int], index: int, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 24)
    writer.write(REQUEST)
    await writer.drain()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"data: ") and (match := _TAIL.search(line)) and int(match.group(2)):
                counts[index] += 1
                phase.record(int(match.group(2)), int(match.group(1)))
    finally:
        writer.close()


def stalled(host: str, port: int) -> socket.socket:
    """A client that asks for the stream and never reads it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    sock.sendall(REQUEST)
    return sock


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    host, port, n, seconds = spec["host"], spec["port"], spec["clients"], spec["seconds"]
    phase, counts, stop = Phase(), [0] * n, asyncio.Event()
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(client(host, port, phase, counts, i, stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.sleep(spec.get("warmup", 3.0))
    phase.samples.clear()
    await asyncio.sleep(seconds)
    slow = stalled(host, port)
    phase.name = "with a stalled client"
    await asyncio.sleep(seconds)
    slow.close()
    phase.name = "after the stalled client left"
    await asyncio.sleep(seconds)
    stop.set()
    alive = sum(not t.done() for t in tasks)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"samples": phase.samples, "events_min": min(counts), "events_max": max(counts), "connected": alive}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
