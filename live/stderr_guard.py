"""Standard error that cannot kill the server.

The embedded SurrealDB engine prints from Rust (``Repairing corrupted segment…`` when it reopens a
store after a failed write), and Rust aborts the whole process when such a print fails: a log file
on the very disk that just filled up. :class:`StderrGuard` puts a pipe in front of file descriptor 2
and copies it to the real standard error on a thread, dropping (and counting) what cannot be
written, so writes to descriptor 2 never fail while the guard is in place.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Self


class StderrGuard:
    """Route descriptor 2 through a pipe until :meth:`close`; usable as a context manager."""

    def __init__(self) -> None:
        self.dropped = 0
        """Bytes the real standard error refused (a full disk) and that were dropped."""
        sys.stderr.flush()
        self._target = os.dup(2)
        self._read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self._thread = threading.Thread(target=self._copy, name="stderr-guard", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        while chunk := os.read(self._read, 65536):
            view = memoryview(chunk)
            try:
                while view:
                    view = view[os.write(self._target, view):]
            except OSError:  # EFBIG, ENOSPC, EPIPE: the line is lost, never the process
                self.dropped += len(view)

    def close(self) -> None:
        """Put the real standard error back and copy what is still in the pipe."""
        sys.stderr.flush()
        os.dup2(self._target, 2)  # the pipe's last write end closes: the thread reads to its end
        self._thread.join(timeout=5)
        os.close(self._target)
        if not self._thread.is_alive():
            os.close(self._read)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
