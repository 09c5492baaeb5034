"""The sink's dead-letter writer: a message that cannot be landed goes to the dead-letter topic with
its original key, value and headers, plus headers saying why and where it came from.

A batch lands in the lake (and its offset moves on) only after its dead letters are acknowledged by
the broker, so a dead letter is never lost: a crash or an outage before the acknowledgement leaves
the batch unlanded, and it is read, dead-lettered and landed again.

A message too large for the dead-letter topic (a poison message can be made that large on purpose)
is sent truncated to its first ``MAX_PAYLOAD`` bytes, with ``smartcity-original-size`` and
``smartcity-original-sha256`` headers: enough to find and compare it in the source topic, whose
coordinates the headers name too. The partition always moves on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from confluent_kafka import KafkaError, Message, Producer

from smartcity.core.errors import SinkError
from smartcity.ingest.kafka.member import Header, headers_of, position_of, produce
from smartcity.ingest.sink.landing import DeadLetter
from smartcity.ingest.sink.metrics import SinkMetrics

FLUSH_STEP_S = 5.0
MAX_PAYLOAD = 256 * 1024  # a dead letter's value is cut here (the default message limit is about 1 MB)


def bounded_payload(value: bytes | None) -> tuple[bytes | None, list[Header]]:
    """``value``, or its first ``MAX_PAYLOAD`` bytes and headers saying how it was cut."""
    if value is None or len(value) <= MAX_PAYLOAD:
        return value, []
    return value[:MAX_PAYLOAD], [("smartcity-truncated", b"true"),
                                 ("smartcity-original-size", str(len(value)).encode()),
                                 ("smartcity-original-sha256", hashlib.sha256(value).hexdigest().encode())]

def dead_letter_headers(message_headers: Sequence[Header] | None, dead: DeadLetter, *, topic: str,
                        partition: int, offset: int, dataset: str) -> list[Header]:
    """The original headers followed by ``smartcity-error*`` and ``smartcity-source-*`` headers."""
    return [
        *(message_headers or []),
        ("smartcity-error", dead.reason.encode()),
        ("smartcity-error-stage", dead.stage.encode()),
        ("smartcity-source-topic", topic.encode()),
        ("smartcity-source-partition", str(partition).encode()),
        ("smartcity-source-offset", str(offset).encode()),
        ("smartcity-dataset", dataset.encode()),
    ]


class DeadLetterWriter:
    """Sends a batch's dead letters and waits until the broker has them all."""

    def __init__(self, producer: Producer, topic: str, metrics: SinkMetrics,
                 on_wait: Callable[[str | None], bool] = lambda _why: True) -> None:
        self.producer, self.topic, self.metrics, self.on_wait = producer, topic, metrics, on_wait

    def send(self, messages: Sequence[Message], dead: Sequence[DeadLetter], *, topic: str, partition: int,
             dataset: str) -> None:
        """Produce the dead letters and wait for every acknowledgement; a ``SinkError`` if any failed."""
        failed: list[str] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                failed.append(err.str())

        for letter in dead:
            m = messages[letter.index]
            value, cut = bounded_payload(m.value())
            headers = dead_letter_headers(headers_of(m), letter, topic=topic, partition=partition,
                                          offset=position_of(m)[2], dataset=dataset) + cut
            produce(self.producer, self.topic, value, m.key(), headers=headers, on_delivery=delivered)
            self.metrics.deadletters.labels(topic, letter.stage).inc()
        # Wait for every acknowledgement. While the broker is away the letters stay queued in the producer
        # (they are delivered when it returns, so they are not produced again); ``on_wait`` hears why and
        # says whether to keep waiting (the member is not stopping).
        waited = 0.0
        while (remaining := self.producer.flush(FLUSH_STEP_S)) and not failed:
            waited += FLUSH_STEP_S
            if not self.on_wait(f"{remaining} dead letters of {topic}[{partition}] not acknowledged by {self.topic} "
                                f"for {waited:.0f} s"):
                break
        self.on_wait(None)
        if remaining or failed:
            reason = failed[0] if failed else f"{remaining} not acknowledged"
            raise SinkError(f"dead letters of {topic}[{partition}] not delivered to {self.topic} ({reason}); the "
                            "batch is not landed and will be read again", transient=True)
