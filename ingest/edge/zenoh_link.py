"""Devices over Zenoh (peer to peer).

The gateway opens a peer session listening on ``[edge] zenoh_listen`` (and connecting to
``zenoh_connect``; multicast scouting is off, so peers meet only where they are told to) and
subscribes to ``<prefix>/*/*`` (``smartcity/bus/<bus_id>``, ...) through a bounded FIFO handler
channel, which it drains on its own thread: Zenoh's callbacks run on a shared thread that must never
block. When the spool is full the channel fills and, with congestion control ``BLOCK``, puts block
at the devices. Numbered messages are acknowledged by a put on ``<prefix>/ack/<domain>/<device>``
with the ``device_seq`` numbers now spooled, as ASCII ranges (``3,5-9``). A sample's encoding, when it is not Zenoh's
default, is its content type.
"""

from __future__ import annotations

import json
import time

import zenoh

from smartcity.core.errors import EdgeError
from smartcity.ingest.edge.checks import Incoming
from smartcity.ingest.edge.lane import Acks, Lane, ack_text
from smartcity.ingest.edge.receiver import GATHER_S, Receiver
from smartcity.ingest.edge.settings import EdgeSettings

CHANNEL = 10_000
DEFAULT_ENCODINGS = {"zenoh/bytes", "zenoh/string", ""}


def session_config(listen: list[str], connect: list[str]) -> zenoh.Config:
    """A peer-mode configuration on explicit endpoints, without multicast scouting."""
    config = zenoh.Config()
    config.insert_json5("mode", '"peer"')
    config.insert_json5("scouting/multicast/enabled", "false")
    config.insert_json5("listen/endpoints", json.dumps(listen))
    config.insert_json5("connect/endpoints", json.dumps(connect))
    return config


def open_session(listen: list[str], connect: list[str]) -> zenoh.Session:
    try:
        return zenoh.open(session_config(listen, connect))
    except zenoh.ZError as exc:
        raise EdgeError(f"cannot open a Zenoh session listening on {listen} (connecting to {connect}): {exc}") from None


def ack_key(prefix: str, address: str) -> str:
    """Where the acknowledgements of ``<prefix>/<domain>/<device>`` go."""
    return f"{prefix}/ack/{address[len(prefix) + 1:]}"


class ZenohReceiver(Receiver):
    transport = "zenoh"

    def __init__(self, lane: Lane, settings: EdgeSettings) -> None:
        super().__init__(lane)
        self.settings = settings
        self.session: zenoh.Session | None = None

    def open(self) -> None:
        s = self.settings
        self.session = open_session(s.zenoh_listen, s.zenoh_connect)
        self.subscriber = self.session.declare_subscriber(f"{s.prefix}/*/*", zenoh.handlers.FifoChannel(CHANNEL))

    def gather(self, limit: int, timeout_s: float) -> list[tuple[Incoming, object]]:
        out: list[tuple[Incoming, object]] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < limit:
            sample = self.subscriber.try_recv()
            if sample is None:
                if time.monotonic() >= deadline or self.stopping.is_set():
                    break
                time.sleep(0.001)
                if out:
                    deadline = min(deadline, time.monotonic() + GATHER_S)
                continue
            encoding = str(sample.encoding)
            out.append((Incoming(str(sample.key_expr), sample.payload.to_bytes(),
                                 None if encoding in DEFAULT_ENCODINGS else encoding), None))
        return out

    def acknowledge(self, acks: Acks, tokens: list[object]) -> None:
        """Acknowledgements block rather than drop under congestion (Zenoh's default for a put is to drop),
        ahead of data: a dropped acknowledgement makes the device send again, which adds to the congestion
        that dropped it, until nothing is acknowledged at all."""
        import zenoh

        assert self.session is not None
        prefix = self.settings.prefix
        for address, seqs in acks.items():
            self.session.put(ack_key(prefix, address), ack_text(seqs), congestion_control=zenoh.CongestionControl.BLOCK,
                             priority=zenoh.Priority.INTERACTIVE_HIGH)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()  # type: ignore[no-untyped-call]
            self.session = None
