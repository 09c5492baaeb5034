"""The health-check hook follows the heartbeat file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from smartcity.cli.main import main
from smartcity.ingest.health import Heartbeat, heartbeat_age


def test_health_follows_the_heartbeat(tmp_path: Path) -> None:
    beat_file = tmp_path / "hb"
    assert heartbeat_age(beat_file) is None
    assert main(["health", "--file", str(beat_file)]) == 1
    Heartbeat(beat_file, every_s=0).beat()
    assert main(["health", "--file", str(beat_file), "--max-age", "30"]) == 0
    old = time.time() - 120
    os.utime(beat_file, (old, old))
    assert main(["health", "--file", str(beat_file), "--max-age", "60"]) == 1


_BEATS = """
import sys, time
from pathlib import Path
from smartcity.ingest.health import Heartbeat
beat = Heartbeat(Path(sys.argv[1]), every_s=0)
for _ in range(3000):
    beat.beat("ok")
"""


def test_daemons_sharing_one_heartbeat_file_never_trip_over_each_other(tmp_path: Path) -> None:
    """Two members on one host with the same (default) heartbeat file: one crashed with FileNotFoundError
    when the other renamed the shared temporary file first."""
    path = tmp_path / "heartbeat"
    procs = [subprocess.Popen([sys.executable, "-c", _BEATS, str(path)], stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    assert path.read_text().endswith(" ok\n")
    assert [p.name for p in tmp_path.iterdir()] == ["heartbeat"]  # no temporary file left behind


def test_a_heartbeat_that_cannot_be_written_is_said_once_and_stops_nothing(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    beat = Heartbeat(tmp_path / "gone" / "heartbeat", every_s=0)
    with caplog.at_level(logging.WARNING, logger="smartcity.health"):
        for _ in range(5):
            beat.beat("ok")
    assert len([r for r in caplog.records if "cannot write the heartbeat" in r.getMessage()]) == 1
    (tmp_path / "gone").mkdir()
    beat.beat("ok")
    assert (tmp_path / "gone" / "heartbeat").read_text().endswith(" ok\n")
