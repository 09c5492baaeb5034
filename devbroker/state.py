"""What ``smartcity kafka start`` records, so that ``status`` and ``stop`` find exactly its processes
and commands with no broker configured find it: ``$SMARTCITY_CACHE/kafka/cluster.json``.

Light on purpose: the settings loader reads :func:`recorded_bootstrap` when no bootstrap servers
are configured, and nothing else of the development broker.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from smartcity.devbroker.maven import cache_dir


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0): look at its state
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


@dataclass
class Node:
    node_id: int
    port: int
    controller_port: int
    workdir: str
    pid: int = 0

    @property
    def log_file(self) -> Path:
        return Path(self.workdir) / "broker.out"


@dataclass
class ClusterState:
    """What ``kafka start`` records so that ``status`` and ``stop`` find exactly its processes."""

    version: str
    cluster_id: str
    workdir: str
    nodes: list[Node] = field(default_factory=list)
    started_at: float = 0.0
    start_seconds: float = 0.0
    persistent: bool = False  # started on a --data-dir: `kafka stop` keeps it, `kafka start --data-dir` reuses it

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        raw = json.loads(text)
        nodes = [Node(**n) for n in raw.pop("nodes")]
        return cls(nodes=nodes, **raw)


def state_file() -> Path:
    return cache_dir() / "kafka" / "cluster.json"


def read_state() -> ClusterState | None:
    path = state_file()
    if not path.exists():
        return None
    try:
        return ClusterState.from_json(path.read_text())
    except (ValueError, TypeError, KeyError):
        return None


def running_state() -> ClusterState | None:
    """The recorded cluster if all its brokers are alive, else None."""
    state = read_state()
    if state and state.nodes and all(pid_alive(n.pid) for n in state.nodes):
        return state
    return None


def write_state(state: ClusterState) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)


def clear_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_file().unlink()


def recorded_bootstrap() -> str | None:
    """The bootstrap servers of the development broker, if one is running."""
    state = running_state()
    return state.bootstrap_servers if state else None
