"""Devices over ZeroMQ.

The gateway binds a PULL socket (reliable fan-in: a sender blocks at its high-water mark instead of
dropping, which is how a full spool holds devices back), optionally a SUB socket for best-effort
publishers, and a PUB socket on which it acknowledges numbered messages once they are spooled.
A message is three frames: address (``<prefix>/<domain>/<device>``), content type (may be empty) and
payload. An acknowledgement is two: the address and the ``device_seq`` numbers of it now safe, as
ASCII ranges (``3,5-9``). ZeroMQ itself never says whether a message arrived, so devices keep what is unacknowledged and
send it again (:mod:`smartcity.ingest.edge.devices`).
"""

from __future__ import annotations

import time

import zmq

from smartcity.core.errors import EdgeError
from smartcity.ingest.edge.checks import Incoming
from smartcity.ingest.edge.lane import Acks, Lane, ack_text
from smartcity.ingest.edge.receiver import GATHER_S, Receiver
from smartcity.ingest.edge.settings import EdgeSettings

HWM = 10_000


def _bind(socket: zmq.Socket, endpoint: str, what: str) -> None:  # type: ignore[type-arg]
    try:
        socket.bind(endpoint)
    except zmq.ZMQError as exc:
        raise EdgeError(f"cannot bind the ZeroMQ {what} endpoint {endpoint!r}: {exc} (set [edge] zmq_{what} to a "
                        "free address)") from None


def incoming(frames: list[bytes]) -> Incoming:
    """A message from its frames; anything but three frames still arrives, to be dead-lettered."""
    if len(frames) == 3:
        address, content_type, payload = frames
        return Incoming(address.decode("utf-8", "replace"), payload, content_type.decode("ascii", "replace") or None)
    return Incoming(frames[0].decode("utf-8", "replace") if len(frames) > 1 else "", frames[-1] if frames else b"")


class ZmqReceiver(Receiver):
    transport = "zmq"

    def __init__(self, lane: Lane, settings: EdgeSettings) -> None:
        super().__init__(lane)
        self.settings = settings
        self.context = zmq.Context()
        self.sockets: list[zmq.Socket] = []  # type: ignore[type-arg]
        self.poller = zmq.Poller()

    def open(self) -> None:
        s = self.settings
        pull = self.context.socket(zmq.PULL)
        pull.setsockopt(zmq.RCVHWM, HWM)
        pull.setsockopt(zmq.LINGER, 0)
        _bind(pull, s.zmq_pull, "pull")
        self.sockets.append(pull)
        if s.zmq_sub:
            sub = self.context.socket(zmq.SUB)
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.setsockopt(zmq.LINGER, 0)
            _bind(sub, s.zmq_sub, "sub")
            self.sockets.append(sub)
        self.acks = self.context.socket(zmq.PUB)
        self.acks.setsockopt(zmq.SNDHWM, 0)  # never drop an acknowledgement (a device would send again)
        self.acks.setsockopt(zmq.LINGER, 0)
        _bind(self.acks, s.zmq_acks, "acks")
        for socket in self.sockets:
            self.poller.register(socket, zmq.POLLIN)

    def gather(self, limit: int, timeout_s: float) -> list[tuple[Incoming, object]]:
        out: list[tuple[Incoming, object]] = []
        wait_ms = int(timeout_s * 1000)
        deadline: float | None = None  # once something arrived: when the batch closes, however busy the stream
        while len(out) < limit:
            if deadline is not None:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            ready = dict(self.poller.poll(wait_ms))
            if not ready:
                break
            for socket in ready:
                while len(out) < limit:
                    try:
                        frames = socket.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    out.append((incoming(frames), None))
            if deadline is None:
                deadline = time.monotonic() + GATHER_S
            elif time.monotonic() >= deadline:
                break
        return out

    def acknowledge(self, acks: Acks, tokens: list[object]) -> None:
        for address, seqs in acks.items():
            self.acks.send_multipart([address.encode(), ack_text(seqs)])

    def close(self) -> None:
        for socket in [*self.sockets, getattr(self, "acks", None)]:
            if socket is not None:
                socket.close(0)
        self.context.term()
