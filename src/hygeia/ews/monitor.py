"""The monitoring pipeline: device messages and record Observations -> stored Observations, NEWS2, alerts.

One path for both sources. :func:`process_observations` takes FHIR Observations of one patient (from
ingestion, the API or a device), writes them (idempotent upsert), updates the patient's latest
values, scores NEWS2 on every update, stores the NEWS2 Observation and raises, persists and routes
alerts through :class:`hygeia.ews.alerts.AlertEngine`. :class:`Monitor` holds the warm state (per
patient latest values, the alert engine, the device gate) and :meth:`Monitor.handle` takes a batch of
MQTT messages in ONE transaction: the caller acknowledges the messages only after it returns (so a
crash before the commit means redelivery, and redelivery writes nothing twice: Observation ids are
derived from device id + device time + parameter).

Decision support for a clinician: scores and alerts inform, they do not replace, clinical judgement.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.ews.alerts import Alert, AlertEngine, AlertPolicy, PatientState
from hygeia.ews.devices import Accepted, Binding, DeviceReading, DeviceRegistry, Gate
from hygeia.ews.findings import Trend, news2_observation, trend_finding
from hygeia.ews.news2 import (
    AIR_OXYGEN,
    CONSCIOUSNESS,
    PULSE,
    RCP_2017,
    RCP_SOURCE,
    RISK_BY_LEVEL,
    RR,
    SBP,
    SPO2,
    TEMPERATURE,
    News2Result,
    Reading,
    ResponseLevel,
    canonical_parameter,
    parse_acvpu,
    parse_number,
    parse_on_oxygen,
)
from hygeia.ews.schema import (
    ews_alert_events,
    ews_alerts,
    ews_bindings,
    ews_counters,
    ews_devices,
    ews_patient_levels,
)
from hygeia.findings import to_fhir
from hygeia.records import codes
from hygeia.records.fhirpath import effective_time, observation_rows, parse_fhir_datetime, patient_of
from hygeia.records.store import Store

# NEWS2 parameter -> the vital sign (hygeia.records.codes.VITALS) it is stored as.
VITAL_OF = {
    RR: "respiratory_rate",
    SPO2: "spo2",
    SBP: "systolic_bp",
    PULSE: "heart_rate",
    TEMPERATURE: "temperature",
    CONSCIOUSNESS: "consciousness",
}
PARAMETER_OF_VITAL = {v: p for p, v in VITAL_OF.items()}
# "On supplemental oxygen (yes/no)" has no LOINC term we could verify: Hygeia's local code, valueBoolean.
ON_OXYGEN_CODE = "on-supplemental-oxygen"
SQLITE_CACHE_KIB = 64 * 1024  # page cache of the monitor's SQLite connection (the default is 2 MB)
ROOM_AIR_FIO2 = 21.0  # % — FiO2 above room air means supplemental oxygen
VITAL_CATEGORY = codes.concept(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")
ACVPU_DISPLAY = {"A": "Alert", "C": "New confusion", "V": "Voice", "P": "Pain", "U": "Unresponsive"}
# Codes whose index rows feed the NEWS2 state.
_STATE_CODES = sorted(
    {c for v in codes.VITALS if v.name in (*PARAMETER_OF_VITAL, "supplemental_oxygen") for c in v.codes}
    | {ON_OXYGEN_CODE}
)


_STATE_CODE_SET = frozenset(_STATE_CODES)


def feeds_news2(resource: dict[str, Any]) -> bool:
    """Is this an Observation coded (or with a component coded) as a vital sign NEWS2 uses?"""
    if resource.get("resourceType") != "Observation":
        return False
    for part in (resource, *(resource.get("component") or ())):
        code = part.get("code") if isinstance(part, dict) else None
        for c in (code.get("coding") or ()) if isinstance(code, dict) else ():
            if isinstance(c, dict) and c.get("code") in _STATE_CODE_SET:
                return True
    return False


class ReadingError(ValueError):
    """A device reading that cannot be stored (unknown parameter, not a number, impossible value)."""


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


@functools.lru_cache(maxsize=256)
def _time_texts(device_time: datetime) -> tuple[str, str]:
    """(ISO 8601 in UTC, ``yyyymmddhhmmss``) of a device time (the readings of a message share it)."""
    iso = _utc(device_time).isoformat()
    return iso, iso[0:4] + iso[5:7] + iso[8:10] + iso[11:13] + iso[14:16] + iso[17:19]


def observation_id(device_id: str, device_time: datetime, parameter: str) -> str:
    """Deterministic id: the same device reading always maps to the same Observation (idempotent)."""
    iso, compact = _time_texts(device_time)
    # time first: new ids land at the end of the primary-key B-trees (a few pages per commit) instead
    # of on a random leaf page each (three 4 KB pages written to the WAL per reading)
    return f"dev-{compact}-" + hashlib.sha256(f"{device_id}|{iso}|{parameter}".encode()).hexdigest()[:32]


# The code of each kind of reading, built once and shared by every Observation (never mutated, as
# VITAL_CATEGORY): parameter -> CodeableConcept.
_READING_CODES: dict[str, dict[str, Any]] = {
    "fio2": codes.concept(codes.LOINC, codes.FIO2, codes.VITAL_BY_CODE[codes.FIO2].display),
    "o2_flow": codes.concept(codes.LOINC, codes.O2_FLOW, codes.VITAL_BY_CODE[codes.O2_FLOW].display),
    AIR_OXYGEN: codes.concept(codes.HYGEIA_LOCAL, ON_OXYGEN_CODE, "On supplemental oxygen"),
    CONSCIOUSNESS: codes.concept(codes.SNOMED, codes.ACVPU_CODE,
                                 "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score"),
    **{p: codes.concept(codes.LOINC, codes.VITAL_BY_NAME[v].codes[0], codes.VITAL_BY_NAME[v].display)
       for p, v in VITAL_OF.items() if p != CONSCIOUSNESS},
}


def reading_observation(
    patient_id: str, device_id: str, device_time: datetime, reading: DeviceReading
) -> dict[str, Any]:
    """A FHIR R4 vital-sign Observation (LOINC code, UCUM unit) for one device reading."""
    name = reading.parameter.strip().lower()
    base: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITAL_CATEGORY],
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": _time_texts(device_time)[0],
        "device": {"display": f"hygeia device {device_id}"},
    }
    if name in ("fio2", "o2_flow"):
        unit = "%" if name == "fio2" else "L/min"
        value = _number(name, reading.value, 0, 100)
        return {**base, "id": observation_id(device_id, device_time, name), "code": _READING_CODES[name],
                "valueQuantity": {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}}
    try:
        param = canonical_parameter(name)
    except ValueError as exc:
        raise ReadingError(str(exc)) from None
    oid = observation_id(device_id, device_time, param)
    try:
        if param == AIR_OXYGEN:
            on = parse_on_oxygen(reading.value)
            return {**base, "id": oid, "code": _READING_CODES[param], "valueBoolean": on}
        if param == CONSCIOUSNESS:
            letter = parse_acvpu(reading.value)
            return {**base, "id": oid, "code": _READING_CODES[param],
                    "valueCodeableConcept": {"coding": [codes.coding(codes.HYGEIA_LOCAL, f"acvpu-{letter}",
                                                                     ACVPU_DISPLAY[letter])], "text": letter}}
        vital = codes.VITAL_BY_NAME[VITAL_OF[param]]
        raw = reading.value if not isinstance(reading.value, str) else reading.value.strip()
        value = parse_number(param, codes.to_canonical(float(raw), reading.unit, vital.unit)
                             if isinstance(raw, int | float) and not isinstance(raw, bool) else raw)
    except ValueError as exc:
        raise ReadingError(str(exc)) from None
    return {**base, "id": oid, "code": _READING_CODES[param],
            "valueQuantity": {"value": value, "unit": vital.unit, "system": codes.UCUM, "code": vital.unit}}


def _number(name: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReadingError(f"{name}: {value!r} is not a number")
    if not lo <= float(value) <= hi:
        raise ReadingError(f"{name}: {value} is outside {lo:g}-{hi:g}")
    return float(value)


def _reading_from_row(code: str, system: str, value_num: float | None, value_str: str | None,
                      unit: str | None) -> tuple[str, float | str | bool] | None:
    """(NEWS2 parameter, value) from one observation-index row, or None if it does not feed NEWS2."""
    if code == ON_OXYGEN_CODE:
        return (AIR_OXYGEN, value_str == "true") if value_str in ("true", "false") else None
    if system not in (codes.LOINC, codes.SNOMED):
        return None
    vital = codes.VITAL_BY_CODE.get(code)
    if vital is None:
        return None
    if vital.name == "supplemental_oxygen":
        if value_num is None:
            return None
        on = value_num > ROOM_AIR_FIO2 if code == codes.FIO2 or (unit or "") == "%" else value_num > 0
        return AIR_OXYGEN, on
    param = PARAMETER_OF_VITAL.get(vital.name)
    if param is None:
        return None
    if param == CONSCIOUSNESS:
        text = (value_str or "").removeprefix("acvpu-")
        try:
            return param, parse_acvpu(text)
        except ValueError:
            return None
    if value_num is None:
        return None
    return param, codes.to_canonical(value_num, unit, vital.unit)


def _reading_of(obs: dict[str, Any]) -> tuple[str, float | str | bool] | None:
    """(parameter, value) of an Observation made by :func:`reading_observation` (no component walk)."""
    coding = obs["code"]["coding"][0]
    qty = obs.get("valueQuantity")
    if qty is not None:
        return _reading_from_row(coding["code"], coding["system"], qty["value"], None, qty.get("code"))
    if "valueBoolean" in obs:
        return _reading_from_row(coding["code"], coding["system"], None, "true" if obs["valueBoolean"] else "false",
                                 None)
    cc = obs["valueCodeableConcept"]["coding"][0]["code"]
    return _reading_from_row(coding["code"], coding["system"], None, cc, None)


def readings_from_observations(
    observations: Iterable[dict[str, Any]],
) -> list[tuple[datetime | None, dict[str, Reading]]]:
    """NEWS2 readings in FHIR Observations, grouped by effective time (oldest first)."""
    by_time: dict[datetime | None, dict[str, Reading]] = {}
    for obs in observations:
        if obs.get("resourceType") != "Observation" or obs.get("status") in ("entered-in-error", "cancelled"):
            continue
        ref = f"Observation/{obs['id']}" if obs.get("id") else None
        for row in observation_rows({**obs, "id": obs.get("id", "")}):
            found = _reading_from_row(row["code"], row["system"], row["value_num"], row["value_str"], row["unit"])
            if found is not None:
                when = row["effective"]
                by_time.setdefault(when, {})[found[0]] = Reading(found[1], when, ref)
    return sorted(by_time.items(), key=lambda kv: (kv[0] is not None, kv[0] or datetime.min.replace(tzinfo=UTC)))


# --------------------------------------------------------------------------------------------------
# Persistence of alerts, levels, counters and the device registry


def alert_json(alert: Alert, *, ward: str | None, summary: str, status: str) -> dict[str, Any]:
    return {
        "id": alert.id,
        "patient_id": alert.patient_id,
        "ward": ward,
        "level": int(alert.level),
        "level_name": alert.level.name.lower(),
        "risk": RISK_BY_LEVEL[alert.level],
        "total": alert.total,
        "recipients": list(alert.recipients),
        "status": status,
        "summary": summary,
        "raised": alert.raised.isoformat(),
        "last_sent": alert.last_sent.isoformat(),
        "sends": alert.sends,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "superseded_by": alert.superseded_by,
        "source": RCP_SOURCE,
        "notice": DECISION_SUPPORT_NOTICE,
    }


def _status(alert: Alert) -> str:
    if alert.superseded_by:
        return "superseded"
    return "acknowledged" if alert.acknowledged_at else "open"


def _alert_row(alert: Alert, ward: str | None, summary: str) -> dict[str, Any]:
    return {"id": alert.id, "patient_id": alert.patient_id, "ward": ward, "level": int(alert.level),
            "total": alert.total, "risk": RISK_BY_LEVEL[alert.level], "recipients": list(alert.recipients),
            "summary": summary, "status": _status(alert), "raised": alert.raised, "last_sent": alert.last_sent,
            "sends": alert.sends, "acknowledged_by": alert.acknowledged_by,
            "acknowledged_at": alert.acknowledged_at, "superseded_by": alert.superseded_by}


def _aware(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)


def _alert_from_row(row: Any) -> Alert:
    return Alert(id=row.id, patient_id=row.patient_id, level=ResponseLevel(row.level), total=row.total,
                 recipients=tuple(row.recipients), raised=_aware(row.raised) or row.raised,
                 last_sent=_aware(row.last_sent) or row.last_sent, sends=row.sends,
                 acknowledged_by=row.acknowledged_by, acknowledged_at=_aware(row.acknowledged_at),
                 superseded_by=row.superseded_by)


def row_json(row: Any) -> dict[str, Any]:
    """An ``ews_alerts`` row as the alert JSON of the API."""
    alert = _alert_from_row(row)
    return alert_json(alert, ward=row.ward, summary=row.summary, status=row.status)


_ADD_COUNT = (update(ews_counters).where(ews_counters.c.name == bindparam("counter"))
              .values(count=ews_counters.c.count + bindparam("delta")))  # built once: compiled once


def add_counts(conn: Connection, deltas: Mapping[str, int]) -> None:
    """Add to the named counters (creating those that do not exist yet)."""
    todo = {name: n for name, n in deltas.items() if n}
    if not todo:
        return
    existing = set(conn.execute(select(ews_counters.c.name).where(ews_counters.c.name.in_(list(todo)))).scalars())
    if existing:
        conn.execute(_ADD_COUNT, [{"counter": k, "delta": n} for k, n in todo.items() if k in existing])
    if len(existing) < len(todo):
        conn.execute(insert(ews_counters), [{"name": k, "count": n} for k, n in todo.items() if k not in existing])


def read_counters(store: Store) -> dict[str, int]:
    """The monitor's counters (accepted, rejected:<reason>, readings-stored, ...), summed over runs."""
    with store.engine.connect() as conn:
        return {n: int(c) for n, c in conn.execute(select(ews_counters.c.name, ews_counters.c.count)
                                                     .order_by(ews_counters.c.name))}


def register_device(store: Store, device_id: str, key: bytes) -> None:
    """Add (or re-key) a device. Keys are at least 16 bytes (checked by the registry)."""
    DeviceRegistry().register(device_id, key)
    with store.engine.begin() as conn:
        conn.execute(delete(ews_devices).where(ews_devices.c.device_id == device_id))
        conn.execute(insert(ews_devices).values(device_id=device_id, key=key, created=datetime.now(UTC)))


def bind_device(store: Store, binding: Binding, ward: str | None = None) -> None:
    """Bind a registered device to a patient for a period; refuses overlaps (names the other binding)."""
    registry = load_registry(store)
    registry.bind(binding)  # raises ValueError naming the conflict
    with store.engine.begin() as conn:
        conn.execute(insert(ews_bindings).values(device_id=binding.device_id, patient_id=binding.patient_id,
                                                 ward=ward, start=binding.start, end=binding.end))


def load_registry(store: Store, conn: Connection | None = None) -> DeviceRegistry:
    if conn is None:
        with store.engine.connect() as own:
            return load_registry(store, own)
    registry = DeviceRegistry()
    for device_id, key in conn.execute(select(ews_devices.c.device_id, ews_devices.c.key)):
        registry.keys[device_id] = bytes(key)
    for b in conn.execute(select(ews_bindings).order_by(ews_bindings.c.id)):
        registry.bindings.append(Binding(b.device_id, b.patient_id, _aware(b.start) or b.start, _aware(b.end)))
    return registry


def _wards(conn: Connection) -> dict[str, str]:
    return {b.patient_id: b.ward for b in conn.execute(select(ews_bindings).order_by(ews_bindings.c.id)) if b.ward}


def acknowledge_alert(store: Store, alert_id: str, username: str, now: datetime | None = None) -> dict[str, Any]:
    """Acknowledge an alert (idempotent: a second acknowledgement keeps the first). KeyError if unknown."""
    now = now or datetime.now(UTC)
    with store.engine.begin() as conn:
        row = conn.execute(select(ews_alerts).where(ews_alerts.c.id == alert_id)).first()
        if row is None:
            raise KeyError(alert_id)
        if row.acknowledged_at is None:
            conn.execute(update(ews_alerts).where(ews_alerts.c.id == alert_id).values(
                acknowledged_by=username, acknowledged_at=now,
                status="acknowledged" if row.status == "open" else row.status))
            row = conn.execute(select(ews_alerts).where(ews_alerts.c.id == alert_id)).one()
            conn.execute(insert(ews_alert_events).values(alert_id=alert_id, patient_id=row.patient_id, ward=row.ward,
                                                         time=now, event="acknowledged", detail=row_json(row)))
        return row_json(row)


# --------------------------------------------------------------------------------------------------
# The pipeline


@dataclass(frozen=True)
class Outcome:
    """What one patient's update produced (``alerts`` are the alert JSONs to deliver).

    ``result`` is the full NEWS2 result; device batches (:meth:`Monitor.handle`) leave it ``None``
    when the score did not change (nothing was stored)."""

    patient_id: str
    result: News2Result | None
    trend: Trend | None
    alerts: list[dict[str, Any]]
    news2_id: str | None


@dataclass
class BatchOutcome:
    accepted: int = 0
    rejected: int = 0
    readings: int = 0
    invalid_readings: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def alerts(self) -> list[dict[str, Any]]:
        return [a for o in self.outcomes for a in o.alerts]


AlertHook = Callable[[dict[str, Any]], None]


@dataclass
class PreparedBatch:
    """A verified and scored batch of device messages, not yet written (:meth:`Monitor.prepare`)."""

    outcome: BatchOutcome
    pending: _Pending
    readings: list[dict[str, Any]]
    counts: dict[str, int]

    def to_wire(self) -> bytes:
        """What :func:`write_prepared` needs, for a writer process: the FHIR resources as JSON (fast),
        the alert rows (with datetimes) pickled. ``outcome`` stays behind."""
        p = self.pending
        fhir = orjson.dumps([self.readings, p.resources])
        rows = pickle.dumps((p.levels, p.alerts, p.superseded, p.events, self.counts), protocol=5)
        return len(fhir).to_bytes(8, "big") + fhir + rows

    @classmethod
    def from_wire(cls, data: bytes) -> PreparedBatch:
        n = int.from_bytes(data[:8], "big")
        readings, resources = orjson.loads(data[8 : 8 + n])
        levels, alerts, superseded, events, counts = pickle.loads(data[8 + n :])  # our own writer pipe only
        return cls(BatchOutcome(), _Pending(resources, levels, alerts, superseded, events), readings, counts)


def _sqlite_settings(conn: Connection, background_checkpoints: bool) -> None:
    """Once per pooled connection (and when the checkpointing changes): a 64 MB page cache (the
    observation index outgrows SQLite's 2 MB default and thrashes it) and, with a checkpointer thread
    (:class:`hygeia.ews.service.MqttMonitor`), no automatic checkpoints in our commits."""
    info = conn.connection.info
    wanted = (SQLITE_CACHE_KIB, 0 if background_checkpoints else 1000)
    if info.get("hygeia_monitor_pragmas") != wanted:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{wanted[0]}")
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={wanted[1]}")
        info["hygeia_monitor_pragmas"] = wanted


def write_prepared(store: Store, prepared: PreparedBatch, *, background_checkpoints: bool = False) -> None:
    """Write a prepared batch (readings, NEWS2, findings, alerts, counters) in one transaction.
    Batches must be written one at a time, in the order they were prepared."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            _sqlite_settings(conn, background_checkpoints)
        write_pending(store, conn, prepared.pending, prepared.readings)  # readings, NEWS2, findings: one bulk write
        add_counts(conn, prepared.counts)


def checkpoint_wal(store: Store) -> None:
    """SQLite: copy committed WAL pages into the database without waiting for readers or the writer
    (``PRAGMA wal_checkpoint(PASSIVE)``); nothing to do on other databases."""
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def write_pending(store: Store, conn: Connection, pending: _Pending, readings: Sequence[dict[str, Any]] = ()) -> None:
    """Write a batch's reading Observations and what their scoring produced, in bulk (a few
    statements per batch, not per patient)."""
    observations = [*readings, *(r for r in pending.resources if r.get("resourceType") == "Observation")]
    others = [r for r in pending.resources if r.get("resourceType") != "Observation"]
    if observations:
        store.write_observations(observations, conn)
    if others:
        store.write(others, conn)
    if pending.levels:
        ids = list(pending.levels)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(delete(ews_patient_levels).where(ews_patient_levels.c.patient_id.in_(chunk)))
        conn.execute(insert(ews_patient_levels), list(pending.levels.values()))
    if pending.alerts:
        conn.execute(insert(ews_alerts), pending.alerts)
    # superseded after the inserts: an alert raised and superseded in the same batch exists by now
    for old_id, new_id in pending.superseded:
        conn.execute(update(ews_alerts).where(ews_alerts.c.id == old_id).values(
            status="superseded", superseded_by=new_id))
    if pending.events:
        conn.execute(insert(ews_alert_events), pending.events)


@dataclass
class _Pending:
    """Rows one batch's scoring produced, written together by :meth:`Monitor._flush`."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    superseded: list[tuple[str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


class Monitor:
    """Warm monitoring state over a store: per-patient NEWS2 state, the alert engine and the device gate.

    Not thread-safe: one thread calls :meth:`handle`, :meth:`process` and :meth:`tick`. Alert hooks
    are called after the commit with the alert JSON (webhook, SSE, benchmarks).
    """

    def __init__(self, store: Store, *, staleness: timedelta = timedelta(hours=12),
                 policy: AlertPolicy | None = None, hooks: Sequence[AlertHook] = ()) -> None:
        self.store = store
        self.staleness = staleness
        self.engine = AlertEngine(policy or AlertPolicy())
        self.states: dict[str, PatientState] = {}
        self.hooks = list(hooks)
        self.trending: dict[str, bool] = {}
        self._summaries: dict[str, str] = {}
        # per patient: the last NEWS2 stored (score signature, Observation id) and the level row written
        self._stored_scores: dict[str, tuple[tuple[Any, ...], str]] = {}
        self._persisted_levels: dict[str, tuple[int, int]] = {}
        # SQLite: True when another thread runs checkpoint_wal(store) (commits then skip SQLite's automatic
        # checkpoint, which copied the WAL back into the database inside every ~3rd batch's commit)
        self.background_checkpoints = False
        with store.engine.connect() as conn:
            self.gate = Gate(load_registry(store, conn))
            self.wards = _wards(conn)
            for row in conn.execute(select(ews_alerts).where(ews_alerts.c.status == "open")):
                self.engine.alerts[row.id] = _alert_from_row(row)
                self._summaries[row.id] = row.summary
            for pid, level, total in conn.execute(select(ews_patient_levels.c.patient_id, ews_patient_levels.c.level,
                                                         ews_patient_levels.c.total)):
                self.engine.last_level[pid] = ResponseLevel(level)
                self._persisted_levels[pid] = (level, total)
        self._counted: Counter[str] = Counter()

    # -- state --------------------------------------------------------------------------------------
    def _warm(self, conn: Connection, patient_ids: Sequence[str], now: datetime) -> None:
        """Load the latest values within the staleness window of patients not yet held (one query per 500)."""
        todo = [p for p in dict.fromkeys(patient_ids) if p not in self.states]
        stored = self._stored_latest(conn, todo, now)
        for pid in todo:
            self.states[pid] = PatientState(pid, staleness=self.staleness, latest=stored.get(pid, {}))

    def _stored_latest(self, conn: Connection, patient_ids: Sequence[str],
                       now: datetime) -> dict[str, dict[str, Reading]]:
        """Each patient's latest stored value of each NEWS2 parameter within the staleness window."""
        from hygeia.records.schema import observation_index as oi

        out: dict[str, dict[str, Reading]] = {}
        ids = list(dict.fromkeys(patient_ids))
        for start in range(0, len(ids), 500):
            rows = conn.execute(select(oi.c.patient_id, oi.c.resource_id, oi.c.code, oi.c.system, oi.c.value_num,
                                       oi.c.value_str, oi.c.unit, oi.c.effective).where(and_(
                oi.c.patient_id.in_(ids[start : start + 500]), oi.c.code.in_(_STATE_CODES),
                oi.c.effective >= now - self.staleness,
                or_(oi.c.status.is_(None), oi.c.status.notin_(("entered-in-error", "cancelled"))),
            )).order_by(oi.c.effective))
            for r in rows:
                found = _reading_from_row(r.code, r.system, r.value_num, r.value_str, r.unit)
                if found is not None:
                    when = _aware(r.effective)
                    out.setdefault(r.patient_id, {})[found[0]] = Reading(found[1], when,
                                                                         f"Observation/{r.resource_id}")
        return out

    def rescore(self, patient_ids: Iterable[str], now: datetime | None = None) -> list[Outcome]:
        """Score patients once each from what the store holds: their latest vital signs within the
        staleness window (Observations written by another path, such as ``hygeia ingest``).

        A patient without a current vital sign is not scored (nothing stored, no alert). Stores the
        NEWS2 Observation and raises alerts as :meth:`handle` does, in one transaction.
        """
        now = now or datetime.now(UTC)
        outcomes: list[Outcome] = []
        with self.store.engine.begin() as conn:
            stored = self._stored_latest(conn, list(patient_ids), now)
            pending = _Pending()
            for pid, readings in stored.items():
                if pid not in self.states:
                    self.states[pid] = PatientState(pid, staleness=self.staleness)
                outcomes.append(self._score(conn, pid, [readings], now, pending))
            self._flush(conn, pending)
        self._deliver(a for o in outcomes for a in o.alerts)
        return outcomes

    def _state(self, conn: Connection | None, patient_id: str, now: datetime) -> PatientState:
        if patient_id not in self.states:
            if conn is None:
                with self.store.engine.connect() as own:
                    self._warm(own, [patient_id], now)
            else:
                self._warm(conn, [patient_id], now)
        return self.states[patient_id]

    def refresh_registry(self) -> None:
        with self.store.engine.connect() as conn:
            self.gate.registry = load_registry(self.store, conn)
            self.wards = _wards(conn)

    # -- scoring ------------------------------------------------------------------------------------
    def _score(self, conn: Connection | None, patient_id: str, updates: Sequence[Mapping[str, Reading]],
               now: datetime, pending: _Pending, *, full: bool = True) -> Outcome:
        state = self._state(conn, patient_id, now)
        trend: Trend | None = None
        total, level = 0, ResponseLevel.ROUTINE
        raised: list[Alert] = []
        scored = False
        for readings in updates:  # every update is scored (level, trend); the full result once at the end
            if not readings:
                continue
            scored = True
            total, red, level, trend = state.advance(readings, now)
            new = self.engine.on_score(patient_id, level, total, now)
            if new:
                summary = (f"NEWS2 {total}: {RISK_BY_LEVEL[level]} clinical risk — "
                           f"{RCP_2017.responses[level].text()}")
                for alert in new:
                    self._summaries[alert.id] = summary
                    raised.append(alert)
            was = self.trending.get(patient_id, False)
            self.trending[patient_id] = trend is not None
            if trend is not None and not was:
                pending.resources.append(to_fhir(trend_finding(patient_id, trend, any_red_3=red)))
        if not scored:
            return Outcome(patient_id, None, None, [], None)
        # A NEWS2 Observation is stored when the score changes (any parameter's points, the total, the
        # level, what is missing or stale): a steady stream re-scores every update without writing
        # the same score again. Outcome.news2_id is then the stored Observation that holds this score.
        # The full result (ages, references) is built only when it is stored or asked for (``full``).
        result = state.score(now) if full else None
        stored = self._stored_scores.get(patient_id)
        if stored is not None and stored[0] == state.signature:
            news2_id = stored[1]
        else:
            result = result or state.score(now)
            latest = max((r.time for r in state.latest.values() if r.time), default=now)
            news2_id = f"news2-{_utc(latest):%Y%m%d%H%M%S}-" + hashlib.sha256(
                f"{patient_id}|{_utc(latest).isoformat()}".encode()).hexdigest()[:32]
            pending.resources.append(news2_observation(patient_id, result, news2_id))
            self._stored_scores[patient_id] = (state.signature, news2_id)
        if self._persisted_levels.get(patient_id) != (int(level), total):
            self._persisted_levels[patient_id] = (int(level), total)
            pending.levels[patient_id] = {"patient_id": patient_id, "level": int(level),
                                          "total": total, "scored_at": now}
        out: list[dict[str, Any]] = []
        ward = self.wards.get(patient_id)
        for alert in raised:
            for old in [a for a in self.engine.alerts.values() if a.superseded_by == alert.id]:
                pending.superseded.append((old.id, alert.id))
                pending.events.append({"alert_id": old.id, "patient_id": patient_id, "ward": ward, "time": now,
                                       "event": "superseded", "detail": alert_json(
                                           old, ward=ward, summary=self._summaries.get(old.id, ""),
                                           status="superseded")})
            doc = alert_json(alert, ward=ward, summary=self._summaries[alert.id], status="open")
            pending.alerts.append(_alert_row(alert, ward, self._summaries[alert.id]))
            pending.events.append({"alert_id": alert.id, "patient_id": patient_id, "ward": ward, "time": now,
                                   "event": "raised", "detail": doc})
            out.append(doc)
        return Outcome(patient_id, result, trend, out, news2_id)

    def _flush(self, conn: Connection, pending: _Pending, readings: Sequence[dict[str, Any]] = ()) -> None:
        write_pending(self.store, conn, pending, readings)

    def _deliver(self, alerts: Iterable[dict[str, Any]]) -> None:
        for doc in alerts:
            for hook in self.hooks:
                hook(doc)

    def process(self, patient_id: str, observations: Sequence[dict[str, Any]], now: datetime | None = None,
                conn: Connection | None = None) -> Outcome:
        """Write one patient's Observations and score them (see :func:`process_observations`)."""
        now = now or datetime.now(UTC)
        for obs in observations:
            owner = patient_of(obs)
            if owner != patient_id:
                raise ValueError(f"Observation/{obs.get('id')}: subject is {owner!r}, not patient {patient_id!r}")
        if conn is None:
            with self.store.engine.begin() as own:
                outcome = self.process(patient_id, observations, now, own)
            self._deliver(outcome.alerts)
            return outcome
        if observations:
            self.store.write(observations, conn)
        updates = [r for _, r in readings_from_observations(observations)]
        pending = _Pending()
        outcome = self._score(conn, patient_id, updates, now, pending)
        self._flush(conn, pending)
        return outcome

    def handle(self, messages: Sequence[tuple[str, bytes]], now: datetime | None = None) -> BatchOutcome:
        """Verify, store and score a batch of MQTT messages in one transaction (then call the hooks).

        Returns only after the commit: the caller acknowledges the messages afterwards. Rejected
        messages are counted (``ews_counters``), never stored or scored. The same as
        ``commit(prepare(messages, now))``.
        """
        return self.commit(self.prepare(messages, now or datetime.now(UTC)))

    def prepare(self, messages: Sequence[tuple[str, bytes]], now: datetime) -> PreparedBatch:
        """Verify and score a batch in memory (the store is only read, for patients not yet held).

        The warm state advances here; :meth:`commit` must follow, in order, before the messages are
        acknowledged. If a commit fails, the warm state is ahead of the store: stop (a restarted
        monitor rebuilds it from the store and the broker redelivers what was not acknowledged).
        """
        batch = BatchOutcome()
        per_patient: dict[str, list[tuple[list[dict[str, Any]], dict[str, Reading]]]] = {}
        invalid: Counter[str] = Counter()
        for topic, payload in messages:
            admitted = self.gate.admit(topic, payload, now)
            if not isinstance(admitted, Accepted):
                batch.rejected += 1
                continue
            batch.accepted += 1
            obs, readings = self._message_observations(admitted, invalid)
            per_patient.setdefault(admitted.patient_id, []).append((obs, readings))
        batch.invalid_readings = sum(invalid.values())
        all_obs = [o for items in per_patient.values() for obs, _ in items for o in obs]
        batch.readings = len(all_obs)
        pending = _Pending()
        if any(p not in self.states for p in per_patient):
            with self.store.engine.connect() as conn:
                # state of patients not held yet comes from the store without this batch: its readings are the updates
                self._warm(conn, list(per_patient), now)
        for pid, items in per_patient.items():
            batch.outcomes.append(self._score(None, pid, [r for _, r in items], now, pending, full=False))
        deltas = self.gate.counts - self._counted
        self._counted = Counter(self.gate.counts)
        counts = {**deltas, **{f"invalid-reading:{k}": v for k, v in invalid.items()},
                  "readings-stored": batch.readings}
        return PreparedBatch(batch, pending, all_obs, counts)

    def commit(self, prepared: PreparedBatch) -> BatchOutcome:
        """Write a prepared batch (:func:`write_prepared`), then call the alert hooks."""
        write_prepared(self.store, prepared, background_checkpoints=self.background_checkpoints)
        self.delivered(prepared)
        return prepared.outcome

    def delivered(self, prepared: PreparedBatch) -> None:
        """Call the alert hooks for a batch that has been written (by :meth:`commit` or a writer process)."""
        self._deliver(prepared.outcome.alerts)

    def _message_observations(self, msg: Accepted, invalid: Counter[str]) -> tuple[list[dict[str, Any]],
                                                                                   dict[str, Reading]]:
        obs: list[dict[str, Any]] = []
        readings: dict[str, Reading] = {}
        for r in msg.readings:
            try:
                o = reading_observation(msg.patient_id, msg.device_id, msg.device_time, r)
            except ReadingError:
                invalid[r.parameter[:40]] += 1
                continue
            obs.append(o)
            found = _reading_of(o)
            if found is not None:
                readings[found[0]] = Reading(found[1], msg.device_time, f"Observation/{o['id']}")
        return obs, readings

    def tick(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Take acknowledgements made elsewhere (API, CLI) and re-send alerts not acknowledged in time."""
        now = now or datetime.now(UTC)
        open_ids = [a.id for a in self.engine.alerts.values() if a.open]
        resent: list[dict[str, Any]] = []
        with self.store.engine.begin() as conn:
            for start in range(0, len(open_ids), 500):
                chunk = open_ids[start : start + 500]
                for row in conn.execute(select(ews_alerts).where(and_(ews_alerts.c.id.in_(chunk),
                                                                      ews_alerts.c.status != "open"))):
                    self.engine.alerts[row.id] = _alert_from_row(row)
            for alert in self.engine.due(now):
                ward = self.wards.get(alert.patient_id)
                summary = self._summaries.get(alert.id, "")
                doc = alert_json(alert, ward=ward, summary=summary, status="open")
                conn.execute(update(ews_alerts).where(and_(ews_alerts.c.id == alert.id, ews_alerts.c.status == "open"))
                             .values(last_sent=alert.last_sent, sends=alert.sends))
                conn.execute(insert(ews_alert_events).values(alert_id=alert.id, patient_id=alert.patient_id,
                                                             ward=ward, time=now, event="resent", detail=doc))
                resent.append(doc)
        # forget closed alerts so the engine's scans stay small
        for aid in [a.id for a in self.engine.alerts.values() if not a.open]:
            del self.engine.alerts[aid]
            self._summaries.pop(aid, None)
        self._deliver(resent)
        return resent


def process_observations(store: Store, patient_id: str, observations: Sequence[dict[str, Any]], *,
                         monitor: Monitor | None = None, now: datetime | None = None) -> Outcome:
    """The record path: write ``observations`` of one patient, score NEWS2, store it, raise alerts.

    Used for ingested FHIR and for Observations POSTed through the API, and (through
    :class:`Monitor`) for device readings. Without a ``monitor`` a fresh one is built from the
    store (latest values within the staleness window, open alerts, last levels).
    """
    return (monitor or Monitor(store)).process(patient_id, observations, now)


def parse_time(text: str, field_name: str) -> datetime:
    """An ISO 8601 time with offset (for the CLI); ValueError names the field."""
    try:
        t = parse_fhir_datetime(text)
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        raise ValueError(f"{field_name}: {text!r} is not an ISO 8601 time with a UTC offset")
    return t


__all__ = ["Monitor", "Outcome", "acknowledge_alert", "bind_device", "effective_time", "feeds_news2", "load_registry",
           "parse_time", "process_observations", "read_counters", "reading_observation", "register_device"]


def open_alerts(store: Store, *, ward: str | None = None, patient_id: str | None = None) -> list[dict[str, Any]]:
    """Open alerts, most urgent first (level, then oldest), optionally for one ward or patient."""
    query = select(ews_alerts).where(ews_alerts.c.status == "open")
    if ward is not None:
        query = query.where(ews_alerts.c.ward == ward)
    if patient_id is not None:
        query = query.where(ews_alerts.c.patient_id == patient_id)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(ews_alerts.c.level.desc(), ews_alerts.c.raised, ews_alerts.c.id)).all()
    return [row_json(r) for r in rows]


def get_alert(store: Store, alert_id: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(ews_alerts).where(ews_alerts.c.id == alert_id)).first()
    return row_json(row) if row is not None else None


def last_event_seq(store: Store) -> int:
    from sqlalchemy import func

    with store.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(ews_alert_events.c.seq), 0))).scalar_one())


def alert_events(store: Store, after: int, *, ward: str | None = None, patient_id: str | None = None,
                 limit: int = 500) -> list[tuple[int, str, dict[str, Any]]]:
    """Alert events after sequence number ``after``: (seq, event, alert JSON), oldest first."""
    query = select(ews_alert_events).where(ews_alert_events.c.seq > after)
    if ward is not None:
        query = query.where(ews_alert_events.c.ward == ward)
    if patient_id is not None:
        query = query.where(ews_alert_events.c.patient_id == patient_id)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(ews_alert_events.c.seq).limit(limit)).all()
    return [(int(r.seq), r.event, dict(r.detail)) for r in rows]
