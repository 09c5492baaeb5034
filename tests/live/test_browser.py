"""The live page in real headless Chromium while messages reach a real broker: a bus marker moves, a
crowding alert appears and closes, each within 2 s of being produced, and the page works from the
keyboard. The screenshot is kept in ``test-artifacts/`` (``SMARTCITY_TEST_ARTIFACTS`` elsewhere)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from smartcity.ingest.kafka.settings import KafkaSettings
from tests.conftest import unavailable

from .browser import Browser, chromium_binary
from .server import Server, alert, bus, send_alerts, send_buses, send_window, setup_topics, window

pytestmark = [pytest.mark.kafka]
WITHIN_S = 2.0
ARTIFACTS = Path(os.environ.get("SMARTCITY_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


@pytest.fixture
def browser() -> Browser:  # type: ignore[misc]
    binary = chromium_binary()
    if binary is None:
        unavailable("Chromium is not installed (Debian: apt install chromium)")
    opened = Browser(binary, width=1280, height=1000)
    yield opened
    opened.close()


def _produced_then_seen(browser: Browser, produce, condition: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    produce()
    browser.wait_for(condition, timeout=10, every=0.02)
    return time.monotonic() - started


def test_the_page_shows_buses_moving_and_alerts_opening_and_closing_live(
        kafka_settings: KafkaSettings, tmp_path: Path, browser: Browser) -> None:
    setup_topics(kafka_settings)
    server = Server(kafka_settings, tmp_path / "state", tmp_path / "live.log")
    try:
        send_buses(kafka_settings, bus("B001", "R01", 47.37, occupancy=1), bus("B002", "R02", 47.39, occupancy=5))
        send_window(kafka_settings, window(23.4))
        server.wait_for("/api/vehicles", lambda v: len(v) == 2)
        browser.navigate(server.url + "/")
        browser.wait_for("document.querySelectorAll('[data-vehicle]').length === 2")
        assert browser.wait_for("document.getElementById('connection').textContent") == "live"
        y0 = float(browser.evaluate("document.querySelector('[data-vehicle=\"B001\"]').dataset.y"))

        moved = _produced_then_seen(
            browser, lambda: send_buses(kafka_settings, bus("B001", "R01", 47.36, occupancy=3)),
            f"parseFloat(document.querySelector('[data-vehicle=\"B001\"]').dataset.y) !== {y0}")
        marker = browser.evaluate("(() => { const m = document.querySelector('[data-vehicle=\"B001\"]');"
                                  " return [m.dataset.occupancy, m.getAttribute('fill')]; })()")
        assert marker == ["STANDING_ROOM_ONLY", "#fdae61"]

        opened = _produced_then_seen(
            browser, lambda: send_alerts(kafka_settings, alert("crowd-B002", 1, "B002")),
            "document.querySelector('#alerts li[data-alert=\"crowd-B002\"]') !== null")
        text = browser.evaluate("document.querySelector('#alerts li[data-alert=\"crowd-B002\"]').textContent")
        assert "bus B002 is crowded" in text and "CRITICAL" in text
        assert browser.evaluate("document.getElementById('fig-alerts').textContent") == "1"
        assert browser.evaluate("document.getElementById('fig-mean').textContent") == "23.4"

        # keyboard: the first Tab reaches the skip link, Enter on it moves to the alerts, Tab to the alert,
        # and Enter on the alert picks its bus on the map
        browser.key("Tab")
        assert browser.evaluate("document.activeElement.className") == "skip"
        browser.key("Enter")
        browser.wait_for("location.hash === '#alerts-panel'")
        browser.key("Tab")
        assert browser.evaluate("document.activeElement.closest('li').dataset.alert") == "crowd-B002"
        browser.key("Enter")
        browser.wait_for("document.querySelector('[data-vehicle=\"B002\"]').classList.contains('picked')")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = browser.screenshot(ARTIFACTS / "live-view.png")
        assert shot.stat().st_size > 20_000

        closed = _produced_then_seen(
            browser, lambda: send_alerts(kafka_settings, alert("crowd-B002", 3, "B002")),
            "document.querySelector('#alerts li[data-alert=\"crowd-B002\"]') === null")
        assert browser.evaluate("document.getElementById('alerts-empty').hidden") is False
        assert max(moved, opened, closed) < WITHIN_S, (moved, opened, closed)
        assert browser.errors == []
    finally:
        server.stop()


def test_text_from_the_wire_is_shown_as_text(kafka_settings: KafkaSettings, tmp_path: Path, browser: Browser) -> None:
    setup_topics(kafka_settings)
    server = Server(kafka_settings, tmp_path / "state", tmp_path / "live.log")
    try:
        hostile = alert("x<img src=x onerror=window.pwned=1>", 1, "<script>window.pwned=2</script>")
        hostile.message = "<img src=x onerror=window.pwned=3>"
        send_alerts(kafka_settings, hostile)
        server.wait_for("/api/alerts", lambda a: len(a) == 1)
        browser.navigate(server.url + "/")
        browser.wait_for("document.querySelectorAll('#alerts li').length === 1")
        assert browser.evaluate("document.querySelector('#alerts .what').textContent") == hostile.message
        assert browser.evaluate("document.querySelectorAll('#alerts img, #alerts script').length") == 0
        assert browser.evaluate("window.pwned === undefined") is True
    finally:
        server.stop()
