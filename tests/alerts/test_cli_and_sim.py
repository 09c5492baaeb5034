"""`smartcity alerts` without a broker (help, one-line errors) and the simulator's outage episode."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from smartcity.cli.main import main
from smartcity.simulator import OutageEpisode, SimConfig, default_city, simulate
from smartcity.simulator.config import to_ms

from .reference import AIR_START


def test_help_explains_and_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example:" in text and "smartcity alerts --window 20s" in text
    for flag in ("--window", "--grace", "--idle-timeout", "--metrics-port", "--until-idle", "--crowding-ratio",
                 "--aqi-level", "--delay", "--silence-after", "--instance-id", "-X"):
        assert flag in text, flag


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--window", "20x"), "--window"),
        (("--grace", "soon"), "--grace"),
        (("--window", "0s"), "alerts.window"),
        (("--streams", "bus,trams"), "alerts.streams"),
        (("--crowding-ratio", "0"), "--crowding-ratio"),
        (("--window", "1.0005s"), "whole number of milliseconds"),
    ],
)
def test_bad_values_are_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    result = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "alerts", *args, "--bootstrap-servers",
                             "127.0.0.1:1"], capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smartcity: error:") and needle in lines[0], result.stderr


def test_an_outage_episode_silences_one_sensor_for_its_window() -> None:
    city = default_city()
    start, end = AIR_START + timedelta(minutes=30), AIR_START + timedelta(minutes=75)
    config = SimConfig(outage_rate_per_day=0.0, episodes=(OutageEpisode("AQ003", start, end),))
    readings = [(e.key, e.event_time_ms) for e in simulate(city, AIR_START, timedelta(hours=2), 1, ("air",), config)]
    baseline = [(e.key, e.event_time_ms)
                for e in simulate(city, AIR_START, timedelta(hours=2), 1, ("air",), SimConfig(outage_rate_per_day=0))]
    missing = set(baseline) - set(readings)
    assert missing and {k for k, _ in missing} == {"AQ003"}
    assert all(to_ms(start) <= t < to_ms(end) for _, t in missing)
    assert len(missing) == 45  # one reading a minute
    assert set(readings) <= set(baseline)
