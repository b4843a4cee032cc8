"""The content of each page beyond the ward: a patient's chart, the alert inbox, operations, the model
registry and cards, CDS feedback. Reads only; capabilities that are not installed or not computed give
a panel that says so instead of failing. Decision support for a qualified clinician.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import func, select

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.config import Settings
from hygeia.ews import news2_finding, rising_trend, trend_finding
from hygeia.ews.schema import ews_alert_events, ews_alerts
from hygeia.findings import Finding
from hygeia.records import codes
from hygeia.records.record import Demographics, PatientRecord
from hygeia.records.store import Store
from hygeia.web import clinical, figures

log = logging.getLogger("hygeia.web")
ACTIVE_MEDS = ("active", "draft", "on-hold")
PGX_CODES = (codes.GENOTYPE_LOINC, codes.PHENOTYPE_LOINC, codes.GENE_STUDIED_LOINC)
IMAGING_MODELS = Path(__file__).resolve().parent.parent / "imaging" / "models"


def finding_view(f: Finding) -> dict[str, Any]:
    """A Finding as the page shows it: summary, urgency, evidence, top drivers, suggestions, source."""
    return {"summary": f.summary, "indicator": f.indicator.value, "capability": f.capability, "kind": f.kind,
            "detail": f.detail, "evidence": [e.model_dump() for e in f.evidence],
            "drivers": [d.model_dump() for d in f.explanation[:5]],
            "suggestions": [s.label for s in f.suggestions], "source": f.source.label, "url": f.source.url,
            "version": f.version}


# ----------------------------------------------------------------------------------------------------
# pharmacogenomics


_kb_state: dict[str, Any] = {}


def knowledge_base() -> Any | None:
    """The PGx knowledge base (reference dir or an imported copy), loaded once; None when not installed."""
    if "kb" not in _kb_state:
        try:
            from hygeia.pgx.kb import cached_kb, default_kb_dir

            root = default_kb_dir()
            _kb_state["kb"] = cached_kb(str(root)) if root.is_dir() else None
        except Exception as exc:  # a broken KB must not take the chart down
            log.warning("pharmacogenomic knowledge base unavailable: %s", type(exc).__name__)
            _kb_state["kb"] = None
    return _kb_state["kb"]


PLAIN_PHENOTYPE = {
    "poor metabolizer": "your body breaks down some medicines through this gene much more slowly than most people",
    "intermediate metabolizer": "your body breaks down some medicines through this gene more slowly than most people",
    "rapid metabolizer": "your body breaks down some medicines through this gene faster than most people",
    "ultrarapid metabolizer": "your body breaks down some medicines through this gene much faster than most people",
    "normal metabolizer": "this gene works as expected for most medicines",
    "normal function": "this gene works as expected for most medicines",
    "decreased function": "this gene works less well than usual, which can change how some medicines act",
    "poor function": "this gene works much less well than usual, which can change how some medicines act",
    "increased function": "this gene works more than usual, which can change how some medicines act",
    "normal": "this gene works as expected",
    "uncertain susceptibility": "no change known to affect your medicines was found",
}


def plain_phenotype(text: str | None) -> str:
    if not text:
        return "no result"
    key = text.lower().removeprefix("likely ").removeprefix("possible ")
    return PLAIN_PHENOTYPE.get(key, f"result: {text} — ask your care team what this means for your medicines")


# ----------------------------------------------------------------------------------------------------
# the patient's chart


_views: dict[tuple[Any, ...], list[dict[str, Any]]] = {}


def _pheno_key(phenotypes: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((g, p.diplotype, p.phenotype, p.activity_score, p.lookup_key) for g, p in phenotypes.items()))


def _memo(key: tuple[Any, ...], make: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Recommendations depend only on the phenotypes, the population and the drug (and the KB, loaded once
    per process): many patients share them, so their rendered views are kept (at most 2,000)."""
    if key not in _views:
        if len(_views) >= 2000:
            _views.clear()
        _views[key] = make()
    return _views[key]


@dataclass
class Chart:
    patient_id: str
    demographics: Demographics
    age: int | None
    stay: dict[str, Any] | None
    allergies: list[str]
    conditions: list[str]
    news2: dict[str, Any] | None
    latest_vitals: list[dict[str, Any]]
    latest_labs: list[dict[str, Any]]
    vitals_fig: dict[str, Any]
    labs_fig: dict[str, Any] | None
    findings: list[dict[str, Any]]
    pgx: list[dict[str, Any]]
    pgx_findings: list[dict[str, Any]]
    pgx_status: str
    medications: list[dict[str, Any]]
    imaging: list[dict[str, Any]]
    risk_note: str
    scale: int = 1
    notes: list[str] = field(default_factory=list)


UNIT_DISPLAY = {"Cel": "°C", "mm[Hg]": "mmHg", "/min": "/min", "%": "%", "kg": "kg", "cm": "cm"}


def _latest(frame: pd.DataFrame, label_col: str) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    last = frame.sort_values("time", kind="stable").groupby("name", sort=True).tail(1)
    out = []
    for row in last.itertuples(index=False):
        number: Any = row.value
        value = row.value_str if isinstance(row.value_str, str) and number != number else number
        if isinstance(value, str) and value.startswith("acvpu-"):
            value = clinical.ACVPU_WORDS.get(value.removeprefix("acvpu-").upper(), value)
        elif row.unit == "flag":
            value = "oxygen" if value else "air"
        elif isinstance(value, float):
            value = f"{value:g}" if value == value else "—"
        label = str(getattr(row, label_col) or row.name)
        unit = "" if row.unit == "flag" else UNIT_DISPLAY.get(str(row.unit), row.unit or "")
        out.append({"name": clinical.VITAL_LABELS.get(label, label), "value": value, "unit": unit,
                    "time": clinical.aware(row.time)})
    return sorted(out, key=lambda r: r["name"])


def _risk_findings(record: PatientRecord) -> list[dict[str, Any]]:
    out = []
    for ra in record.resources("RiskAssessment"):
        for pred in ra.get("prediction") or []:
            outcome = (pred.get("outcome") or {}).get("text") or "risk"
            p = pred.get("probabilityDecimal")
            drivers = [{"description": n.get("text"), "contribution": None} for n in ra.get("note") or []][:5]
            out.append({"summary": f"{outcome}: {p * 100:.0f} %" if isinstance(p, int | float) else str(outcome),
                        "indicator": "info", "capability": "risk", "kind": outcome, "detail": "",
                        "evidence": [], "drivers": drivers, "suggestions": [],
                        "source": (ra.get("method") or {}).get("text") or "hygeia.risk", "url": None,
                        "version": ra.get("occurrenceDateTime") or ""})
    return out


def _imaging(record: PatientRecord) -> list[dict[str, Any]]:
    out = []
    for rep in record.resources("DiagnosticReport"):
        images = [a for a in rep.get("presentedForm") or [] if str(a.get("contentType", "")).startswith("image/")
                  and a.get("data")]
        out.append({"title": (rep.get("code") or {}).get("text") or "imaging report", "status": rep.get("status"),
                    "conclusion": rep.get("conclusion") or "", "issued": rep.get("issued") or "",
                    "images": [f"data:{a['contentType']};base64,{a['data']}" for a in images[:2]]})
    return out


def patient_chart(store: Store, record: PatientRecord, now: datetime, days: int = 7,
                  plain: bool = False) -> Chart:
    demo = record.demographics()
    scale = clinical.scale_for(record)
    stay = clinical.current_stay(record)
    labs = record.labs()
    labs = labs[~labs["code"].isin(PGX_CODES)]  # genotype/phenotype Observations are shown as the PGx report
    tl = clinical.timeline(record, now, days=days, scale=scale, oxygen=clinical.oxygen_rows(store, record.id),
                           since=clinical.aware(stay["start"]) if stay and not plain else None, labs=labs)
    current = clinical.news2_now(clinical.vital_rows(tl.vitals), now, scale=scale)
    findings: list[dict[str, Any]] = []
    news2: dict[str, Any] | None = None
    if current is not None:
        finding = news2_finding(record.id, current)
        findings.append(finding_view(finding))
        news2 = {"total": current.total, "risk": current.risk, "complete": current.complete,
                 "missing": list(current.missing), "response": current.response.text()}
        trend = rising_trend([(p.time, p.total) for p in tl.news2])
        if trend is not None:
            findings.append(finding_view(trend_finding(record.id, trend, any_red_3=current.any_red_3)))
    findings.extend(_risk_findings(record))
    risk_note = "" if any(f["capability"] == "risk" for f in findings) else (
        "No risk score on file: no hygeia.risk model has scored this patient (risk models are trained and "
        "registered with `hygeia risk train`; none is deployed on this record).")
    # pharmacogenomics
    from hygeia.pgx import SimpleRecord
    from hygeia.pgx.patient import record_phenotypes, record_population

    phenotypes = record_phenotypes(record)
    kb = knowledge_base()
    pgx = [{"gene": g, "diplotype": p.diplotype or "", "phenotype": p.phenotype or "",
            "activity_score": p.activity_score or "", "plain": plain_phenotype(p.phenotype or p.activity_score)}
           for g, p in sorted(phenotypes.items())]
    pgx_findings: list[dict[str, Any]] = []
    medications: list[dict[str, Any]] = []
    if not phenotypes:
        pgx_status = "No pharmacogenomic results on file."
    elif kb is None:
        pgx_status = ("Pharmacogenomic knowledge base not installed (`hygeia pgx kb import`): genotypes shown "
                      "without recommendations.")
    else:
        from hygeia.pgx import findings_for_sample

        pgx_status = "CPIC / DPWG recommendations for the phenotypes on file (PharmGKB knowledge base)."
        pgx_findings = _memo(("sample", _pheno_key(phenotypes), record_population(record)), lambda: [
            finding_view(f) for f in findings_for_sample(record.id, phenotypes, kb, record_population(record))])
    known = SimpleRecord(record.id, phenotypes)  # phenotypes read once, not once per order
    population = record_population(record)
    for mr in record.resources("MedicationRequest"):
        status = mr.get("status")
        cc = mr.get("medicationCodeableConcept") or {}
        name = cc.get("text") or clinical.first(cc.get("coding")).get("display") or "medication"
        entry: dict[str, Any] = {"name": name, "status": status, "authored": mr.get("authoredOn", "")[:10],
                                 "dosage": clinical.first(mr.get("dosageInstruction")).get("text") or "",
                                 "warnings": []}
        if status in ACTIVE_MEDS and phenotypes and kb is not None:
            from hygeia.pgx import assess_order

            def warnings(order: dict[str, Any] = mr) -> list[dict[str, Any]]:
                return [finding_view(f) for f in assess_order(known, order, kb, population=population)]

            entry["warnings"] = _memo(("order", _pheno_key(phenotypes), population, name, mr.get("id")), warnings)
        medications.append(entry)
    medications.sort(key=lambda m: (m["status"] not in ACTIVE_MEDS, m["name"]))
    cond = record.conditions()
    allergies = record.allergies()
    return Chart(
        patient_id=record.id, demographics=demo, age=demo.age(now.date()), stay=stay,
        allergies=[str(a) for a in allergies["display"] if a], conditions=sorted(
            {str(d) for d, s in zip(cond["display"], cond["clinical_status"], strict=True) if d and s != "resolved"}),
        news2=news2, latest_vitals=_latest(tl.vitals, "name"), latest_labs=_latest(labs, "display"),
        vitals_fig=figures.vitals_timeline(tl.news2, tl.vitals, tl.start, tl.end),
        labs_fig=figures.labs_timeline(tl.labs, tl.start, tl.end), findings=findings, pgx=pgx,
        pgx_findings=pgx_findings, pgx_status=pgx_status, medications=medications, imaging=_imaging(record),
        risk_note=risk_note, scale=scale)


# ----------------------------------------------------------------------------------------------------
# alerts


@dataclass
class Inbox:
    open: list[dict[str, Any]]
    recent: list[dict[str, Any]]
    history: dict[str, list[dict[str, Any]]]
    names: dict[str, str]


def alert_inbox(store: Store, now: datetime, ward: str | None = None, hours: int = 24) -> Inbox:
    """Open alerts by urgency; alerts closed in the last ``hours``; each one's escalation history."""
    from hygeia.ews.monitor import row_json
    from hygeia.records.schema import resources

    with store.engine.connect() as conn:
        q = select(ews_alerts)
        if ward:
            q = q.where(ews_alerts.c.ward == ward)
        open_rows = conn.execute(q.where(ews_alerts.c.status == "open").order_by(
            ews_alerts.c.level.desc(), ews_alerts.c.raised)).all()
        closed = conn.execute(q.where(ews_alerts.c.status != "open").where(
            ews_alerts.c.raised >= now - timedelta(hours=hours)).order_by(ews_alerts.c.raised.desc()).limit(50)).all()
        ids = [r.id for r in open_rows] + [r.id for r in closed]
        history: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), 500):
            for ev in conn.execute(select(ews_alert_events.c.alert_id, ews_alert_events.c.time,
                                          ews_alert_events.c.event, ews_alert_events.c.detail).where(
                    ews_alert_events.c.alert_id.in_(ids[start:start + 500])).order_by(ews_alert_events.c.seq)):
                detail = ev.detail or {}
                history.setdefault(ev.alert_id, []).append({
                    "time": clinical.aware(ev.time), "event": ev.event,
                    "who": detail.get("acknowledged_by") if ev.event == "acknowledged" else
                    ", ".join(detail.get("recipients") or [])})
        pids = sorted({r.patient_id for r in open_rows} | {r.patient_id for r in closed})
        names: dict[str, str] = {}
        for start in range(0, len(pids), 500):
            for pid, content in conn.execute(select(resources.c.id, resources.c.content).where(
                    resources.c.resource_type == "Patient", resources.c.id.in_(pids[start:start + 500]))):
                names[pid] = PatientRecord(store, orjson.loads(content)).demographics().name or pid
    return Inbox([row_json(r) for r in open_rows], [row_json(r) for r in closed], history, names)


# ----------------------------------------------------------------------------------------------------
# operations


@dataclass
class Panel:
    title: str
    figure: dict[str, Any] | None = None
    table: list[dict[str, Any]] = field(default_factory=list)
    missing: str = ""
    note: str = ""


@dataclass
class Operations:
    census: list[dict[str, Any]]
    panels: list[Panel]


_stays_cache: dict[int, tuple[float, pd.DataFrame]] = {}


def _all_stays(store: Store) -> pd.DataFrame:
    """Every inpatient location period (cached 60 s: the bed board needs history for median stays)."""
    from hygeia.operations.beds import location_stays
    from hygeia.records.schema import resources

    hit = _stays_cache.get(id(store))
    if hit is None or time.monotonic() - hit[0] > 60:
        with store.engine.connect() as conn:
            rows = conn.execute(select(resources.c.content).where(
                resources.c.resource_type == "Encounter", resources.c.deleted.is_(False),
                resources.c.content.like("%location%"))).all()
        encounters = [e for e in (orjson.loads(c) for (c,) in rows) if e.get("location")]
        hit = (time.monotonic(), location_stays(encounters))
        _stays_cache[id(store)] = hit
    return hit[1]


def _artefact(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / name
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return _for_page(loaded) if isinstance(loaded, dict) else None


def _for_page(fig: dict[str, Any]) -> dict[str, Any]:
    """An operations figure for the page: its per-figure notice annotation (the page footer carries the
    notice) would overlap the axis labels at dashboard size."""
    layout = fig.get("layout")
    if isinstance(layout, dict) and isinstance(layout.get("annotations"), list):
        layout["annotations"] = [a for a in layout["annotations"] if a.get("text") != DECISION_SUPPORT_NOTICE]
    return fig


def operations(store: Store, places: clinical.Places, now: datetime, artefacts: Path) -> Operations:
    stays_now = clinical.current_stays(store, places)
    beds: dict[str, int] = {}
    for ward in places.ward_of.values():  # every location inside a ward is a bed (synth, FHIR Location.partOf)
        name = places.names.get(ward, ward)
        beds[name] = beds.get(name, 0) + 1
    census = []
    for ward in sorted(set(beds) | {s.ward for s in stays_now}):
        occupied = sum(1 for s in stays_now if s.ward == ward)
        census.append({"ward": ward, "beds": beds.get(ward, 0), "occupied": occupied,
                       "free": beds.get(ward, 0) - occupied if beds.get(ward) else None})
    panels: list[Panel] = []
    try:
        from hygeia.operations import plots
        from hygeia.operations.beds import bed_board

        stays = _all_stays(store)
        stays = stays[stays["ward"].isin(beds.keys())]  # the ward-level location periods (not the beds)
        board = bed_board(stays, pd.Timestamp(now).tz_convert(None), capacity=beds)
        panels.append(Panel("Bed board", figure=_for_page(plots.bed_board(board).to_plotly_json()),
                            note="Occupied and free beds now; expected discharges in 24 h from the ward's median "
                                 "length of stay (hygeia.operations.beds)."))
    except Exception as exc:  # the plots module is still being written: degrade, do not fail
        log.warning("bed board unavailable: %s", type(exc).__name__)
        panels.append(Panel("Bed board", missing=f"The bed board is not available yet ({type(exc).__name__})."))
    for name, title, how in (
            ("forecast_fan.json", "Census forecast (21 days)", "`hygeia demo` computes it with hygeia.operations."
                                                              "forecast"),
            ("theatre_gantt.json", "Theatre schedule", "`hygeia demo` solves a theatre list with hygeia.operations."
                                                       "theatre"),
            ("roster_grid.json", "Nurse roster", "`hygeia demo` solves a roster with hygeia.operations.roster"),
            ("delay_curve.json", "Capacity simulation: P(delay) vs beds", "`hygeia demo` runs hygeia.operations."
                                                                          "simulation")):
        fig = _artefact(artefacts, name)
        meta = _artefact(artefacts, name.replace(".json", ".meta.json")) or {}
        panels.append(Panel(title, figure=fig, note=str(meta.get("note", "")),
                            missing="" if fig else f"Not available yet: {how} (no {name} in {artefacts})."))
    staff = _artefact(artefacts, "ward_staff.json")
    panels.append(Panel("Ward rosters (staff by home ward)", table=list(staff.get("rows", [])) if staff else [],
                        missing="" if staff else f"Not available yet: `hygeia demo` summarises the staff list "
                                                 f"(no ward_staff.json in {artefacts})."))
    return Operations(census, panels)


# ----------------------------------------------------------------------------------------------------
# governance


@dataclass
class ModelEntry:
    kind: str
    name: str
    version: str
    intended_use: str
    metric: str


@dataclass
class Card:
    title: str
    kind: str
    name: str
    markdown: str
    facts: list[tuple[str, str]]
    figures: list[dict[str, Any]]
    html_path: Path | None = None
    missing: list[str] = field(default_factory=list)


def _risk_folders(settings: Settings) -> list[Path]:
    root = settings.data_dir / "models"
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob("**/metadata.json") if (p.parent / "evaluation.json").is_file())


def model_registry(settings: Settings) -> list[ModelEntry]:
    out = []
    for folder in sorted(p for p in IMAGING_MODELS.iterdir() if (p / "card.json").is_file()):
        card = json.loads((folder / "card.json").read_text())
        m = card.get("metrics") or {}
        out.append(ModelEntry("imaging", folder.name, str(card.get("version", "")), str(card.get("intended_use", "")),
                              f"AUC {m.get('auc', float('nan')):.3f} ({m.get('split', 'validation')[:24]})"))
    for folder in _risk_folders(settings):
        meta = json.loads((folder / "metadata.json").read_text())
        ev = json.loads((folder / "evaluation.json").read_text())
        out.append(ModelEntry("risk", folder.name, str(meta.get("version", folder.name)),
                              str(meta.get("intended_use", "")), f"AUROC {ev.get('auroc', float('nan')):.3f}"))
    return out


def model_card(settings: Settings, kind: str, name: str) -> Card | None:
    if kind == "imaging":
        folder = next((p for p in IMAGING_MODELS.iterdir() if p.name == name and (p / "card.json").is_file()), None)
        if folder is None:
            return None
        card = json.loads((folder / "card.json").read_text())
        m = card.get("metrics") or {}
        figs = [figures.reliability(m.get("reliability") or [], f"{name}: reliability on the validation split")]
        bars = [(k.upper(), float(m[k]), float(m[f"{k}_ci95"][0]), float(m[f"{k}_ci95"][1]))
                for k in ("auc", "acc") if k in m and f"{k}_ci95" in m]
        if bars:
            figs.append(figures.metric_bars(bars, f"{name}: discrimination with 95 % CI", "value"))
        md = (folder / "card.md").read_text() if (folder / "card.md").is_file() else ""
        facts = [(k.replace("_", " "), str(card[k])) for k in ("version", "modality", "intended_use",
                                                                 "not_intended_for") if k in card]
        missing = ["Subgroup audit: the MedMNIST data carry no demographics, so no fairness audit is possible "
                   "(see docs/imaging.md)."]
        return Card(str(card.get("name", name)), kind, name, md, facts, figs, missing=missing)
    if kind == "risk":
        folder = next((p for p in _risk_folders(settings) if p.name == name), None)
        if folder is None:
            return None
        meta = json.loads((folder / "metadata.json").read_text())
        ev = json.loads((folder / "evaluation.json").read_text())
        fair = json.loads((folder / "fairness.json").read_text()) if (folder / "fairness.json").is_file() else {}
        figs = []
        if fair.get("by_group"):
            figs.append(figures.subgroup_chart(fair["by_group"], f"{name}: subgroup audit (AUROC, 95 % CI)"))
        if ev.get("decision_curve"):
            figs.append(figures.decision_curve(ev["decision_curve"], f"{name}: decision curve"))
        md = (folder / "card.md").read_text() if (folder / "card.md").is_file() else ""
        facts = [(k.replace("_", " "), str(meta[k])) for k in ("version", "intended_use", "training_date")
                 if k in meta]
        html = folder / "card.html"
        return Card(name, kind, name, md, facts, figs, html if html.is_file() else None)
    return None


def cds_feedback(store: Store) -> dict[str, Any]:
    """Accepted / overridden counts per CDS service and the most common override reasons."""
    try:
        from hygeia.governance.schema import cds_feedback as table
    except ImportError:
        return {"available": False}
    with store.engine.connect() as conn:
        rows = conn.execute(select(table.c.service, table.c.outcome, func.count()).group_by(
            table.c.service, table.c.outcome)).all()
        reasons = conn.execute(select(table.c.override_display, table.c.override_code, func.count()).where(
            table.c.outcome == "overridden").group_by(table.c.override_display, table.c.override_code).order_by(
            func.count().desc()).limit(10)).all()
    services: dict[str, list[int]] = {}
    for service, outcome, n in rows:
        services.setdefault(service, [0, 0])[0 if outcome == "accepted" else 1] += int(n)
    counts = [(s, a, o) for s, (a, o) in sorted(services.items())]
    return {"available": True, "counts": counts,
            "reasons": [{"reason": d or c or "(no reason given)", "n": int(n)} for d, c, n in reasons],
            "figure": figures.feedback_bars(counts) if counts else None}
