"""The devices of ``smartcity bench transports``: their messages, and the child process that plays them.

The child (``python -m smartcity.bench.transport_devices JSON``, see :func:`device_command`) plays one way's
devices, or for Kafka direct the producer, so the CPU time it reports is theirs alone. It loads the phases'
messages from a pickle, says ``{"ready": true}`` once connected, then plays a phase per
``{"phase": i, "rate": r}`` line on stdin (``r`` messages per second, null: unpaced), answering with a JSON
line (CPU seconds, failed, unacknowledged and resent messages) and writing each message's send time (wall
clock, s, float64) to ``<times_dir>/phase<i>.bin``; ``{"quit": true}`` ends it.
"""

from __future__ import annotations

import itertools
import json
import pickle
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.producer import Pacer, Record

PREFIX = "smartcity"          # first level of the device addresses
DOMAINS = ("bus", "air", "station")
PRODUCER_WARM_S = 1.0
SETTLE_S = 30.0               # how long a phase's last messages may take to reach Kafka


def device_records(n: int) -> list[Record]:
    """``n`` simulated device messages (bus, air, station), numbered per device and addressed for the edge."""
    from smartcity.ingest.edge.play import address_topics, numbered
    from smartcity.simulator import default_city, simulate, to_records

    events = simulate(default_city(), datetime(2026, 3, 10, 6, tzinfo=UTC), timedelta(days=2), seed=7,
                      domains=DOMAINS)
    return list(itertools.islice(to_records(numbered(events), "protobuf", topics=address_topics(PREFIX)), n))


def paced(records: list[Record], rate: float | None, times: array[float],
          wait: Callable[[float], object] = time.sleep, warm_s: float = 0.0) -> Iterator[Record]:
    """``records`` at ``rate`` messages per second (None: as fast as taken), noting each one's send time
    (wall clock, s) in ``times`` just before handing it over; ``wait(s)`` passes the time meanwhile.
    ``warm_s``: a pause before the first, for the taker to connect."""
    if warm_s:
        wait(warm_s)
    pacer = Pacer(rate=rate) if rate else None
    for i, record in enumerate(records):
        if pacer is not None:
            pacer.wait(record[4], wait)
        times[i] = time.time()
        yield record


def device_command(**args: Any) -> list[str]:
    """The child's command line; ``args`` are :func:`play_devices`'s."""
    return [sys.executable, "-m", "smartcity.bench.transport_devices", json.dumps(args)]


def _say(answer: dict[str, Any]) -> None:
    print(json.dumps(answer), flush=True)


def play_devices(way: str, records: str, times_dir: str, bootstrap: str, topic_prefix: str, zmq_pull: str,
                 zmq_acks: str, zenoh: str, mqtt_port: int) -> None:
    """Play one way's devices, a phase per ``{"phase": i, "rate": r}`` line on stdin, until ``quit``."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")  # resends, to its log
    from smartcity.ingest.edge.devices import ReliableSender, link_for
    from smartcity.ingest.edge.play import content_type

    phases: list[list[Record]] = pickle.loads(Path(records).read_bytes())
    sender: ReliableSender | None = None
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=topic_prefix)
    if way == "kafka":
        topics = {f"{PREFIX}/{d}": kafka.topic(d) for d in DOMAINS}
        phases = [[(topics[t], k, v, h, e) for t, k, v, h, e in phase] for phase in phases]
    else:
        link = link_for(way, zmq_pull=zmq_pull, zmq_acks=zmq_acks, zenoh_connect=[zenoh], mqtt_host="127.0.0.1",
                        mqtt_port=mqtt_port, prefix=PREFIX)
        sender = ReliableSender(link, prefix=PREFIX)
        sender.start()
        time.sleep(0.5)  # connections up and subscriptions known before the first message
    _say({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            break
        phase: list[Record] = phases[command["phase"]]
        rate: float | None = command["rate"]
        times = array("d", bytes(8 * len(phase)))
        cpu = time.process_time()  # this process, all its threads (librdkafka's, paho's)
        answer: dict[str, Any] = {"phase": command["phase"]}
        if sender is None:
            from smartcity.ingest.producer import produce_records

            # produce_records makes its producer before taking the first record; an idempotent producer
            # needs ~0.5 s to get its producer id: let it connect first, as the devices' links did
            stats = produce_records(kafka, paced(phase, rate, times, warm_s=PRODUCER_WARM_S))
            answer.update(failed=stats.failed, unacked=0, resent=0)
        else:
            before = sender.stats.resent
            for topic, key, value, headers, _ in paced(phase, rate, times, sender.service):
                sender.send(f"{topic}/{key.decode()}", value, content_type(headers))
            deadline = time.monotonic() + SETTLE_S
            while sender.unacked and time.monotonic() < deadline:
                sender.service(0.001)
            answer.update(failed=0, unacked=len(sender.unacked), resent=sender.stats.resent - before)
        answer.update(cpu_s=time.process_time() - cpu)
        with open(Path(times_dir) / f"phase{command['phase']}.bin", "wb") as fh:
            times.tofile(fh)
        _say(answer)
    if sender is not None:
        sender.finish(5.0)
    _say({"done": True})


if __name__ == "__main__":
    play_devices(**json.loads(sys.argv[1]))
