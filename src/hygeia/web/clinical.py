"""What the clinical pages show, computed from the store: the ward census with NEWS2, trends, risk,
pharmacogenomic flags and alerts; and one patient's chart. Pure reads (no writes, no audit: the routes
audit). Everything shown is decision support for a clinician.

NEWS2: Royal College of Physicians, National Early Warning Score (NEWS) 2, London 2017 — scored with
:func:`hygeia.ews.score_news2` on the latest value of each parameter (values older than 12 h are missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import and_, select

from hygeia.ews import Reading, score_news2
from hygeia.ews.monitor import open_alerts
from hygeia.ews.news2 import News2Result
from hygeia.records import codes
from hygeia.records.fhirpath import parse_fhir_datetime
from hygeia.records.record import PatientRecord
from hygeia.records.schema import observation_index, resources
from hygeia.records.store import Store

MAX_AGE = timedelta(hours=12)  # RCP: a NEWS2 from stale values is not current; Hygeia's staleness window
TREND_HOURS = 24
# SNOMED CT 426896000 chronic hypercapnic respiratory failure: NEWS2 SpO2 scale 2 candidates (RCP 2017,
# chart 1 — only where a clinician has prescribed a target of 88-92 %).
HYPERCAPNIC = "426896000"
# Phenotypes worth a flag on the ward (CPIC terms): altered metabolism or function; normal, indeterminate and
# "uncertain susceptibility" results are not flagged.
_FLAG = re.compile(r"(poor|intermediate|rapid|ultrarapid) metabolizer|(decreased|poor|increased) function|"
                   r"deficien|malignant hyperthermia susceptibility|positive", re.I)
_ABBREV = {"poor metabolizer": "PM", "intermediate metabolizer": "IM", "rapid metabolizer": "RM",
           "ultrarapid metabolizer": "UM", "likely poor metabolizer": "likely PM",
           "likely intermediate metabolizer": "likely IM", "decreased function": "DF", "poor function": "PF",
           "increased function": "IF", "possible decreased function": "possible DF"}
_VITAL_TO_NEWS2 = {"respiratory_rate": "rr", "spo2": "spo2", "systolic_bp": "sbp", "heart_rate": "pulse",
                   "temperature": "temp_c", "consciousness": "acvpu", "supplemental_oxygen": "on_oxygen"}
_NEWS2_CODES = sorted({c for v in codes.VITALS if v.name in _VITAL_TO_NEWS2 for c in v.codes}
                      | {"on-supplemental-oxygen"})  # = ON_OXYGEN
_VITAL_NAME = {code: v.name for code, v in codes.VITAL_BY_CODE.items()}
CHARTED = ("heart_rate", "respiratory_rate", "systolic_bp", "spo2", "temperature")  # the timeline's panels
ON_OXYGEN = "on-supplemental-oxygen"  # hygeia.ews.monitor's local code (valueBoolean)
ACVPU_WORDS = {"A": "Alert", "C": "New confusion", "V": "Voice", "P": "Pain", "U": "Unresponsive"}
VITAL_LABELS = {"heart_rate": "Pulse", "respiratory_rate": "Respiratory rate", "spo2": "SpO₂",
                "systolic_bp": "Systolic BP", "diastolic_bp": "Diastolic BP", "mean_bp": "Mean BP",
                "temperature": "Temperature", "consciousness": "Consciousness (ACVPU)",
                "supplemental_oxygen": "Supplemental O₂", "gcs": "GCS", "weight": "Weight", "height": "Height"}


def aware(t: Any) -> datetime | None:
    if t is None or (isinstance(t, float) and t != t) or t is pd.NaT:
        return None
    if isinstance(t, pd.Timestamp):
        t = t.to_pydatetime()
    if isinstance(t, str):
        t = parse_fhir_datetime(t)
    if not isinstance(t, datetime):
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def ago(t: datetime | None, now: datetime) -> str:
    """'12 min', '3 h 5 min', '2 d' — time since ``t``."""
    if t is None:
        return "never"
    minutes = int((now - t).total_seconds() // 60)
    if minutes < 0:
        return "in the future"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d"


def _acvpu(value: str | None) -> str | None:
    if not value:
        return None
    letter = value.strip().removeprefix("acvpu-").upper()[:1]
    return letter if letter in "ACVPU" else None


def _reading(name: str, value: float | None, value_str: str | None, unit: str | None) -> float | str | bool | None:
    if name == "consciousness":
        return _acvpu(value_str)
    if name == "supplemental_oxygen":
        if value is None or value != value:
            return None
        # FiO2 above room air (21 %) or any flow means supplemental oxygen
        return bool(value > 21.0) if unit == "%" else bool(value > 0)
    if value is None or value != value:
        return None
    return float(value)


@dataclass
class News2Point:
    time: datetime
    total: int
    complete: bool


def news2_series(rows: Iterable[tuple[str, float | None, str | None, str | None, datetime]], *, scale: int = 1,
                 since: datetime | None = None) -> tuple[list[News2Point], News2Result | None]:
    """NEWS2 at each observation time (latest value of each parameter carried forward, ≤ 12 h old);
    ``rows`` are (vital name, value, value_str, unit, time) in time order. Returns the series from
    ``since`` and the latest full result."""
    latest: dict[str, Reading] = {}
    points: list[News2Point] = []
    result: News2Result | None = None
    pending: datetime | None = None

    def score(at: datetime) -> None:
        nonlocal result
        try:
            r = score_news2(dict(latest), now=at, scale=scale, max_age=MAX_AGE)
        except ValueError:
            return
        result = r
        if since is None or at >= since:
            points.append(News2Point(at, r.total, r.complete))

    for name, value, value_str, unit, time in rows:
        param = _VITAL_TO_NEWS2.get(name)
        reading = _reading(name, value, value_str, unit) if param else None
        if param is None or reading is None or time is None:
            continue
        if pending is not None and time != pending:
            score(pending)
        latest[param] = Reading(reading, time)
        pending = time
    if pending is not None:
        score(pending)
    return points, result


def utc_times(series: pd.Series) -> pd.Series:
    """A time column as tz-aware UTC datetimes, without a per-row parse when it already is one."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_convert("UTC") if series.dt.tz is not None else series.dt.tz_localize("UTC")
    return pd.to_datetime(series, utc=True, cache=False)


def vital_rows(frame: pd.DataFrame) -> list[tuple[str, float | None, str | None, str | None, datetime]]:
    """PatientRecord.vitals() rows as (name, value, value_str, unit, time)."""
    if frame.empty:
        return []
    times = utc_times(frame["time"]).array.to_pydatetime()  # vectorised: no Timestamp per row
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    out = []
    for name, value, vstr, unit, t in zip(frame["name"].tolist(), values.tolist(), frame["value_str"].tolist(),
                                          frame["unit"].tolist(), times, strict=True):
        if isinstance(t, datetime) and isinstance(name, str):
            out.append((name, None if value != value else value, vstr if isinstance(vstr, str) else None,
                        unit if isinstance(unit, str) else None, t))
    return out


# ----------------------------------------------------------------------------------------------------
# Locations and the ward census


@dataclass(frozen=True)
class Places:
    """Location id -> display name, and bed -> its ward (Location.partOf)."""

    names: dict[str, str]
    ward_of: dict[str, str]

    def ward(self, reference: str | None, display: str | None) -> str | None:
        lid = (reference or "").removeprefix("Location/")
        ward_id = self.ward_of.get(lid, lid)
        return self.names.get(ward_id) or (display if lid not in self.ward_of else None)

    def is_ward(self, reference: str | None) -> bool:
        lid = (reference or "").removeprefix("Location/")
        return lid in self.names and lid not in self.ward_of


def load_places(store: Store) -> Places:
    names: dict[str, str] = {}
    parent: dict[str, str] = {}
    with store.engine.connect() as conn:
        for (content,) in conn.execute(select(resources.c.content).where(and_(
                resources.c.resource_type == "Location", resources.c.deleted.is_(False)))):
            loc = orjson.loads(content)
            names[loc["id"]] = loc.get("name") or loc["id"]
            part = ((loc.get("partOf") or {}).get("reference") or "").removeprefix("Location/")
            if part:
                parent[loc["id"]] = part
    ward_of: dict[str, str] = {}
    for lid in parent:
        top, seen = lid, set()
        while top in parent and top not in seen:  # a bed is part of a bay or a ward
            seen.add(top)
            top = parent[top]
        ward_of[lid] = top
    return Places(names, ward_of)


@dataclass(frozen=True)
class Stay:
    patient_id: str
    encounter_id: str
    ward: str
    bed: str | None
    admitted: datetime | None


def current_stays(store: Store, places: Places) -> list[Stay]:
    """Patients in hospital now: in-progress Encounters, placed at their current (open) location."""
    stays: list[Stay] = []
    with store.engine.connect() as conn:
        rows = conn.execute(select(resources.c.content).where(and_(
            resources.c.resource_type == "Encounter", resources.c.deleted.is_(False),
            resources.c.content.like("%in-progress%")))).all()  # prefilter; the status is checked below
    for (content,) in rows:
        enc = orjson.loads(content)
        if enc.get("status") != "in-progress" or not enc.get("location"):
            continue
        pid = ((enc.get("subject") or {}).get("reference") or "").removeprefix("Patient/")
        current = [loc for loc in enc["location"] if not (loc.get("period") or {}).get("end")] or enc["location"][-1:]
        ward = bed = None
        for loc in current:
            ref = (loc.get("location") or {}).get("reference")
            disp = (loc.get("location") or {}).get("display")
            if places.is_ward(ref):
                ward = places.names[ref.removeprefix("Location/")]  # type: ignore[union-attr]
            else:
                ward = ward or places.ward(ref, disp)
                bed = disp or ref
        if pid and ward:
            stays.append(Stay(pid, enc["id"], ward, bed, aware((enc.get("period") or {}).get("start"))))
    return sorted(stays, key=lambda s: (s.ward, s.bed or "", s.patient_id))


@dataclass
class WardRow:
    patient_id: str
    name: str
    age: int | None
    gender: str | None
    ward: str
    bed: str | None
    news2: int | None
    news2_complete: bool
    news2_risk: str | None
    sparkline: list[int]
    last_obs: datetime | None
    last_obs_ago: str
    risks: list[str]
    pgx_flags: list[str]
    alerts: list[dict[str, Any]]

    @property
    def top_alert_level(self) -> int:
        return max((int(a["level"]) for a in self.alerts), default=0)


def first(items: Any) -> dict[str, Any]:
    """The first dict of a FHIR list (or an empty dict)."""
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def _chunks(items: Sequence[str], n: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def pgx_flags(store: Store, patient_ids: Sequence[str]) -> dict[str, list[str]]:
    """Patient -> actionable-looking phenotypes ('CYP2C19 PM'), from the phenotype Observations."""
    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for chunk in _chunks(list(patient_ids)):
            ids = select(observation_index.c.resource_id).where(and_(
                observation_index.c.patient_id.in_(list(chunk)), observation_index.c.code == codes.PHENOTYPE_LOINC))
            for (content,) in conn.execute(select(resources.c.content).where(and_(
                    resources.c.resource_type == "Observation", resources.c.id.in_(ids)))):
                obs = orjson.loads(content)
                pid = ((obs.get("subject") or {}).get("reference") or "").removeprefix("Patient/")
                gene = _gene(obs)
                value = str(obs.get("valueString") or (obs.get("valueCodeableConcept") or {}).get("text") or "")
                if gene and value and _FLAG.search(value):
                    out.setdefault(pid, []).append(f"{gene} {_ABBREV.get(value.lower(), value)}")
    return {k: sorted(v) for k, v in out.items()}


def _gene(obs: dict[str, Any]) -> str | None:
    for comp in obs.get("component") or []:
        if any(c.get("code") == codes.GENE_STUDIED_LOINC for c in (comp.get("code") or {}).get("coding") or []):
            cc = comp.get("valueCodeableConcept") or {}
            return str(first(cc.get("coding")).get("display") or cc.get("text") or "") or None
    return None


def latest_risks(store: Store, patient_ids: Sequence[str]) -> dict[str, list[str]]:
    """Patient -> 'outcome 23 %' from the latest stored RiskAssessment per outcome (hygeia.risk writes them)."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    with store.engine.connect() as conn:
        for chunk in _chunks(list(patient_ids)):
            for (content,) in conn.execute(select(resources.c.content).where(and_(
                    resources.c.resource_type == "RiskAssessment", resources.c.deleted.is_(False),
                    resources.c.patient_id.in_(list(chunk))))):
                ra = orjson.loads(content)
                pid = ((ra.get("subject") or {}).get("reference") or "").removeprefix("Patient/")
                when = str(ra.get("occurrenceDateTime") or "")
                for pred in ra.get("prediction") or []:
                    outcome = ((pred.get("outcome") or {}).get("text")
                               or first((pred.get("outcome") or {}).get("coding")).get("display")
                               or "risk")
                    p = pred.get("probabilityDecimal")
                    label = f"{outcome} {p * 100:.0f} %" if isinstance(p, int | float) else str(outcome)
                    if when >= found.setdefault(pid, {}).get(outcome, ("", ""))[0]:
                        found[pid][outcome] = (when, label)
    return {pid: [label for _, label in by.values()] for pid, by in found.items()}


def ward_rows(store: Store, stays: Sequence[Stay], now: datetime) -> list[WardRow]:
    """One row per patient in ``stays``: NEWS2 now and over the last 24 h, last observation, risk, PGx, alerts."""
    ids = [s.patient_id for s in stays]
    if not ids:
        return []
    vitals: dict[str, list[tuple[str, float | None, str | None, str | None, datetime]]] = {p: [] for p in ids}
    since = now - timedelta(hours=TREND_HOURS) - MAX_AGE
    with store.engine.connect() as conn:
        for chunk in _chunks(ids):
            q = select(observation_index.c.patient_id, observation_index.c.code, observation_index.c.value_num,
                       observation_index.c.value_str, observation_index.c.unit, observation_index.c.effective).where(
                and_(observation_index.c.patient_id.in_(list(chunk)), observation_index.c.code.in_(_NEWS2_CODES),
                     observation_index.c.effective >= since, observation_index.c.effective <= now)
            ).order_by(observation_index.c.effective)
            for pid, code, value, vstr, unit, eff in conn.execute(q):
                name = _VITAL_NAME.get(code, "supplemental_oxygen" if code == ON_OXYGEN else "")
                t = aware(eff)
                if name and t is not None:
                    if code == ON_OXYGEN:
                        value, unit = (1.0 if (vstr or "").lower() in ("true", "1") or value else 0.0), "flag"
                    elif name == "temperature" and unit and unit != "Cel":
                        value = codes.to_canonical(value, unit, "Cel") if value is not None else None
                    vitals[pid].append((name, value, vstr, unit, t))
        patients = {pid: orjson.loads(c) for pid, c in conn.execute(select(resources.c.id, resources.c.content).where(
            and_(resources.c.resource_type == "Patient", resources.c.id.in_(ids))))}
        scale2 = set(conn.execute(select(resources.c.patient_id).where(and_(
            resources.c.resource_type == "Condition", resources.c.patient_id.in_(ids),
            resources.c.content.like(f"%{HYPERCAPNIC}%")))).scalars())
    flags = pgx_flags(store, ids)
    risks = latest_risks(store, ids)
    alerts: dict[str, list[dict[str, Any]]] = {}
    for a in open_alerts(store):
        alerts.setdefault(a["patient_id"], []).append(a)
    rows = []
    for stay in stays:
        pid = stay.patient_id
        series, _ = news2_series(vitals[pid], scale=2 if pid in scale2 else 1, since=now - timedelta(hours=24))
        last = max((r[4] for r in vitals[pid]), default=None)
        current = news2_now(vitals[pid], now, scale=2 if pid in scale2 else 1)
        patient = patients.get(pid, {"id": pid})
        record = PatientRecord(store, patient)
        demo = record.demographics()
        rows.append(WardRow(
            patient_id=pid, name=demo.name or pid, age=demo.age(now.date()), gender=demo.gender, ward=stay.ward,
            bed=stay.bed, news2=current.total if current else None,
            news2_complete=bool(current and current.complete), news2_risk=current.risk if current else None,
            sparkline=[p.total for p in series][-48:], last_obs=last, last_obs_ago=ago(last, now),
            risks=risks.get(pid, []), pgx_flags=flags.get(pid, []), alerts=alerts.get(pid, [])))
    return rows


def news2_now(rows: Sequence[tuple[str, float | None, str | None, str | None, datetime]], now: datetime,
              scale: int = 1) -> News2Result | None:
    """NEWS2 at ``now`` from the latest value of each parameter (older than 12 h: missing)."""
    latest: dict[str, Reading] = {}
    for name, value, value_str, unit, time in rows:
        param = _VITAL_TO_NEWS2.get(name)
        reading = _reading(name, value, value_str, unit) if param else None
        if param and reading is not None and time <= now:
            latest[param] = Reading(reading, time)
    if not latest:
        return None
    try:
        return score_news2(latest, now=now, scale=scale, max_age=MAX_AGE)
    except ValueError:
        return None


@dataclass
class Timeline:
    """A patient's vitals, labs and NEWS2 over a window, for the plots."""

    start: datetime
    end: datetime
    vitals: pd.DataFrame
    labs: pd.DataFrame
    news2: list[News2Point] = field(default_factory=list)


def oxygen_rows(store: Store, patient_id: str) -> pd.DataFrame:
    """The monitor's "on supplemental oxygen" flags as vitals rows (value 1/0, unit 'flag')."""
    rows = [{"time": aware(r.effective), "name": "supplemental_oxygen",
             "value": 1.0 if (str(r.value_str or "").lower() in ("true", "1") or r.value_num) else 0.0,
             "value_str": None, "unit": "flag", "code": ON_OXYGEN, "resource_id": r.resource_id}
            for r in store.observations(patient_id, [ON_OXYGEN])]
    frame = pd.DataFrame(rows, columns=["time", "name", "value", "value_str", "unit", "code", "resource_id"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def timeline(record: PatientRecord, now: datetime, days: int = 7, scale: int = 1, oxygen: pd.DataFrame | None = None,
             since: datetime | None = None, labs: pd.DataFrame | None = None) -> Timeline:
    """The last ``days`` days that have observations (ending at the newest one, or now); from ``since``
    (e.g. the admission) when that is later."""
    vit = record.vitals()
    if oxygen is not None and not oxygen.empty:
        vit = pd.concat([vit, oxygen], ignore_index=True)
        vit = vit.assign(time=utc_times(vit["time"])).sort_values("time", kind="stable")
    labs = record.labs() if labs is None else labs
    vit_t = utc_times(vit["time"])
    lab_t = utc_times(labs["time"])
    stamp = pd.Timestamp(now)
    charted = vit["name"].isin(CHARTED).to_numpy()
    past = [t.max() for t in (vit_t[charted & (vit_t <= stamp)], lab_t[lab_t <= stamp]) if len(t)]
    newest = max(past).to_pydatetime() if past else now
    start = newest - timedelta(days=days)
    if since is not None and start < since - timedelta(hours=12) < newest:
        start = since - timedelta(hours=12)
    window_v = vit[(vit_t >= start) & (vit_t <= now)]
    window_l = labs[(lab_t >= start) & (lab_t <= now)]
    rows = vital_rows(vit[(vit_t >= start - MAX_AGE) & (vit_t <= now)])
    series, _ = news2_series(rows, scale=scale, since=start)
    return Timeline(start, newest, window_v, window_l, series)


def scale_for(record: PatientRecord) -> int:
    """NEWS2 SpO2 scale 2 for recorded chronic hypercapnic respiratory failure (RCP 2017), else 1."""
    cond = record.conditions()
    return 2 if (cond["code"] == HYPERCAPNIC).any() else 1


def current_stay(record: PatientRecord) -> dict[str, Any] | None:
    enc = record.encounters()
    live = enc[enc["status"] == "in-progress"]
    if live.empty:
        return None
    row = live.iloc[-1]
    locs = row["locations"] or []
    return {"id": row["id"], "class": row["class"], "start": row["start"],
            "where": ", ".join(str(loc["location"]) for loc in locs if not loc.get("end")) or None}
