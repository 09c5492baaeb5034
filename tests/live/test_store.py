"""The live state in embedded SurrealDB: round trip, filters with strings as data, one transaction per
flush (``kill -9`` at any moment leaves records and positions that belong together), a damaged store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from smartcity.core.errors import LiveError
from smartcity.live.settings import LiveSettings
from smartcity.live.state import Changes, LiveState
from smartcity.live.store import LiveStore
from smartcity.proto.smartcity.v1.alert_pb2 import Alert
from smartcity.proto.smartcity.v1.bus_pb2 import BusTelemetry

T0 = 1_780_000_000_000


def _store(path: Path) -> LiveStore:
    return LiveStore(LiveSettings(store=f"surrealkv://{path}"))


def _picture() -> tuple[LiveState, Changes]:
    state, changes = LiveState(), Changes()
    for i, (route, occupancy) in enumerate([("R1", 1), ("R1", 3), ("R2", 5), ("R'; DELETE vehicle; --", 4)]):
        state.apply_bus(BusTelemetry(bus_id=f"B{i}", route_id=route, event_time_ms=T0, latitude=47.0, longitude=8.0,
                                     occupancy_status=occupancy), changes)
    state.apply_alert(Alert(alert_id="a1", kind=1, severity=3, state=1, subject_id="B2", event_time_ms=T0), changes)
    state.apply_alert(Alert(alert_id="a2", kind=2, severity=2, state=1, subject_id="AQ1", event_time_ms=T0), changes)
    return state, changes


def test_the_picture_and_positions_survive_a_reopen(tmp_path: Path) -> None:
    state, changes = _picture()
    store = _store(tmp_path / "db")
    store.save(changes, {("t.bus", 0): 41, ("t.bus", 1): 7})
    closing = Changes()
    state.apply_alert(Alert(alert_id="a2", state=3, event_time_ms=T0 + 1), closing)
    store.save(closing, {("t.bus", 0): 42, ("t.bus", 1): 7})
    store.close()
    reopened = _store(tmp_path / "db")
    records, positions = reopened.load()
    assert positions == {("t.bus", 0): 42, ("t.bus", 1): 7}
    assert LiveState.from_records(records).snapshot() == state.snapshot()
    assert [a["id"] for a in reopened.alerts()] == ["a1"]


def test_filters_bind_strings_as_data(tmp_path: Path) -> None:
    _, changes = _picture()
    store = _store(tmp_path / "db")
    store.save(changes, {})
    assert [v["id"] for v in store.vehicles(route="R1")] == ["B0", "B1"]
    assert [v["id"] for v in store.vehicles(at_least="CRUSHED_STANDING_ROOM_ONLY")] == ["B2", "B3"]
    assert [v["id"] for v in store.vehicles(occupancy=["MANY_SEATS_AVAILABLE", "FULL"])] == ["B0", "B2"]
    assert [v["id"] for v in store.vehicles(route="R'; DELETE vehicle; --")] == ["B3"]
    assert store.vehicles(route="x' OR true OR '") == []
    assert len(store.vehicles()) == 4
    assert [a["id"] for a in store.alerts(severity="CRITICAL")] == ["a1"]
    assert [a["id"] for a in store.alerts(kind="AIR_QUALITY")] == ["a2"]


_WRITER = textwrap.dedent("""
    import sys
    from smartcity.live.settings import LiveSettings
    from smartcity.live.state import Changes
    from smartcity.live.store import LiveStore
    store = LiveStore(LiveSettings(store="surrealkv://" + sys.argv[1]))
    records, positions = store.load()
    n = positions.get(("t", 0), 0)
    while True:  # flush n: vehicles V<n>.0..V<n>.49 and the position n + 1, together
        changes = Changes()
        for k in range(50):
            changes.put("vehicle", f"V{n}.{k}", {"id": f"V{n}.{k}", "t": n, "n": n})
        store.save(changes, {("t", 0): n + 1})
        n += 1
        print(n, flush=True)
""")


def test_kill_9_mid_flush_leaves_records_and_positions_that_belong_together(tmp_path: Path) -> None:
    path = tmp_path / "db"
    for round_ in range(4):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None
        for _ in range(5 + 7 * round_):
            assert writer.stdout.readline()
        time.sleep(0.003 * round_)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        store = _store(path)
        records, positions = store.load()
        store.close()
        flushes = positions[("t", 0)]
        ids = sorted(r["id"] for kind, r in records if kind == "vehicle")
        assert ids == sorted(f"V{n}.{k}" for n in range(flushes) for k in range(50)), round_


def test_a_damaged_store_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "db"
    store = _store(path)
    _, changes = _picture()
    store.save(changes, {})
    store.close()
    for file in path.rglob("*"):
        if file.is_file() and file.stat().st_size:
            file.write_bytes(b"\x00garbage" * 64)
    with pytest.raises(LiveError, match="live store") as caught:
        store = _store(path)
        store.load()
    assert "\n" not in str(caught.value)


def test_a_store_url_that_is_not_surrealdb_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="SurrealDB URL"):
        LiveSettings(store="/var/lib/live")
