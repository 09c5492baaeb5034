"""The device side of the edge transports: links that send device messages to the gateway, and a
sender that keeps what is unacknowledged and sends it again (what a real device's firmware does).

A link speaks one transport (:class:`ZmqLink`, :class:`ZenohLink`, :class:`MqttLink`). The
:class:`ReliableSender` on top numbers nothing itself (the messages carry their ``device_seq``); it
remembers each numbered message until the gateway acknowledges that very number (for MQTT, the
broker's PUBACK), sends a message again when it stayed unacknowledged for ``resend_after_s`` (and
everything unacknowledged, in order, after the link was dropped), and stops taking new messages
while ``max_unacked`` are outstanding (back-pressure from a full spool reaches the device this way
too). Acknowledgements name each number: one for a later message says nothing about an earlier one,
which may have been lost with a gateway that died.
"""

from __future__ import annotations

import logging
import queue
import time
import uuid
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smartcity.ingest.edge.checks import Incoming, check
from smartcity.ingest.edge.lane import ack_numbers

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

log = logging.getLogger("smartcity.edge.devices")

RESEND_BATCH = 500


class Link(ABC):
    transport: str
    resends = True  # False: the transport itself sends again what the other side did not acknowledge
    max_unacked: int | None = None  # the most messages the transport can keep outstanding (None: no limit)

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def send(self, address: str, value: bytes, content_type: str, seq: int | None) -> None:
        """Send one message; ``seq`` is its device_seq when the sender waits for its acknowledgement."""

    @abstractmethod
    def acks(self) -> list[tuple[str, int]]:
        """Acknowledgements received since the last call: (address, device_seq), one per message."""


class ZmqLink(Link):
    transport = "zmq"

    def __init__(self, pull: str, acks: str) -> None:
        self.pull, self.ack_endpoint = pull, acks

    def connect(self) -> None:
        import zmq

        self.context = zmq.Context()
        self.push = self.context.socket(zmq.PUSH)
        self.push.setsockopt(zmq.SNDHWM, 10_000)
        self.push.setsockopt(zmq.LINGER, 0)
        self.push.setsockopt(zmq.IMMEDIATE, 1)  # queue only to a live connection: no gaps behind a lost one
        self.push.connect(self.pull)
        self.sub = self.context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.setsockopt(zmq.RCVHWM, 0)  # acknowledgements are small; dropping them causes resend storms
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(self.ack_endpoint)

    def close(self) -> None:
        self.push.close(0)
        self.sub.close(0)
        self.context.term()

    def send(self, address: str, value: bytes, content_type: str, seq: int | None) -> None:
        self.push.send_multipart([address.encode(), content_type.encode(), value])

    def acks(self) -> list[tuple[str, int]]:
        import zmq

        out: list[tuple[str, int]] = []
        while True:
            try:
                address, seqs = self.sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return out
            out += [(address.decode(), seq) for seq in ack_numbers(seqs)]


class ZenohLink(Link):
    transport = "zenoh"

    def __init__(self, connect: list[str], prefix: str = "smartcity") -> None:
        self.endpoints, self.prefix = connect, prefix

    def connect(self) -> None:
        import zenoh

        from smartcity.ingest.edge.zenoh_link import open_session

        self.session = open_session([], self.endpoints)
        self.subscriber = self.session.declare_subscriber(f"{self.prefix}/ack/**", zenoh.handlers.FifoChannel(100_000))
        self._block = zenoh.CongestionControl.BLOCK
        self._encodings: dict[str, zenoh.Encoding] = {}

    def close(self) -> None:
        self.session.close()  # type: ignore[no-untyped-call]

    def send(self, address: str, value: bytes, content_type: str, seq: int | None) -> None:
        import zenoh

        encoding = self._encodings.get(content_type)
        if encoding is None:
            encoding = self._encodings[content_type] = zenoh.Encoding(content_type)
        self.session.put(address, value, encoding=encoding, congestion_control=self._block)

    def acks(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        head = f"{self.prefix}/ack/"
        while (sample := self.subscriber.try_recv()) is not None:
            address = f"{self.prefix}/{str(sample.key_expr)[len(head):]}"
            out += [(address, seq) for seq in ack_numbers(sample.payload.to_bytes())]
        return out


class MqttLink(Link):
    """QoS 1 with a persistent session; the broker's PUBACK is the acknowledgement. The client sends
    again, on the same session, what the broker has not acknowledged, so the sender never does; and it
    numbers messages 1..65535, reusing a number still in its queue, so no more than ``max_unacked`` may
    be outstanding."""

    transport = "mqtt"
    resends = False
    max_unacked = 20_000

    def __init__(self, host: str, port: int, client_id: str | None = None) -> None:
        self.host, self.port = host, port
        self.client_id = client_id or f"smartcity-sim-{uuid.uuid4().hex[:8]}"
        self._acked: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._sent: dict[int, tuple[str, int]] = {}
        self.client: mqtt.Client | None = None

    def connect(self) -> None:
        from smartcity.ingest.edge.mqtt_link import mqtt_client

        if self.client is None:
            self.client = mqtt_client(self.client_id)
            self.client.max_inflight_messages_set(1000)
            self.client.max_queued_messages_set(0)
            self.client.on_publish = lambda _c, _d, mid, _rc, _p: self._acked.put(mid)
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def close(self) -> None:
        assert self.client is not None
        self.client.disconnect()
        self.client.loop_stop()

    def send(self, address: str, value: bytes, content_type: str, seq: int | None) -> None:
        assert self.client is not None
        info = self.client.publish(address, value, qos=1)
        if seq is not None:
            self._sent[info.mid] = (address, seq)

    def acks(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        while True:
            try:
                mid = self._acked.get_nowait()
            except queue.Empty:
                return out
            sent = self._sent.pop(mid, None)
            if sent is not None:
                out.append(sent)


@dataclass
class SendStats:
    sent: int = 0
    resent: int = 0
    unnumbered: int = 0
    link_drops: int = 0
    relinks: int = 0
    acked: int = 0
    seconds: float = 0.0
    ack_latency_ms: list[float] = field(default_factory=list)


class ReliableSender:
    """Sends device messages over a link, keeping the numbered ones until acknowledged (module docstring)."""

    def __init__(self, link: Link, *, prefix: str = "smartcity", resend_after_s: float = 5.0,
                 max_unacked: int = 50_000, relink_after_s: float = 15.0) -> None:
        self.link, self.prefix = link, prefix
        self.resend_after_s, self.relink_after_s = resend_after_s, relink_after_s
        self._heard = time.monotonic()  # the last acknowledgement (or (re)connection)
        self.max_unacked = min(max_unacked, link.max_unacked or max_unacked)
        self.unacked: OrderedDict[tuple[str, int], tuple[bytes, str, float]] = OrderedDict()
        self.stats = SendStats()
        self._down_until: float | None = None

    def start(self) -> None:
        self.link.connect()
        self._heard = time.monotonic()

    def send(self, address: str, value: bytes, content_type: str) -> None:
        """Send one message (waiting while too many are unacknowledged or the link is down)."""
        envelope, seq = check(Incoming(address, value, content_type), prefix=self.prefix, default_encoding="protobuf",
                              received_ms=0)
        numbered = seq is not None and not envelope.dead
        while (numbered and len(self.unacked) >= self.max_unacked) or self._down_until is not None:
            self.service(0.005)
        self.link.send(address, value, content_type, seq if numbered else None)
        self.stats.sent += 1
        if not numbered:
            self.stats.unnumbered += 1
            return
        assert seq is not None
        now = time.monotonic()
        self.unacked[(address, seq)] = (value, content_type, now)
        self.unacked.move_to_end((address, seq))
        if self.stats.sent % 256 == 0:
            self.service(0)

    def drop_link(self, for_s: float) -> None:
        """Close the link now and open it again ``for_s`` seconds later (sending what is unacknowledged)."""
        self.link.close()
        self.stats.link_drops += 1
        self._down_until = time.monotonic() + for_s
        log.info("%s link dropped for %.1f s with %d messages unacknowledged", self.link.transport, for_s,
                 len(self.unacked))

    def service(self, wait_s: float) -> None:
        """Take acknowledgements, bring a dropped link back when due, and send again what stalled."""
        if wait_s:
            time.sleep(wait_s)
        now = time.monotonic()
        if self._down_until is not None:
            if now < self._down_until:
                return
            self._down_until = None
            self.link.connect()
            self._heard = now
            self._resend(now, everything=True)
            return
        for address, seq in self.link.acks():
            self._acked(address, seq, now)
        if self.unacked and self.link.resends and now - self._heard > self.relink_after_s:
            self._relink(now)
        elif self.unacked:
            self._resend(now, everything=False)

    def _relink(self, now: float) -> None:
        """Nothing acknowledged for ``relink_after_s`` while messages wait: the link may be wedged (a Zenoh
        session whose peer stalled past its lease), so open it anew and send everything again."""
        log.warning("%s: no acknowledgement for %.0f s with %d messages waiting; opening the link again",
                    self.link.transport, now - self._heard, len(self.unacked))
        self.link.close()
        self.link.connect()
        self.stats.relinks += 1
        self._heard = now
        self._resend(now, everything=True)

    def _acked(self, address: str, seq: int, now: float) -> None:
        sent = self.unacked.pop((address, seq), None)
        if sent is None:
            return  # a duplicate acknowledgement
        self.stats.ack_latency_ms.append((now - sent[2]) * 1000)
        self.stats.acked += 1
        self._heard = now

    def _resend(self, now: float, *, everything: bool) -> None:
        """Send again, oldest first, what waited ``resend_after_s`` for its acknowledgement (or all of it),
        each once, at most ``RESEND_BATCH`` per call unless ``everything``, with the acknowledgements taken
        every ``RESEND_BATCH`` sends, so a burst of resends never starves the acknowledgements that end it."""
        if not self.link.resends:
            return  # the transport sends again itself (MQTT's session)
        cutoff = now if everything else now - self.resend_after_s
        due: list[tuple[str, int]] = []
        for key, (_, _, sent_at) in self.unacked.items():
            if sent_at > cutoff or (not everything and len(due) >= RESEND_BATCH):
                break
            due.append(key)
        again = 0
        for key in due:
            entry = self.unacked.get(key)
            if entry is None:
                continue  # acknowledged meanwhile
            self.link.send(key[0], entry[0], entry[1], key[1])
            self.unacked[key] = (entry[0], entry[1], now)
            self.unacked.move_to_end(key)
            again += 1
            if again % RESEND_BATCH == 0:
                for address, seq in self.link.acks():
                    self._acked(address, seq, now)
        if again:
            self.stats.resent += again
            log.info("%s: sent %d unacknowledged messages again", self.link.transport, again)

    def finish(self, timeout_s: float) -> int:
        """Wait until everything is acknowledged or ``timeout_s`` passed; how many are still not."""
        deadline = time.monotonic() + timeout_s
        while (self.unacked or self._down_until is not None) and time.monotonic() < deadline:
            self.service(0.01)
        left = len(self.unacked)
        self.link.close()
        return left


def link_for(transport: str, *, zmq_pull: str, zmq_acks: str, zenoh_connect: list[str], mqtt_host: str,
             mqtt_port: int, prefix: str = "smartcity") -> Link:
    if transport == "zmq":
        return ZmqLink(zmq_pull, zmq_acks)
    if transport == "zenoh":
        return ZenohLink(zenoh_connect, prefix)
    if transport == "mqtt":
        return MqttLink(mqtt_host, mqtt_port)
    raise ValueError(f"unknown transport {transport!r}")



