"""The live picture in SurrealDB: embedded (``surrealkv://``, the default) or a server (``ws://``).

One table per record kind (``vehicle``, ``sensor``, ``station``, ``alert``, ``fleet``), keyed by the
record's id, and ``position`` holding the next Kafka offset of every partition read. Each flush
writes the changed records, deletes the closed alerts and moves the positions in one transaction, so
a server killed at any point restarts from a picture and positions that belong together. Strings
from the wire are bound as query parameters, never spliced into SurrealQL.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from smartcity.core.errors import LiveError
from smartcity.live.settings import LiveSettings
from smartcity.live.state import KINDS, Changes, Record, public

Positions = dict[tuple[str, int], int]
OCCUPANCY_ORDER = ("EMPTY", "MANY_SEATS_AVAILABLE", "FEW_SEATS_AVAILABLE", "STANDING_ROOM_ONLY",
                   "CRUSHED_STANDING_ROOM_ONLY", "FULL", "NOT_ACCEPTING_PASSENGERS")

_SAVE = """
BEGIN TRANSACTION;
FOR $r IN $rows { UPSERT $r.rid CONTENT $r.doc RETURN NONE; };
FOR $c IN $closed { DELETE $c RETURN NONE; };
FOR $p IN $positions { UPSERT $p.rid CONTENT $p.doc RETURN NONE; };
COMMIT TRANSACTION;
"""


class LiveStore:
    """A connection to the live state; safe to share between the feed thread and API workers."""

    def __init__(self, settings: LiveSettings) -> None:
        from surrealdb import RecordID

        self._record_id = RecordID
        self.settings = settings
        path = settings.embedded_path()
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db: Any = self._connect()

    def _connect(self) -> Any:
        from surrealdb import Surreal

        settings = self.settings
        try:
            db: Any = Surreal(settings.store)
            db.connect()
            if settings.store_username and settings.store_password:
                db.signin({"username": settings.store_username, "password": settings.store_password.get_secret_value()})
            db.use(settings.store_namespace, settings.store_database)
        except Exception as exc:  # the SDK raises its own errors, OSError and RuntimeError from the engine
            raise LiveError(f"cannot open the live store {settings.store}: {_one_line(exc)} (check [live] store; "
                            "a surrealkv:// folder can be used by one server at a time)") from exc
        return db

    def reopen(self) -> None:
        """Connect again: after a failed write (a full disk) the embedded engine refuses every later one
        until it is reopened, from what it committed."""
        with self._lock:
            with contextlib.suppress(Exception):  # closing a failed connection may fail too; it is dropped anyway
                self._db.close()
            self._db = self._connect()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        with self._lock:
            try:
                return self._db.query(sql, params or {})
            except Exception as exc:
                raise LiveError(f"the live store refused a query: {_one_line(exc)}") from exc

    def save(self, changes: Changes, positions: Positions) -> None:
        """Write what changed and where the feed is, in one transaction."""
        rid = self._record_id
        rows = [{"rid": rid(kind, key), "doc": _doc(record)} for (kind, key), record in changes.records.items()]
        closed = [rid("alert", alert_id) for alert_id in changes.closed]
        where = [{"rid": rid("position", f"{topic}/{partition}"),
                  "doc": {"topic": topic, "partition": partition, "offset": offset}}
                 for (topic, partition), offset in positions.items()]
        self._query(_SAVE, {"rows": rows, "closed": closed, "positions": where})

    def load(self) -> tuple[list[tuple[str, Record]], Positions]:
        """Every stored record and the positions the feed goes on from."""
        records = [(kind, record) for kind in KINDS for record in self.select(kind)]
        positions = {(str(p["topic"]), int(p["partition"])): int(p["offset"])
                     for p in self._query("SELECT topic, partition, offset FROM position")}
        return records, positions

    def select(self, kind: str, *conditions: tuple[str, str, Any]) -> list[Record]:
        """Records of ``kind`` that meet every ``(field and operator, parameter, value)`` whose value is
        given (not None, empty string or empty list); values are bound as parameters."""
        if kind not in KINDS:
            raise LiveError(f"unknown record kind {kind!r}")
        given = [(test, name, value) for test, name, value in conditions if value not in (None, "", [])]
        where = f"WHERE {' AND '.join(f'{test} ${name}' for test, name, _ in given)}" if given else ""
        rows = self._query(f"SELECT * FROM {kind} {where} ORDER BY key",  # kind: one of KINDS
                           {name: value for _, name, value in given})
        return [_record(row) for row in rows]

    def vehicles(self, route: str | None = None, occupancy: list[str] | None = None,
                 at_least: str | None = None) -> list[Record]:
        """Vehicles, optionally of one route, in some occupancy states, or at least as full as ``at_least``."""
        states = list(occupancy or [])
        if at_least:
            states.extend(OCCUPANCY_ORDER[OCCUPANCY_ORDER.index(at_least):])
        return self.select("vehicle", ("route_id =", "route", route), ("occupancy INSIDE", "states", states))

    def sensors(self, category: str | None = None, min_aqi: int | None = None) -> list[Record]:
        return [public(r) for r in self.select("sensor", ("category =", "category", category),
                                               ("aqi >=", "min_aqi", min_aqi))]

    def alerts(self, kind: str | None = None, severity: str | None = None) -> list[Record]:
        return self.select("alert", ("kind =", "kind", kind), ("severity =", "severity", severity))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _doc(record: Record) -> Record:
    doc = {k: v for k, v in record.items() if k != "id"}
    doc["key"] = record["id"]
    return doc


def _record(row: Record) -> Record:
    out = {k: v for k, v in row.items() if k not in ("id", "key")}
    return {"id": row["key"], **out}
