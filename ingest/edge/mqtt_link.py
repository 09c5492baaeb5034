"""Devices over MQTT (a broker such as Mosquitto in between).

The gateway connects with a stable client id and a persistent session (``clean_session`` false),
subscribes to ``<prefix>/+/+`` at QoS 1 and acknowledges each message itself (``manual_ack``) only
after it is spooled. So a message the gateway had not spooled when it died is delivered again by the
broker, and while the spool is full no acknowledgement goes out: the broker stops at its in-flight
window and queues the rest for the session (configure the broker's ``max_queued_messages`` for the
outage you want to ride out; Mosquitto drops beyond it). MQTT 3.1.1 carries no content type, so a
payload is JSON when it starts with ``{`` and ``[edge] encoding`` otherwise.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from smartcity.ingest.edge.checks import Incoming
from smartcity.ingest.edge.lane import Acks, Lane
from smartcity.ingest.edge.receiver import GATHER_S, Receiver
from smartcity.ingest.edge.settings import EdgeSettings

log = logging.getLogger("smartcity.edge")


def mqtt_client(client_id: str, *, username: str | None = None, password: str | None = None,
                manual_ack: bool = False) -> mqtt.Client:
    """A client with a persistent session under ``client_id`` (MQTT 3.1.1)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                         manual_ack=manual_ack)
    if username is not None:
        client.username_pw_set(username, password)
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    return client


class MqttReceiver(Receiver):
    transport = "mqtt"

    def __init__(self, lane: Lane, settings: EdgeSettings) -> None:
        super().__init__(lane)
        self.settings = settings
        self.inbox: queue.SimpleQueue[tuple[Incoming, tuple[int, int]]] = queue.SimpleQueue()
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        self.client = mqtt_client(settings.mqtt_client_id, username=settings.mqtt_username, password=password,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _data: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt: the broker refused the connection: %s", reason)
            return
        client.subscribe(f"{self.settings.prefix}/+/+", qos=1)
        log.info("mqtt: connected to %s:%d as %s", self.settings.mqtt_host, self.settings.mqtt_port,
                 self.settings.mqtt_client_id)

    def _on_disconnect(self, _client: mqtt.Client, _data: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if not self.stopping.is_set():
            log.warning("mqtt: disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _data: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.put((Incoming(message.topic, bytes(message.payload)), (message.mid, message.qos)))

    def open(self) -> None:
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def gather(self, limit: int, timeout_s: float) -> list[tuple[Incoming, object]]:
        out: list[tuple[Incoming, object]] = []
        try:
            out.append(self.inbox.get(timeout=timeout_s))
            deadline = time.monotonic() + GATHER_S  # the batch closes then, however busy the stream
            while len(out) < limit and (left := deadline - time.monotonic()) > 0:
                out.append(self.inbox.get(timeout=left))
        except queue.Empty:
            pass
        return out

    def acknowledge(self, acks: Acks, tokens: list[object]) -> None:
        for token in tokens:
            assert isinstance(token, tuple)  # (mid, qos), as gather() paired it with its message
            mid, qos = token
            if qos:
                self.client.ack(mid, qos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
