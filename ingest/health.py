"""A heartbeat file for container health checks: the daemons touch it every loop; `smartcity health`
says whether it is fresh."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("smartcity.health")


class HealthSettings(BaseModel):
    """``[health]`` in smartcity.toml; ``SMARTCITY_HEARTBEAT`` sets the file."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    heartbeat: Path = Field(default=Path("/tmp/smartcity-heartbeat"),
                            description="file the daemons touch every loop and `smartcity health` reads")


@dataclass
class Heartbeat:
    """Touch ``path`` at most every ``every_s`` seconds (cheap enough for a hot loop).

    Several daemons may share one file (the default path, on one host): each writes its own temporary
    file and renames it over ``path``, so they never trip over each other's. A beat that cannot be
    written (a full disk, a folder that went away) is logged once and never stops the daemon: the file
    then grows stale and ``smartcity health`` says so."""

    path: Path
    every_s: float = 2.0
    _last: float = 0.0
    _failing: bool = False

    def beat(self, status: str = "ok") -> None:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            tmp.write_text(f"{time.time():.3f} {status}\n")
            tmp.replace(self.path)
        except OSError as exc:
            if not self._failing:
                log.warning("cannot write the heartbeat file %s (%s); `smartcity health` will find it stale",
                            self.path, exc.strerror or exc)
            self._failing = True
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        if self._failing:
            log.info("the heartbeat file %s is written again", self.path)
        self._failing = False


def heartbeat_status(path: Path) -> str:
    """What the daemon said with its last beat (``ok``, ``waiting for Kafka: ...``); empty without one."""
    try:
        return path.read_text().partition(" ")[2].strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the last beat, or None when there is none."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None
