"""What the gateway checks of a device message before it spools it (pure, no I/O).

Every transport delivers the same three things: the message's address ``<prefix>/<domain>/<device>``
(the MQTT topic, the Zenoh key expression, the first ZeroMQ frame), its content type when the transport
carries one, and its bytes. A message passes when the address names a known domain and a device, the
bytes decode as that domain's message (Protobuf, or JSON when the content type says so or the bytes
start with ``{``, which no Protobuf message of ours can), the device id in the message is the address's
(a device speaks only for itself), and its ``device_seq``, when set, is positive. Anything else is a
dead letter with the reason. Replays are told apart by :mod:`smartcity.ingest.device_seq`.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.core.errors import DecodeError
from smartcity.ingest.edge.envelope import DOMAINS, Envelope
from smartcity.proto.codec import CONTENT_TYPE_HEADER, DOMAIN_CODECS, Encoding, encoding_from_headers

CODECS = DOMAIN_CODECS
ID_FIELDS = {"bus": "bus_id", "air": "sensor_id", "station": "station_id"}
MAX_VALUE_BYTES = 900 * 1024  # below Kafka's default message limit, with room for headers


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as a transport delivered it."""

    address: str
    value: bytes
    content_type: str | None = None


def parse_address(prefix: str, address: str) -> tuple[str | None, str, str | None]:
    """``(domain, device, problem)`` of ``<prefix>/<domain>/<device>``; problem None when it is one."""
    head = prefix.rstrip("/") + "/"
    if not address.startswith(head):
        return None, "", f"address {address!r} is not under {head!r}"
    parts = address[len(head):].split("/")
    if len(parts) != 2 or not parts[1]:
        return None, "", f"address {address!r} is not {head}<domain>/<device id>"
    domain, device = parts
    if domain not in DOMAINS:
        return None, device, f"address {address!r} names no known domain (bus, air or station)"
    return domain, device, None


def wire_encoding(content_type: str | None, value: bytes, default: Encoding) -> Encoding:
    """The encoding a content type announces; without one, JSON when the bytes open an object, else ``default``."""
    if content_type:
        return encoding_from_headers([(CONTENT_TYPE_HEADER, content_type)])
    return "json" if value.lstrip()[:1] == b"{" else default


def check(message: Incoming, *, prefix: str, default_encoding: Encoding, received_ms: int
          ) -> tuple[Envelope, int | None]:
    """The message's spool envelope (with a reason when it is a dead letter) and its device_seq (None: unnumbered)."""
    domain, device, problem = parse_address(prefix, message.address)
    encoding: Encoding = default_encoding
    seq: int | None = None
    if problem is None:
        try:
            encoding = wire_encoding(message.content_type, message.value, default_encoding)
            if len(message.value) > MAX_VALUE_BYTES:
                raise DecodeError(CODECS[domain].name, f"{len(message.value):,} bytes, more than the "  # type: ignore[index]
                                  f"{MAX_VALUE_BYTES:,} a device message may have")
            decoded = CODECS[domain].decode_as(message.value, encoding)  # type: ignore[index]
        except DecodeError as exc:
            problem = str(exc)
        else:
            said = getattr(decoded, ID_FIELDS[domain])  # type: ignore[index]
            if said != device:
                problem = f"the message's {ID_FIELDS[domain]} {said!r} is not the address's device {device!r}"  # type: ignore[index]
            elif decoded.HasField("device_seq"):
                seq = decoded.device_seq
                if seq < 1:
                    problem, seq = f"device_seq {seq} is not a positive number", None
    envelope = Envelope(domain, device, message.address, message.value, encoding, received_ms, problem)
    return envelope, seq
