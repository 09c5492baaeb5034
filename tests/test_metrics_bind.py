"""Closed by default: the daemons' /metrics listen on 127.0.0.1 unless a host is configured."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from smartcity.core.settings import load_settings
from smartcity.ingest.alerts import metrics as alert_metrics
from smartcity.ingest.sink import metrics as sink_metrics


def test_metrics_host_defaults_to_loopback_and_is_configurable() -> None:
    s = load_settings(environ={"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": "k:9092"})
    assert s.ingest.metrics_host == "127.0.0.1" and s.alerts.metrics_host == "127.0.0.1"
    env = {"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": "k:9092", "SMARTCITY_INGEST_METRICS_HOST": "0.0.0.0",
           "SMARTCITY_ALERTS_METRICS_HOST": "::"}
    s = load_settings(environ=env)
    assert s.ingest.metrics_host == "0.0.0.0" and s.alerts.metrics_host == "::"
    s = load_settings(flags={"ingest": {"metrics_host": "10.0.0.5"}}, environ=env)
    assert s.ingest.metrics_host == "10.0.0.5"


@pytest.mark.parametrize("module", [sink_metrics, alert_metrics], ids=["ingest", "alerts"])
def test_serve_binds_the_given_host(module: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(module, "start_http_server", lambda port, addr, registry: calls.append((port, addr)))
    metrics = module.SinkMetrics() if module is sink_metrics else module.AlertMetrics()
    metrics.serve(9108)
    metrics.serve(9109, "0.0.0.0")
    assert calls == [(9108, "127.0.0.1"), (9109, "0.0.0.0")]


def test_default_metrics_server_answers_on_loopback_only() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    metrics = sink_metrics.SinkMetrics()
    metrics.serve(port)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "smartcity_ingest_messages_consumed" in text
    if not Path("/proc/net/tcp").exists():
        return  # not Linux: no portable way to list the listening address
    assert _listeners(port) == ["127.0.0.1"]


def _listeners(port: int) -> list[str]:
    """IPv4 addresses listening on ``port`` (state 0A in /proc/net/tcp; addresses little-endian hex)."""
    found: list[str] = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        host_hex, port_hex = fields[1].split(":")
        if fields[3] == "0A" and int(port_hex, 16) == port:
            found.append(socket.inet_ntoa(bytes.fromhex(host_hex)[::-1]))
    return found
