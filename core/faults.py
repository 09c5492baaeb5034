"""Named crash points for fault-injection tests.

``SMARTCITY_FAULT=<point>[:<n>]`` makes the process die with ``os._exit(137)`` (what ``kill -9``
leaves behind: no flush, no cleanup) the ``n``-th time (default 1st) it reaches ``fault_point(<point>)``.
Unset, a point costs one dictionary lookup. The points of the landing protocol are listed in
:data:`LANDING_POINTS`; the chaos tests crash at each of them.
"""

from __future__ import annotations

import os
import sys

LANDING_POINTS = ("staged", "manifest", "renamed", "recorded", "landed")
"""After the files are staged, after the manifest (the commit point), after the renames, after the
landed offset is recorded, after the batch is landed (before the Kafka offset commit)."""

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    wanted = os.environ.get("SMARTCITY_FAULT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        sys.stderr.write(f"fault injected at {name}\n")
        sys.stderr.flush()
        os._exit(137)
