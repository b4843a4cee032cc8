"""The FHIR store: resources as validated R4 JSON with version history, and an observation index.

SQLite (a file, the embedded default) or PostgreSQL, chosen by the SQLAlchemy URL. The schema is
managed by Alembic (``migrations/``); :meth:`Store.init` brings a database up to date.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    String,
    Subquery,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from hygeia.records.fhirpath import effective_time, observation_rows, patient_of
from hygeia.records.schema import observation_index, resource_history, resources

MIGRATIONS = Path(__file__).with_name("migrations")
OBSERVATION_COLUMNS = ["resource_id", "system", "code", "category", "effective", "value_num", "value_str", "unit"]


def observation_frame_finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed columns (effective as UTC datetimes, value_num as float), ordered by time (stable)."""
    frame = frame[OBSERVATION_COLUMNS].copy()
    frame["effective"] = pd.to_datetime(frame["effective"], utc=True, format="ISO8601")
    frame["value_num"] = pd.to_numeric(frame["value_num"], errors="coerce").astype(float)
    return frame.sort_values("effective", kind="stable").reset_index(drop=True)


class StoreError(Exception):
    """A store operation failed; the message says why."""


class NotFound(StoreError):
    """The requested resource (or version) does not exist."""


@dataclass(frozen=True)
class StoredResource:
    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    content: dict[str, Any]


@dataclass(frozen=True)
class WriteSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def canonical_json(resource: dict[str, Any]) -> bytes:
    """Deterministic JSON of a resource without its ``meta.versionId``/``meta.lastUpdated``."""
    meta = resource.get("meta")
    if isinstance(meta, dict) and ("versionId" in meta or "lastUpdated" in meta):
        meta = {k: v for k, v in meta.items() if k not in ("versionId", "lastUpdated")}
        resource = {**resource, "meta": meta} if meta else {k: v for k, v in resource.items() if k != "meta"}
    return orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)


def _by_type(keys: Iterable[tuple[str, str]], chunk: int = 500) -> Iterator[tuple[str, list[str]]]:
    """(type, ids) groups of at most ``chunk`` ids: lookups that use the (type, id) primary key."""
    grouped: dict[str, list[str]] = {}
    for rtype, rid in keys:
        grouped.setdefault(rtype, []).append(rid)
    for rtype, ids in grouped.items():
        for start in range(0, len(ids), chunk):
            yield rtype, ids[start : start + chunk]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# (table, columns, dialect, paramstyle) -> (bind processors by column position, INSERT statement)
_INSERT_MANY: dict[tuple[str, tuple[str, ...], str, str], tuple[list[tuple[int, Any]], str]] = {}


def insert_many(conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) with one driver ``executemany``; values go through the
    columns' own bind processing (the dialect's datetime and boolean storage), as SQLAlchemy's insert does."""
    if not rows:
        return
    dialect = conn.dialect
    key = (table.name, tuple(columns), dialect.name, dialect.paramstyle)
    prepared = _INSERT_MANY.get(key)
    if prepared is None:
        procs = [(i, f) for i, c in enumerate(columns)
                 if (f := table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
        quote = dialect.identifier_preparer.quote
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join([placeholder(dialect)] * len(columns))})")
        prepared = _INSERT_MANY[key] = (procs, sql)
    procs, sql = prepared
    if procs:
        processed: list[tuple[Any, ...]] = []
        last: dict[int, tuple[Any, Any]] = {}  # a value repeated down a column (one timestamp) is converted once
        for row in rows:
            values = list(row)
            for i, f in procs:
                v = values[i]
                if v is not None:
                    seen = last.get(i)
                    if seen is not None and seen[0] is v:
                        values[i] = seen[1]
                    else:
                        values[i] = f(v)
                        last[i] = (v, values[i])
            processed.append(tuple(values))
        rows = processed
    conn.exec_driver_sql(sql, rows)


def select_in(conn: Connection, sql: str, keys: Sequence[Any], chunk: int = 500) -> Iterator[Any]:
    """Rows of plain ``sql`` whose ``{}`` is the placeholder list of an ``IN (…)``, for ``keys``, ``chunk`` keys a
    query (a driver statement: SQLAlchemy would compile a new IN list for every batch)."""
    for start in range(0, len(keys), chunk):
        part = tuple(keys[start : start + chunk])
        yield from conn.exec_driver_sql(sql.format(", ".join([placeholder(conn.dialect)] * len(part))), part)


def placeholder(dialect: Any) -> str:
    """The driver's positional placeholder."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _observation_versions(conn: Connection, ids: list[str]) -> dict[tuple[str, str], tuple[int, str]]:
    """(version, content hash) of the stored Observations among ``ids``."""
    sql = "SELECT id, version_id, content_hash FROM resources WHERE resource_type = 'Observation' AND id IN ({})"
    return {("Observation", rid): (version, chash) for rid, version, chash in select_in(conn, sql, ids)}


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and their directory is created."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # pre-ping (a round trip per checkout) finds server connections dropped while pooled; a SQLite
    # file connection cannot be dropped
    engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Access to one Hygeia database. Thread-safe through SQLAlchemy's connection pool."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    # -- schema -------------------------------------------------------------------------------
    def init(self) -> None:
        """Create or upgrade the schema to the latest migration (idempotent)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    # -- writes -------------------------------------------------------------------------------
    def write(self, batch: Sequence[dict[str, Any]], conn: Connection | None = None) -> WriteSummary:
        """Upsert resources (each with ``resourceType`` and ``id``) in one transaction.

        A resource whose content is unchanged keeps its version (re-ingestion creates nothing);
        a changed one gets the next ``meta.versionId``. All or nothing.
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.write(batch, own)
        now = datetime.now(UTC)
        prepared: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for res in batch:
            key = (res["resourceType"], res["id"])
            prepared[key] = (res, hashlib.sha256(canonical_json(res)).hexdigest())
        existing = self._current_versions(list(prepared), conn)
        new_rows: list[dict[str, Any]] = []
        changed_rows: list[dict[str, Any]] = []
        history_rows: list[dict[str, Any]] = []
        index_rows: list[dict[str, Any]] = []
        reindex: list[str] = []
        created = updated = unchanged = 0
        for key, (res, chash) in prepared.items():
            old = existing.get(key)
            if old is not None and old[1] == chash:
                unchanged += 1
                continue
            version = 1 if old is None else old[0] + 1
            stamped = {**res, "meta": {**res.get("meta", {}), "versionId": str(version),
                                       "lastUpdated": now.isoformat()}}
            text = orjson.dumps(stamped).decode()
            row = {"resource_type": key[0], "id": key[1], "version_id": version, "last_updated": now,
                   "patient_id": patient_of(res), "content_hash": chash, "deleted": False, "content": text}
            if old is None:
                new_rows.append(row)
                created += 1
            else:
                changed_rows.append(row)
                updated += 1
            history_rows.append({"resource_type": key[0], "id": key[1], "version_id": version,
                                 "last_updated": now, "deleted": False, "content": text})
            if key[0] == "Observation":
                if old is not None:
                    reindex.append(key[1])
                index_rows.extend(observation_rows(res))
        if new_rows:
            conn.execute(insert(resources), new_rows)
        for row in changed_rows:
            conn.execute(update(resources).where(and_(resources.c.resource_type == row["resource_type"],
                                                      resources.c.id == row["id"])).values(**row))
        if history_rows:
            conn.execute(insert(resource_history), history_rows)
        for start in range(0, len(reindex), 500):
            stale = reindex[start : start + 500]
            conn.execute(delete(observation_index).where(observation_index.c.resource_id.in_(stale)))
        if index_rows:
            conn.execute(insert(observation_index), index_rows)
        return WriteSummary(created, updated, unchanged)

    def write_observations(self, batch: Sequence[dict[str, Any]], conn: Connection) -> WriteSummary:
        """:meth:`write` for a stream of Observations (the monitor's): the same rows, fewer Python steps.

        Stores exactly what :meth:`write` stores (content with ``meta``, content hash, version 1 in
        the history, the observation index rows); an unchanged resource is skipped and a changed one
        goes through :meth:`write`. New rows are inserted with the driver's ``executemany`` (no
        per-row statement processing). Every element must be an Observation with an ``id``.
        """
        prepared: dict[str, tuple[dict[str, Any], str]] = {}
        for res in batch:
            if res.get("resourceType") != "Observation" or not isinstance(res.get("id"), str):
                raise ValueError(f"write_observations: {res.get('resourceType')}/{res.get('id')} is not an "
                                 "Observation with an id")
            prepared[res["id"]] = (res, hashlib.sha256(canonical_json(res)).hexdigest())
        existing = _observation_versions(conn, list(prepared))
        changed: list[dict[str, Any]] = []
        new_rows: list[tuple[Any, ...]] = []
        history_rows: list[tuple[Any, ...]] = []
        index_rows: list[dict[str, Any]] = []
        unchanged = 0
        now = datetime.now(UTC)
        stamp = now.isoformat()
        for rid, (res, chash) in prepared.items():
            old = existing.get(("Observation", rid))
            if old is not None:
                if old[1] == chash:
                    unchanged += 1
                else:
                    changed.append(res)
                continue
            text = orjson.dumps({**res, "meta": {**res.get("meta", {}), "versionId": "1",
                                                  "lastUpdated": stamp}}).decode()
            new_rows.append(("Observation", rid, 1, now, patient_of(res), chash, False, text))
            history_rows.append(("Observation", rid, 1, now, False, text))
            index_rows.extend(observation_rows(res))
        updated = self.write(changed, conn).updated if changed else 0
        insert_many(conn, resources, ["resource_type", "id", "version_id", "last_updated", "patient_id",
                                       "content_hash", "deleted", "content"], new_rows)
        insert_many(conn, resource_history, ["resource_type", "id", "version_id", "last_updated", "deleted",
                                              "content"], history_rows)
        cols = [c.name for c in observation_index.columns]
        insert_many(conn, observation_index, cols, list(map(operator.itemgetter(*cols), index_rows)))
        return WriteSummary(len(new_rows), updated, unchanged)

    def _current_versions(
        self, keys: list[tuple[str, str]], conn: Connection
    ) -> dict[tuple[str, str], tuple[int, str]]:
        existing: dict[tuple[str, str], tuple[int, str]] = {}
        for rtype, ids in _by_type(keys):
            rows = conn.execute(select(resources.c.id, resources.c.version_id, resources.c.content_hash).where(
                and_(resources.c.resource_type == rtype, resources.c.id.in_(ids))))
            for rid, version, chash in rows:
                existing[(rtype, rid)] = (version, chash)
        return existing

    def unchanged(self, batch: Sequence[dict[str, Any]], conn: Connection) -> set[tuple[str, str]]:
        """Keys of the resources in ``batch`` that are stored with exactly this content."""
        hashes: dict[tuple[str, str], str] = {}
        for r in batch:
            try:
                hashes[(r["resourceType"], r["id"])] = hashlib.sha256(canonical_json(r)).hexdigest()
            except TypeError:  # not storable as JSON: not unchanged; validation names the element
                continue
        current = self._current_versions(list(hashes), conn)
        return {key for key, (_, chash) in current.items() if hashes.get(key) == chash}

    def delete(self, resource_type: str, rid: str) -> None:
        """Mark a resource deleted (a new, empty history version); reads then return NotFound."""
        with self.engine.begin() as conn:
            current = conn.execute(select(resources.c.version_id).where(
                and_(resources.c.resource_type == resource_type, resources.c.id == rid,
                     resources.c.deleted.is_(False)))).scalar_one_or_none()
            if current is None:
                raise NotFound(f"{resource_type}/{rid} not found")
            now = datetime.now(UTC)
            conn.execute(update(resources).where(and_(resources.c.resource_type == resource_type,
                                                      resources.c.id == rid))
                         .values(deleted=True, version_id=current + 1, last_updated=now))
            conn.execute(insert(resource_history).values(resource_type=resource_type, id=rid,
                                                         version_id=current + 1, last_updated=now,
                                                         deleted=True, content="{}"))
            conn.execute(delete(observation_index).where(observation_index.c.resource_id == rid))

    # -- reads --------------------------------------------------------------------------------
    def exists(self, keys: Iterable[tuple[str, str]], conn: Connection | None = None) -> set[tuple[str, str]]:
        """Which of ``keys`` (type, id) are stored and not deleted."""
        wanted = list(keys)
        found: set[tuple[str, str]] = set()
        if not wanted:
            return found
        if conn is None:
            with self.engine.connect() as own:
                return self.exists(wanted, own)
        for rtype, ids in _by_type(wanted):
            rows = conn.execute(select(resources.c.id).where(
                and_(resources.c.resource_type == rtype, resources.c.id.in_(ids), resources.c.deleted.is_(False))))
            found.update((rtype, rid) for (rid,) in rows)
        return found

    def read_many(self, resource_type: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Current, non-deleted resources of one type by id (missing ids are simply absent)."""
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for rtype, chunk in _by_type((resource_type, i) for i in ids):
                rows = conn.execute(select(resources.c.id, resources.c.content).where(and_(
                    resources.c.resource_type == rtype, resources.c.id.in_(chunk), resources.c.deleted.is_(False))))
                out.update((rid, orjson.loads(content)) for rid, content in rows)
        return out

    def read(self, resource_type: str, rid: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(resources.c.content, resources.c.deleted).where(
                and_(resources.c.resource_type == resource_type, resources.c.id == rid))).first()
        if row is None or row.deleted:
            raise NotFound(f"{resource_type}/{rid} not found")
        result: dict[str, Any] = orjson.loads(row.content)
        return result

    def vread(self, resource_type: str, rid: str, version: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(resource_history.c.content, resource_history.c.deleted).where(
                and_(resource_history.c.resource_type == resource_type, resource_history.c.id == rid,
                     resource_history.c.version_id == version))).first()
        if row is None or row.deleted:
            raise NotFound(f"{resource_type}/{rid}/_history/{version} not found")
        result: dict[str, Any] = orjson.loads(row.content)
        return result

    def history(self, resource_type: str, rid: str) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(resource_history.c.version_id).where(
                and_(resource_history.c.resource_type == resource_type, resource_history.c.id == rid))
                .order_by(resource_history.c.version_id)).scalars())

    def search(
        self,
        resource_type: str,
        *,
        patient: str | None = None,
        code: str | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        count: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Resources of a type, filtered by patient, code (``system|code`` or ``code``) and date.

        Code and date filters use the observation index (Observations only). Returns the total
        number of matches and one page of resources, ordered by id.
        """
        query = select(resources.c.id, resources.c.content).where(
            and_(resources.c.resource_type == resource_type, resources.c.deleted.is_(False)))
        if patient is not None:
            query = query.where(resources.c.patient_id == patient)
        if code is not None or date_from is not None or date_to is not None:
            if resource_type != "Observation":
                raise StoreError("code and date search are supported for Observation only")
            sub = select(observation_index.c.resource_id)
            if code is not None:
                system, _, value = code.rpartition("|")
                sub = sub.where(observation_index.c.code == value)
                if system:
                    sub = sub.where(observation_index.c.system == system)
            if date_from is not None:
                sub = sub.where(observation_index.c.effective >= date_from)
            if date_to is not None:
                sub = sub.where(observation_index.c.effective < date_to)
            query = query.where(resources.c.id.in_(sub))
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(resources.c.id).limit(count).offset(offset)).all()
        return int(total), [orjson.loads(r.content) for r in rows]

    def patient_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(resources.c.id).where(
                and_(resources.c.resource_type == "Patient", resources.c.deleted.is_(False)))
                .order_by(resources.c.id)).scalars())

    def patient_resources(self, patient_id: str, types: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every current resource of one patient (the Patient itself included)."""
        query = select(resources.c.content).where(and_(
            resources.c.deleted.is_(False),
            (resources.c.patient_id == patient_id)))
        if types:
            query = query.where(resources.c.resource_type.in_(list(types)))
        with self.engine.connect() as conn:
            for (content,) in conn.execute(query.order_by(resources.c.resource_type, resources.c.id)):
                yield orjson.loads(content)

    def observations(self, patient_id: str, codes: Sequence[str] | None = None, *, latest: bool = False) -> list[Any]:
        """Rows of the observation index for a patient (optionally only some codes), by time.
        With ``latest``, only the most recent row(s) of each code."""
        oi = observation_index
        query = select(oi).where(oi.c.patient_id == patient_id)
        if codes is not None:
            query = query.where(oi.c.code.in_(list(codes)))
        if latest:
            last = self._newest(patient_id, codes)
            query = query.join(last, and_(oi.c.code == last.c.code, oi.c.effective == last.c.newest))
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(observation_index.c.effective)).all())

    @staticmethod
    def _newest(patient_id: str, codes: Sequence[str] | None) -> Subquery:
        """(code, newest effective) of one patient's index rows, as subquery ``last``."""
        oi = observation_index
        newest = select(oi.c.code, func.max(oi.c.effective).label("newest")).where(oi.c.patient_id == patient_id)
        if codes is not None:
            newest = newest.where(oi.c.code.in_(list(codes)))
        return newest.group_by(oi.c.code).subquery("last")

    def observation_frame(
        self, patient_id: str, codes: Sequence[str] | None = None, *, latest: bool = False
    ) -> pd.DataFrame:
        """The observation index of one patient as a DataFrame (OBSERVATION_COLUMNS), by time.

        With ``latest``, only the most recent row(s) of each code. Vectorised: rows come straight
        from the driver and times are parsed by pandas in one go.
        """
        oi = observation_index
        cols = [oi.c[c] for c in OBSERVATION_COLUMNS if c != "effective"]
        effective = type_coerce(oi.c.effective, String).label("effective")
        query = select(*cols, effective).where(oi.c.patient_id == patient_id)
        if codes is not None:
            query = query.where(oi.c.code.in_(list(codes)))
        if latest:
            last = self._newest(patient_id, codes)
            query = query.join(last, and_(oi.c.code == last.c.code, oi.c.effective == last.c.newest))
        names = [*(c for c in OBSERVATION_COLUMNS if c != "effective"), "effective"]
        with self.engine.connect() as conn:
            result = conn.execute(query)
            raw = result.cursor.fetchall() if result.cursor is not None else []  # plain tuples, no Row objects
            result.close()
        return observation_frame_finish(pd.DataFrame.from_records(raw, columns=names, coerce_float=False))

    def counts(self) -> dict[str, int]:
        """Number of current resources per type."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(resources.c.resource_type, func.count()).where(
                resources.c.deleted.is_(False)).group_by(resources.c.resource_type)).all()
        return {t: int(n) for t, n in rows}


__all__ = ["NotFound", "Store", "StoreError", "StoredResource", "WriteSummary", "canonical_json",
           "effective_time", "insert_many", "make_engine"]
