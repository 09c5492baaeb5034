"""The health-check hook follows the heartbeat file."""

from __future__ import annotations

import os
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
