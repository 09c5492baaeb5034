"""What the gateway keeps of one device message in its spool: where it goes, where it came from, and
its bytes exactly as the device sent them.

Layout (little endian): ``version u8 | dead u8 | domain u8 | encoding u8 | received_ms i64`` then three
``u16``-length-prefixed UTF-8 strings (device, source, reason) and the value. ``domain`` 255 means the
source named no known domain (such a message is always dead).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from smartcity.core.errors import CorruptStateError
from smartcity.proto.codec import ENCODINGS, Encoding

VERSION = 1
DOMAINS = ("bus", "air", "station")
UNKNOWN = 255
HEAD = struct.Struct("<BBBBq")
LEN = struct.Struct("<H")
MAX_TEXT = 1024  # bytes kept of a device id, source or reason (they come from the wire)


def _text(value: str) -> bytes:
    data = value.encode("utf-8", "replace")
    if len(data) > MAX_TEXT:
        data = data[:MAX_TEXT].decode("utf-8", "ignore").encode()
    return LEN.pack(len(data)) + data


@dataclass(frozen=True, slots=True)
class Envelope:
    """One device message. ``reason`` is set when it failed the gateway's checks (a dead letter)."""

    domain: str | None      # bus, air or station; None when the source named none
    device: str             # the device id the source named (the Kafka key)
    source: str             # where it arrived: the MQTT topic, Zenoh key expression or ZeroMQ address
    value: bytes            # the message bytes as sent
    encoding: Encoding
    received_ms: int
    reason: str | None = None

    @property
    def dead(self) -> bool:
        return self.reason is not None

    def pack(self) -> bytes:
        domain = DOMAINS.index(self.domain) if self.domain in DOMAINS else UNKNOWN
        return b"".join((HEAD.pack(VERSION, self.dead, domain, ENCODINGS.index(self.encoding), self.received_ms),
                         _text(self.device), _text(self.source), _text(self.reason or ""), self.value))

    @classmethod
    def unpack(cls, data: bytes) -> Envelope:
        try:
            version, dead, domain, encoding, received_ms = HEAD.unpack_from(data)
            if version != VERSION:
                raise ValueError(f"version {version}")
            at = HEAD.size
            texts = []
            for _ in range(3):
                (n,) = LEN.unpack_from(data, at)
                texts.append(data[at + LEN.size:at + LEN.size + n].decode())
                at += LEN.size + n
            device, source, reason = texts
            return cls(DOMAINS[domain] if domain != UNKNOWN else None, device, source, data[at:],
                       ENCODINGS[encoding], received_ms, reason if dead else None)
        except (struct.error, ValueError, IndexError) as exc:
            raise CorruptStateError(f"a spooled record cannot be read ({exc}); the spool was written by another "
                                    "version or is damaged: move the spool folder aside") from None
