"""Standard error on a disk that is full: a write to descriptor 2 fails without the guard (what makes
the embedded engine's Rust prints abort the server) and loses only the line with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_CHILD = """
import os, resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (200, resource.RLIM_INFINITY))
guarded = sys.argv[1] == "guarded"
if guarded:
    from smartcity.live.stderr_guard import StderrGuard
    guard = StderrGuard()
os.write(2, b"first line\\n")
try:
    for _ in range(2):  # the first write stops at the limit, the next one fails
        os.write(2, b"x" * 1000 + b"\\n")
except OSError as exc:
    os.write(1, f"refused: {exc.errno}".encode())
    raise SystemExit(0)
if guarded:
    guard.close()
    os.write(1, f"dropped: {guard.dropped}".encode())
"""


@pytest.mark.parametrize("mode", ["bare", "guarded"])
def test_a_full_disk_under_the_log_file_costs_lines_not_the_process(tmp_path: Path, mode: str) -> None:
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        done = subprocess.run([sys.executable, "-c", _CHILD, mode], stdout=subprocess.PIPE, stderr=stderr,
                              timeout=60)
    assert done.returncode == 0
    if mode == "bare":
        assert done.stdout.decode() == "refused: 27"  # EFBIG: the write that makes Rust's eprintln! abort
    else:
        assert log.read_bytes() == b"first line\n" + b"x" * (200 - 11)  # what fitted was copied through
        assert done.stdout.decode() == f"dropped: {2 * 1001 - (200 - 11)}"  # the rest, counted
