"""A real Apache Kafka 4.x on 127.0.0.1, started from Maven Central jars: no Docker.

Each node runs combined broker+controller (KRaft) with a static voter set, in a freshly
formatted data directory, on free ports. ``LocalCluster.start`` returns once every broker port
accepts connections (a Kafka broker opens its port only when it is ready to serve).

With ``data_dir`` the cluster lives in a directory of the caller's choosing
(``<data_dir>/node-<id>/{server.properties,data/,broker.out}``): formatted on first use, and
when its nodes already hold KRaft storage (``data/meta.properties``) started on that data again
with the same cluster id, node ids and ports, so topics, messages and committed offsets survive
a stop and start.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartcity.core.errors import BrokerError
from smartcity.devbroker.maven import KAFKA_VERSION, check_java, provision
from smartcity.devbroker.state import ClusterState, Node, pid_alive

READY_TIMEOUT_S = 90.0
META = "meta.properties"  # what `StorageTool format` writes into each log directory
LOCALE = ["-Duser.language=en", "-Duser.country=US"]

_BROKER_LOG4J = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.target = SYSTEM_OUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.req.name = kafka.request.logger
logger.req.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
"""
_TOOLS_LOG4J = _BROKER_LOG4J.replace("SYSTEM_OUT", "SYSTEM_ERR").replace("rootLogger.level = INFO",
                                                                         "rootLogger.level = WARN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def new_cluster_id() -> str:
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def read_properties(path: Path) -> dict[str, str]:
    """``key=value`` lines of a Java properties file (comments and blank lines skipped)."""
    props: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


@dataclass(frozen=True)
class StoredCluster:
    """A formatted cluster in a data directory: what a restart must reuse."""

    cluster_id: str
    nodes: list[Node]


def stored_cluster(data_dir: Path) -> StoredCluster | None:
    """The cluster ``data_dir`` holds, or None when nothing is formatted there yet.

    A directory that is formatted but cannot be restarted as it is (some nodes formatted and others
    not, nodes of different clusters, a bare Kafka log directory) is a :class:`BrokerError`.
    """
    data_dir = Path(data_dir)
    if (data_dir / META).exists():
        raise BrokerError(f"{data_dir} is a Kafka log directory itself; --data-dir takes the directory that "
                          f"holds the node-<id>/ folders of `smartcity kafka start`")
    node_dirs = [p for p in data_dir.glob("node-*") if p.is_dir()]
    formatted = [p for p in node_dirs if (p / "data" / META).exists()]
    if not formatted:
        return None
    if len(formatted) != len(node_dirs):
        missing = ", ".join(sorted(p.name for p in node_dirs if p not in formatted))
        raise BrokerError(f"{data_dir} is partly formatted ({missing} without data/{META}); "
                          f"remove it or choose another --data-dir")
    nodes: list[Node] = []
    cluster_ids: set[str] = set()
    for ndir in node_dirs:
        try:
            meta = read_properties(ndir / "data" / META)
            server = read_properties(ndir / "server.properties")
            ports = {name: int(port) for name, port in re.findall(r"(\w+)://[^,]*:(\d+)", server["listeners"])}
            node = Node(int(meta["node.id"]), ports["PLAINTEXT"], ports["CONTROLLER"], str(ndir))
            if int(server["node.id"]) != node.node_id:
                raise ValueError(f"node.id {server['node.id']} in server.properties, {node.node_id} in {META}")
            cluster_ids.add(meta["cluster.id"])
        except (OSError, KeyError, ValueError) as exc:
            raise BrokerError(f"cannot restart the Kafka data in {ndir}: {type(exc).__name__}: {exc}") from None
        nodes.append(node)
    if len(cluster_ids) != 1:
        raise BrokerError(f"the nodes in {data_dir} belong to different clusters ({', '.join(sorted(cluster_ids))})")
    return StoredCluster(cluster_ids.pop(), sorted(nodes, key=lambda n: n.node_id))


def _server_properties(node: Node, voters: str, replication: int, log_dirs: Path) -> str:
    min_isr = 1 if replication < 3 else 2
    lines = [
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.voters={voters}",
        f"listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
        "inter.broker.listener.name=PLAINTEXT",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={log_dirs}",
        "num.partitions=4",
        f"default.replication.factor={replication}",
        f"offsets.topic.replication.factor={replication}",
        "offsets.topic.num.partitions=4",
        f"transaction.state.log.replication.factor={replication}",
        f"transaction.state.log.min.isr={min_isr}",
        "transaction.state.log.num.partitions=4",
        f"share.coordinator.state.topic.replication.factor={replication}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        "group.initial.rebalance.delay.ms=0",
        "log.cleaner.dedupe.buffer.size=33554432",
        "num.network.threads=2",
        "num.io.threads=4",
        "",
    ]
    return "\n".join(lines)


@dataclass
class LocalCluster:
    """Start and stop a local KRaft cluster of ``brokers`` nodes: in a fresh ``run-*`` folder under
    ``workdir``, or in ``data_dir``, formatted only when it holds no cluster yet."""

    brokers: int = 1
    version: str = KAFKA_VERSION
    heap: str = "512m"
    workdir: Path | None = None
    data_dir: Path | None = None  # keep the data here and reuse it when already formatted
    state: ClusterState | None = None
    reused: bool = False  # the last start ran on existing data (nothing was formatted)
    on_progress: Callable[[str], None] = field(default=lambda msg: None, repr=False)

    def start(self) -> ClusterState:
        if self.brokers < 1:
            raise BrokerError(f"--brokers must be at least 1, got {self.brokers}")
        java = check_java()
        self.on_progress(f"resolving Kafka {self.version} jars")
        jars = provision(self.version)
        for attempt in range(2):  # a free port can be taken between choosing and binding it
            try:
                return self._start_once(java, jars.classpath)
            except _PortRace:
                self.stop()
                if self.data_dir is not None and self.state is not None:  # formatted just now: empty
                    for node in self.state.nodes:
                        shutil.rmtree(node.workdir, ignore_errors=True)
                if attempt == 1:
                    raise BrokerError("could not bind free ports for the broker twice in a row") from None
        raise AssertionError("unreachable")

    def _start_once(self, java: str, classpath: str) -> ClusterState:
        began = time.monotonic()
        stored: StoredCluster | None = None
        if self.data_dir is not None:
            run_dir = Path(self.data_dir).expanduser().resolve()
            run_dir.mkdir(parents=True, exist_ok=True)
            stored = stored_cluster(run_dir)
        else:
            root = Path(self.workdir) if self.workdir else Path(tempfile.mkdtemp(prefix="smartcity-kafka-"))
            root.mkdir(parents=True, exist_ok=True)
            run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=root))
        self.reused = stored is not None
        if stored is not None:
            if len(stored.nodes) != self.brokers:
                raise BrokerError(f"{run_dir} holds a {len(stored.nodes)}-node cluster, not {self.brokers}")
            nodes, cluster_id = stored.nodes, stored.cluster_id
            for node in nodes:
                for port in (node.port, node.controller_port):
                    if port_open(port):
                        raise BrokerError(f"port {port} of node {node.node_id} in {run_dir} is in use (is a broker "
                                          f"already running on this data?)")
        else:
            nodes = [Node(i + 1, free_port(), free_port(), str(run_dir / f"node-{i + 1}"))
                     for i in range(self.brokers)]
            cluster_id = new_cluster_id()
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
        replication = min(3, len(nodes))
        (run_dir / "log4j2.properties").write_text(_BROKER_LOG4J)
        (run_dir / "tools-log4j2.properties").write_text(_TOOLS_LOG4J)
        state = ClusterState(self.version, cluster_id, str(run_dir), nodes, started_at=time.time(),
                             persistent=self.data_dir is not None)
        self.state = state
        for node in nodes:
            ndir = Path(node.workdir)
            ndir.mkdir(parents=True, exist_ok=True)
            props = ndir / "server.properties"
            props.write_text(_server_properties(node, voters, replication, ndir / "data"))
            if stored is not None:
                self.on_progress(f"node {node.node_id}: reusing the data of cluster {cluster_id} in {ndir / 'data'}")
                continue
            self.on_progress(f"formatting node {node.node_id}")
            fmt = subprocess.run(
                [java, "-Xmx256m", *LOCALE, f"-Dlog4j2.configurationFile={run_dir / 'tools-log4j2.properties'}",
                 "-cp", classpath, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                 "-c", str(props)], capture_output=True, text=True)
            if fmt.returncode != 0:
                (ndir / "format.out").write_text(fmt.stdout + fmt.stderr)
                reason = (fmt.stderr.strip().splitlines() or ["unknown error"])[-1]
                raise BrokerError(f"formatting the Kafka data directory failed: {reason} (see {ndir / 'format.out'})")
        for node in nodes:
            ndir = Path(node.workdir)
            self.on_progress(f"starting node {node.node_id} on 127.0.0.1:{node.port}")
            if node.log_file.exists():  # the previous run's output, kept beside
                node.log_file.replace(node.log_file.with_name(node.log_file.name + ".1"))
            with node.log_file.open("wb") as out:
                proc = subprocess.Popen(
                    [java, f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                     "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent", *LOCALE,
                     f"-Dkafka.logs.dir={ndir / 'logs'}",
                     f"-Dlog4j2.configurationFile={run_dir / 'log4j2.properties'}",
                     "-cp", classpath, "kafka.Kafka", str(ndir / "server.properties")],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            node.pid = proc.pid
        self._wait_ready(state)
        state.start_seconds = round(time.monotonic() - began, 2)
        return state

    def _wait_ready(self, state: ClusterState) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        pending = list(state.nodes)
        while pending:
            for node in list(pending):
                if not pid_alive(node.pid):
                    text = node.log_file.read_text(errors="replace") if node.log_file.exists() else ""
                    if "Address already in use" in text and not self.reused:
                        raise _PortRace
                    raise BrokerError(f"Kafka node {node.node_id} exited during start-up: {_cause(text)} "
                                      f"(log: {node.log_file})")
                if port_open(node.port):
                    pending.remove(node)
            if pending and time.monotonic() > deadline:
                node = pending[0]
                raise BrokerError(f"Kafka node {node.node_id} did not accept connections on 127.0.0.1:{node.port} "
                                  f"within {READY_TIMEOUT_S:.0f} s (log: {node.log_file})")
            if pending:
                time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM exactly the processes this cluster started; SIGKILL those still alive after ``timeout``."""
        if not self.state:
            return
        stop_nodes(self.state.nodes, timeout)


class _PortRace(Exception):
    pass


def _cause(log_text: str) -> str:
    for line in reversed(log_text.splitlines()):
        if " ERROR " in line or "Exception" in line:
            return line.strip()[:300]
    tail = [ln for ln in log_text.splitlines() if ln.strip()]
    return tail[-1].strip()[:300] if tail else "no output"


def stop_nodes(nodes: list[Node], timeout: float = 30.0) -> list[int]:
    """Stop the given nodes by PID; returns the PIDs that were running."""
    running = [n.pid for n in nodes if n.pid and pid_alive(n.pid) and _is_our_broker(n)]
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in running:
        while pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap(pid)
    return running


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _is_our_broker(node: Node) -> bool:
    """Guard against PID reuse: the process must be a kafka.Kafka started with this node's config."""
    try:
        cmdline = Path(f"/proc/{node.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (not Linux): trust the recorded PID
    wanted = str(Path(node.workdir) / "server.properties").encode()
    return b"kafka.Kafka" in cmdline and wanted in cmdline
