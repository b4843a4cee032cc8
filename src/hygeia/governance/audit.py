"""The audit trail: every access to patient data, append-only and hash-chained.

Each entry is AuditEvent-shaped (who, role, patient, resource, action, purpose of use, outcome,
time) and carries the SHA-256 of the previous entry's hash and its own content, so that an
edited, deleted or reordered entry breaks the chain (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select, text

from hygeia.records.schema import audit_log
from hygeia.records.store import Store, insert_many

try:
    import fcntl
except ImportError:  # not on POSIX: SQLite's busy timeout alone orders the writers
    fcntl = None  # type: ignore[assignment]

GENESIS = "0" * 64
_lock = threading.Lock()
# (process id, SQLite database file) -> descriptor of its chain lock file: a forked child opens its own, since
# flock belongs to the open file, which a child shares with its parent.
_lock_files: dict[tuple[int, str], int] = {}


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: datetime
    username: str
    role: str | None
    patient_id: str | None
    resource: str | None
    action: str
    purpose: str | None
    outcome: str
    detail: str | None


def _entry_hash(prev: str, fields: dict[str, Any]) -> str:
    payload = orjson.dumps({**fields, "time": fields["time"].astimezone(UTC).isoformat()}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev.encode() + payload).hexdigest()


def _fields(
    username: str,
    role: str | None,
    patient_id: str | None,
    resource: str | None,
    action: str,
    purpose: str | None,
    outcome: str,
    detail: str | None,
    time: datetime,
) -> dict[str, Any]:
    return {
        "time": time,
        "username": username,
        "role": role,
        "patient_id": patient_id,
        "resource": resource,
        "action": action,
        "purpose": purpose,
        "outcome": outcome,
        "detail": detail,
    }


def record(
    store: Store,
    *,
    username: str,
    role: str | None,
    action: str,
    patient_id: str | None = None,
    resource: str | None = None,
    purpose: str | None = "TREAT",
    outcome: str = "0",
    detail: str | None = None,
) -> None:
    """Append one entry in its own transaction. ``action`` is AuditEvent.action (C R U D E); outcome 0 = success."""
    with chain_transaction(store) as conn:
        append(conn, username=username, role=role, action=action, patient_id=patient_id, resource=resource,
               purpose=purpose, outcome=outcome, detail=detail)


@contextmanager
def chain_transaction(store: Store, *, durable: bool = False) -> Iterator[Connection]:
    """A write transaction that holds the chain's lock until it commits, so that other writes (a replay
    record, feedback rows) commit together with the entries :func:`append` adds — one commit per call.

    The lock spans processes (``hygeia serve --workers N``): PostgreSQL takes a transaction-scoped advisory
    lock; SQLite starts the transaction with ``BEGIN IMMEDIATE`` (the write lock, waited for up to the
    driver's busy timeout), so no two writers read the same head and fork the chain.

    ``durable``: on SQLite, commit with ``synchronous=FULL`` (the WAL is fsynced before the commit returns, so
    the entries survive a power cut, not only a crash of the process); the store's other writes use WAL with
    ``synchronous=NORMAL``. Meant for group commits (:func:`append_many`), where one fsync covers many entries.
    PostgreSQL commits are durable as configured (``synchronous_commit``, on by default).
    """
    with _lock, _file_lock(store), store.engine.connect() as conn:
        full = durable and conn.dialect.name == "sqlite"
        if full:
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
            conn.commit()
        try:
            with conn.begin():
                _lock_chain(conn)
                yield conn
        finally:
            if full:
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()


def append(
    conn: Connection,
    *,
    username: str,
    role: str | None,
    action: str,
    patient_id: str | None = None,
    resource: str | None = None,
    purpose: str | None = "TREAT",
    outcome: str = "0",
    detail: str | None = None,
) -> None:
    """Append one entry inside :func:`chain_transaction` (see :func:`record` for the fields)."""
    append_many(conn, [{"username": username, "role": role, "action": action, "patient_id": patient_id,
                        "resource": resource, "purpose": purpose, "outcome": outcome, "detail": detail}])


def append_many(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Append entries (each a dict of :func:`record`'s keyword arguments) in order inside
    :func:`chain_transaction`: the head is read once and the entries are chained to it and to each other,
    then inserted with one ``executemany`` (a group commit of many calls' entries)."""
    if not entries:
        return
    now = datetime.now(UTC)
    prev = conn.exec_driver_sql(_HEAD).scalar() or GENESIS
    rows = []
    for entry in entries:
        fields = _fields(entry["username"], entry.get("role"), entry.get("patient_id"), entry.get("resource"),
                         entry["action"], entry.get("purpose", "TREAT"), entry.get("outcome", "0"),
                         entry.get("detail"), now)
        digest = _entry_hash(prev, fields)
        rows.append((*fields.values(), prev, digest))
        prev = digest
    # One driver executemany (values through the columns' own bind processing, as SQLAlchemy's insert does).
    insert_many(conn, audit_log, [*_FIELD_NAMES, "prev_hash", "hash"], rows)


@contextmanager
def _file_lock(store: Store) -> Iterator[None]:
    """For a SQLite file, an exclusive ``flock`` on ``<database>-chainlock`` around the chain transaction.

    SQLite's busy handler polls for the write lock with growing sleeps (1, 2, 5, 10 ... 100 ms): a worker
    process whose neighbour commits back to back can starve for tens of milliseconds. The kernel hands a
    waited-for ``flock`` over the moment it is released, so chain writers of all processes take turns."""
    database = store.engine.url.database if store.engine.dialect.name == "sqlite" else None
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    key = (os.getpid(), database)
    fd = _lock_files.get(key)
    if fd is None:
        fd = _lock_files[key] = os.open(f"{database}-chainlock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


_HEAD = "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1"
_FIELD_NAMES = ["time", "username", "role", "patient_id", "resource", "action", "purpose", "outcome", "detail"]


def _lock_chain(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(748213)"))
    elif conn.dialect.name == "sqlite":
        # pysqlite opens transactions lazily, before the first INSERT: the head would be read outside it.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def query(
    store: Store, *, patient_id: str | None = None, username: str | None = None, limit: int = 1000,
    since: datetime | None = None, offset: int = 0,
) -> list[AuditEntry]:
    """Entries, newest first — e.g. "who looked at this patient"."""
    stmt = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit).offset(offset)
    if since is not None:
        stmt = stmt.where(audit_log.c.time >= since)
    if patient_id is not None:
        stmt = stmt.where(audit_log.c.patient_id == patient_id)
    if username is not None:
        stmt = stmt.where(audit_log.c.username == username)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        AuditEntry(
            r.seq, r.time, r.username, r.role, r.patient_id, r.resource, r.action, r.purpose, r.outcome, r.detail
        )
        for r in rows
    ]


_ACTION_DISPLAY = {"C": "create", "R": "read", "U": "update", "D": "delete", "E": "execute"}


def to_audit_event(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as a FHIR R4 AuditEvent (who, role, patient, what, action, purpose, outcome, when)."""
    agent: dict[str, Any] = {"who": {"display": entry.username}, "requestor": True}
    if entry.role:
        agent["role"] = [{"text": entry.role}]
    if entry.purpose:
        agent["purposeOfUse"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                              "code": entry.purpose}]}]
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": str(entry.seq),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "action": entry.action if entry.action in _ACTION_DISPLAY else "E",
        "recorded": entry.time.astimezone(UTC).isoformat() if entry.time.tzinfo
        else entry.time.replace(tzinfo=UTC).isoformat(),
        "outcome": entry.outcome, "agent": [agent],
        "source": {"observer": {"display": "Hygeia API"}},
    }
    if entry.detail:
        event["outcomeDesc"] = entry.detail
    entities = []
    if entry.patient_id:
        entities.append({"what": {"reference": f"Patient/{entry.patient_id}"}, "role": {"code": "1"}})
    if entry.resource:
        entities.append({"what": {"display": entry.resource}, "role": {"code": "4"}})
    if entities:
        event["entity"] = entities
    return event


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""
    head: str = GENESIS


def verify(store: Store, expected_head: str | None = None) -> ChainStatus:
    """Walk the chain; report the first entry that was edited, removed or moved.

    A hash chain cannot show that its newest entries were cut off; pass a head hash noted earlier
    (``hygeia audit verify`` prints it) as ``expected_head`` to detect truncation as well.
    """
    prev = GENESIS
    count = 0
    seen_head = expected_head is None
    with store.engine.connect() as conn:
        for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)):
            count += 1
            when = row.time if row.time.tzinfo else row.time.replace(tzinfo=UTC)
            fields = _fields(
                row.username,
                row.role,
                row.patient_id,
                row.resource,
                row.action,
                row.purpose,
                row.outcome,
                row.detail,
                when,
            )
            if row.prev_hash != prev:
                return ChainStatus(False, count, row.seq, "previous-hash link broken (entry deleted or reordered)")
            if _entry_hash(prev, fields) != row.hash:
                return ChainStatus(False, count, row.seq, "entry content does not match its hash (edited)")
            prev = row.hash
            seen_head = seen_head or row.hash == expected_head
    if not seen_head:
        return ChainStatus(False, count, None, "the expected head entry is missing (log truncated or replaced)")
    return ChainStatus(True, count, head=prev)
