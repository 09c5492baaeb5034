"""Fan-out: numbered updates, resume from Last-Event-ID, bounded queues that drop the oldest and say so."""

from __future__ import annotations

import asyncio
import json

from smartcity.live.hub import Hub, encode_update


def _update(n: int) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    payload = {"vehicles": [{"id": f"B{n % 3}", "t": n, "lat": 47.0 + n, "hours": [1]}], "closed": []}
    return payload, encode_update(payload)


def _events(frames: list[bytes]) -> list[tuple[str | None, str, dict]]:  # type: ignore[type-arg]
    out = []
    for message in frames:
        fields = dict(line.split(": ", 1) for line in message.decode().strip().split("\n"))
        out.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return out


async def _take(hub: Hub, client, n: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    stream = hub.stream(client, keepalive_s=5)
    frames: list[bytes] = []
    assert await anext(stream) == b"retry: 2000\n\n"
    while len(frames) < n:
        frames.append(await asyncio.wait_for(anext(stream), 2))
    await stream.aclose()
    return frames


def test_a_new_client_starts_from_the_snapshot_then_gets_every_update() -> None:
    async def run() -> None:
        hub = Hub()
        for n in range(3):
            hub.publish(*_update(n))
        client = hub.subscribe()
        for n in range(3, 5):
            hub.publish(*_update(n))
        events = _events(await _take(hub, client, 3))
        assert [(e[0], e[1]) for e in events] == [(hub.event_id(3), "snapshot"), (hub.event_id(4), "update"),
                                                  (hub.event_id(5), "update")]
        assert sorted(v["id"] for v in events[0][2]["vehicles"]) == ["B0", "B1", "B2"]
        assert all("hours" not in v for e in events for v in e[2]["vehicles"])  # store-only fields stay home
        assert hub.clients == set()  # gone once its stream ends
    asyncio.run(run())


def test_a_reconnecting_client_gets_exactly_what_it_missed() -> None:
    async def run() -> None:
        hub = Hub(history=10)
        for n in range(6):
            hub.publish(*_update(n))
        events = _events(await _take(hub, hub.subscribe(hub.event_id(3)), 3))
        assert [(e[0], e[1]) for e in events] == [(hub.event_id(4), "update"), (hub.event_id(5), "update"),
                                                  (hub.event_id(6), "update")]
        up_to_date = hub.subscribe(hub.event_id())
        assert list(up_to_date.queue) == []
    asyncio.run(run())


def test_a_client_too_far_behind_or_from_another_server_start_gets_a_snapshot() -> None:
    hub = Hub(history=5)
    for n in range(20):
        hub.publish(*_update(n))
    for last in (hub.event_id(3), f"0{hub.epoch}-19", "garbage", f"{hub.epoch}-999", ""):
        client = hub.subscribe(last)
        assert _events(list(client.queue))[0][1] == "snapshot", last
    # the oldest update still in the ring is resumable
    assert _events(list(hub.subscribe(hub.event_id(15)).queue))[0][0] == hub.event_id(16)


def test_a_stalled_client_drops_its_oldest_updates_is_told_and_gets_the_picture_again() -> None:
    async def run() -> None:
        hub = Hub(client_queue=4)
        slow, fast = hub.subscribe(hub.event_id()), hub.subscribe(hub.event_id())
        fast_stream = hub.stream(fast, keepalive_s=5)
        assert await anext(fast_stream) == b"retry: 2000\n\n"
        received = []
        for n in range(10):  # the fast client reads as they come, the slow one reads nothing
            hub.publish(*_update(n))
            received.append(await asyncio.wait_for(anext(fast_stream), 1))
        await fast_stream.aclose()
        assert [e[0] for e in _events(received)] == [hub.event_id(n) for n in range(1, 11)]
        assert len(slow.queue) == 4 and slow.dropped == 6  # bounded: publishing never waited for it
        events = _events(await _take(hub, slow, 2))
        assert events[0][1:] == ("dropped", {"dropped": 6})
        assert events[1][0] == hub.event_id(10) and events[1][1] == "snapshot"
        assert {v["id"]: v["t"] for v in events[1][2]["vehicles"]} == {"B0": 9, "B1": 7, "B2": 8}
        assert hub.stats["dropped"] == 6
    asyncio.run(run())


def test_closed_alerts_leave_the_picture() -> None:
    hub = Hub()
    hub.publish({"alerts": [{"id": "a1", "t": 1}], "closed": []}, b"{}")
    hub.publish({"alerts": [], "closed": ["a1"]}, b"{}")
    assert _events([hub.snapshot()])[0][2]["alerts"] == []
