"""``smartcity edge``: the store-and-forward gateway from device transports into Kafka.

Per enabled transport there is a *lane* (:mod:`~smartcity.ingest.edge.lane`): a receiver thread that
spools what the devices send and acknowledges it once fsynced, and a forwarder thread
(:mod:`~smartcity.ingest.edge.forwarder`) that moves the spool into Kafka in order. The two meet only
in the spool, so Kafka being away for minutes changes nothing for the devices until the spool is full,
and then they are held back, never dropped. The gateway stops on :meth:`Gateway.stop` (SIGTERM): the
receivers stop first, the forwarders get ``drain_s`` to empty the spools, and whatever is left is
forwarded after the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from smartcity.core.errors import EdgeError
from smartcity.ingest.edge.forwarder import Forwarder
from smartcity.ingest.edge.lane import Lane
from smartcity.ingest.edge.metrics import EdgeMetrics
from smartcity.ingest.edge.receiver import Receiver
from smartcity.ingest.edge.settings import EdgeSettings
from smartcity.ingest.health import Heartbeat
from smartcity.ingest.kafka.settings import KafkaSettings

log = logging.getLogger("smartcity.edge")

DRAIN_S = 10.0


@dataclass
class EdgeStats:
    received: dict[str, int] = field(default_factory=dict)
    forwarded: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)


def make_receiver(transport: str, lane: Lane, settings: EdgeSettings) -> Receiver:
    if transport == "zmq":
        from smartcity.ingest.edge.zmq_link import ZmqReceiver

        return ZmqReceiver(lane, settings)
    if transport == "zenoh":
        from smartcity.ingest.edge.zenoh_link import ZenohReceiver

        return ZenohReceiver(lane, settings)
    from smartcity.ingest.edge.mqtt_link import MqttReceiver

    return MqttReceiver(lane, settings)


class Gateway:
    def __init__(self, kafka: KafkaSettings, settings: EdgeSettings, *, heartbeat: Path | None = None,
                 until_idle: float | None = None, max_seconds: float | None = None, drain_s: float = DRAIN_S,
                 segment_bytes: int = 64 << 20) -> None:
        if not settings.transports:
            raise EdgeError("no transport enabled: pass --zmq, --zenoh or --mqtt, or set [edge] transports")
        self.kafka, self.settings = kafka, settings
        self.until_idle, self.max_seconds, self.drain_s = until_idle, max_seconds, drain_s
        self.metrics = EdgeMetrics()
        self.heartbeat = Heartbeat(heartbeat) if heartbeat is not None else None
        self._stop = threading.Event()
        self._status = "ok"
        segment_bytes = min(segment_bytes, max(4096, settings.spool_max_bytes // 8))  # room frees segment by segment
        self.lanes = [Lane(t, settings.spool_dir, prefix=settings.prefix, default_encoding=settings.encoding,
                           metrics=self.metrics, max_bytes=settings.spool_max_bytes, segment_bytes=segment_bytes)
                      for t in settings.transports]
        self.receivers = [make_receiver(lane.transport, lane, settings) for lane in self.lanes]
        self.forwarders = [Forwarder(lane, kafka, on_status=self._set_status) for lane in self.lanes]

    def _set_status(self, status: str) -> None:
        self._status = status

    def stop(self) -> None:
        """Finish (signal-safe)."""
        self._stop.set()

    def run(self) -> EdgeStats:
        s = self.settings
        if s.metrics_port is not None:
            self.metrics.serve(s.metrics_port, s.metrics_host)
        try:
            for receiver in self.receivers:
                receiver.open()
        except BaseException:
            for receiver in self.receivers:
                receiver.close()
            raise
        for thread in [*self.forwarders, *self.receivers]:
            thread.start()
        log.info("edge gateway up: %s; spool %s", ", ".join(s.transports), s.spool_dir)
        began = time.monotonic()
        try:
            while not self._stop.wait(0.1):
                self._check_threads()
                if self.heartbeat is not None:
                    self.heartbeat.beat(self._status)
                now = time.monotonic()
                if self.max_seconds is not None and now - began >= self.max_seconds:
                    break
                if self.until_idle is not None and self._idle(now):
                    break
        finally:
            self._shutdown()
        return self.stats()

    def _idle(self, now: float) -> bool:
        quiet = all(not r.busy and now - r.last_received >= self.until_idle  # type: ignore[operator]
                    for r in self.receivers)
        return quiet and all(lane.spool.pending == 0 for lane in self.lanes)

    def _check_threads(self) -> None:
        threads: list[Receiver | Forwarder] = [*self.receivers, *self.forwarders]
        for thread in threads:
            if thread.failed is not None:
                raise EdgeError(f"{thread.name} stopped: {thread.failed}") from thread.failed

    def _shutdown(self) -> None:
        for receiver in self.receivers:
            receiver.stop()
        for receiver in self.receivers:
            receiver.join(10)
        deadline = time.monotonic() + self.drain_s
        while time.monotonic() < deadline and any(lane.spool.pending for lane in self.lanes):
            if any(f.failed is not None or not f.is_alive() for f in self.forwarders):
                break
            time.sleep(0.05)
        for forwarder in self.forwarders:
            forwarder.stop()
        for forwarder in self.forwarders:
            forwarder.join(10)
        left = {lane.transport: lane.spool.pending for lane in self.lanes if lane.spool.pending}
        if left:
            log.warning("stopping with records still spooled (forwarded after the next start): %s", left)
        for lane in self.lanes:
            lane.close()

    def stats(self) -> EdgeStats:
        out = EdgeStats()
        for lane, forwarder in zip(self.lanes, self.forwarders, strict=True):
            out.received[lane.transport] = int(self.metrics.received.labels(lane.transport)._value.get())
            out.forwarded[lane.transport] = forwarder.forwarded
            out.pending[lane.transport] = lane.spool.pending
        return out
