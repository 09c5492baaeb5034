"""What every transport's receiving side shares: a thread that gathers what arrived into batches,
spools each batch through its lane, and acknowledges what is now safe."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

from smartcity.ingest.edge.checks import Incoming
from smartcity.ingest.edge.lane import Acks, Lane

log = logging.getLogger("smartcity.edge")

BATCH = 2_000       # messages spooled with one fsync at most
GATHER_S = 0.002    # once one message is there, how long to wait for more to share its fsync


class Receiver(ABC, threading.Thread):
    """Receives one transport's device messages into its lane until stopped."""

    transport: str

    def __init__(self, lane: Lane) -> None:
        threading.Thread.__init__(self, name=f"edge-receive-{lane.transport}", daemon=True)
        self.lane = lane
        self.stopping = threading.Event()
        self.failed: BaseException | None = None
        self.last_received = time.monotonic()  # when the last batch was spooled and acknowledged
        self.busy = False  # a batch is being spooled (perhaps waiting for room)

    def stop(self) -> None:
        self.stopping.set()

    @abstractmethod
    def open(self) -> None:
        """Bind or connect (on the caller's thread, so a bad endpoint fails the start)."""

    @abstractmethod
    def gather(self, limit: int, timeout_s: float) -> list[tuple[Incoming, object]]:
        """Up to ``limit`` messages (each with what acknowledges it), waiting up to ``timeout_s`` for the first."""

    @abstractmethod
    def acknowledge(self, acks: Acks, tokens: list[object]) -> None:
        """Tell the devices their messages are safe (``acks``: address -> device_seq numbers; ``tokens``:
        one per message)."""

    @abstractmethod
    def close(self) -> None: ...

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                got = self.gather(BATCH, 0.1)
                if not got:
                    continue
                self.busy = True
                acks = self.lane.accept([m for m, _ in got], lambda: not self.stopping.is_set())
                if acks is None:
                    return  # stopping while the spool was full: nothing of the batch was acknowledged
                self.acknowledge(acks, [t for _, t in got])
                self.last_received, self.busy = time.monotonic(), False
        except BaseException as exc:  # reported by the gateway, which stops
            self.failed = exc
            log.error("%s receiver failed: %s", self.transport, exc)
        finally:
            self.close()
