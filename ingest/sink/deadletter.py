"""The sink's dead-letter writer: a message that cannot be landed goes to the dead-letter topic with
its original key, value and headers, plus headers saying why and where it came from.

A batch's offsets are committed only after its dead letters are acknowledged by the broker, so a
dead letter is never lost (a crash before the acknowledgement re-lands the batch and re-sends them).
"""

from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import Message, Producer

from smartcity.core.errors import SinkError
from smartcity.ingest.kafka.member import Header, headers_of, position_of, produce
from smartcity.ingest.sink.landing import DeadLetter
from smartcity.ingest.sink.metrics import SinkMetrics

FLUSH_TIMEOUT_S = 60.0

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

    def __init__(self, producer: Producer, topic: str, metrics: SinkMetrics) -> None:
        self.producer, self.topic, self.metrics = producer, topic, metrics

    def send(self, messages: Sequence[Message], dead: Sequence[DeadLetter], *, topic: str, partition: int,
             dataset: str) -> None:
        for letter in dead:
            m = messages[letter.index]
            headers = dead_letter_headers(headers_of(m), letter, topic=topic, partition=partition,
                                          offset=position_of(m)[2], dataset=dataset)
            produce(self.producer, self.topic, m.value(), m.key(), headers=headers)
            self.metrics.deadletters.labels(topic, letter.stage).inc()
        remaining = self.producer.flush(FLUSH_TIMEOUT_S)
        if remaining:
            raise SinkError(f"{remaining} dead letters could not be delivered to {self.topic}; "
                            "offsets not committed", transient=True)
