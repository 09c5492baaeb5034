"""The devices' sender: a link that stays silent while messages wait is opened anew, and everything
waiting is sent again on it (a Zenoh session can stay wedged after its peer stalled past the lease)."""

from __future__ import annotations

from smartcity.ingest.edge.devices import Link, ReliableSender
from smartcity.proto import BusTelemetry
from smartcity.proto.codec import BUS


class WedgedLink(Link):
    """Loses everything sent on its first connection; acknowledges what is sent on later ones."""

    transport = "test"

    def __init__(self) -> None:
        self.connections = 0
        self.pending: list[tuple[str, int]] = []

    def connect(self) -> None:
        self.connections += 1

    def close(self) -> None:
        pass

    def send(self, address: str, value: bytes, content_type: str, seq: int | None) -> None:
        if self.connections > 1 and seq is not None:
            self.pending.append((address, seq))

    def acks(self) -> list[tuple[str, int]]:
        out, self.pending = self.pending, []
        return out


def test_a_silent_link_is_opened_again_and_everything_is_sent_again() -> None:
    link = WedgedLink()
    sender = ReliableSender(link, resend_after_s=0.05, relink_after_s=0.3)
    sender.start()
    for seq in range(1, 21):
        message = BusTelemetry(bus_id="B1", event_time_ms=seq, device_seq=seq)
        sender.send("smartcity/bus/B1", BUS.encode(message), "application/x-protobuf")
    assert sender.finish(timeout_s=5) == 0
    assert link.connections == 2 and sender.stats.relinks == 1 and sender.stats.acked == 20
