"""Bulk Data export (FHIR Bulk Data Access 2.0, https://hl7.org/fhir/uv/bulkdata/) and research aggregates.

``$export`` at system, Patient and Group level for research extracts: ``Prefer: respond-async`` →
202 with a ``Content-Location`` status URL; the status answers 202 with ``X-Progress`` while running
and 200 with the manifest when done; ``DELETE`` cancels. Output is one NDJSON file per resource type
under ``data_dir/exports/<job>/``. ``_type`` and ``_since`` filter. Consent decides who is in an
extract (``hygeia.governance.consent``: research opt-out and sharing restrictions), and extracts are
de-identified (names, contacts, identifiers, free text removed; birth date to the year; patient ids
pseudonymised with a keyed hash).
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import insert, select, update

from hygeia.api.deps import SettingsDep, StoreDep, UserDep
from hygeia.governance import audit
from hygeia.governance.access import Role, User
from hygeia.governance.consent import RESEARCH, decide
from hygeia.governance.schema import bulk_exports
from hygeia.governance.smart import scope_permits
from hygeia.records.fhirpath import parse_fhir_datetime, reference_id
from hygeia.records.store import NotFound, Store
from hygeia.records.validate import ID_PATTERN

router = APIRouter(tags=["bulk-data"])
EXPORT_TYPES = ("Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "AllergyIntolerance",
                "Procedure", "DiagnosticReport", "ImagingStudy", "Immunization", "CarePlan", "RiskAssessment",
                "DetectedIssue")
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
SMALL_CELL = 5  # research aggregates below this are suppressed
_DROP = ("text", "note", "identifier", "name", "telecom", "address", "photo", "contact")


# -- de-identification and consent (pure) -------------------------------------------------------

def pseudonym(secret: str, patient_id: str) -> str:
    return hmac.new(secret.encode(), patient_id.encode(), hashlib.sha256).hexdigest()[:32]


def _rewrite_refs(value: Any, secret: str) -> Any:
    if isinstance(value, dict):
        out = {k: _rewrite_refs(v, secret) for k, v in value.items() if k not in ("display",)}
        ref = value.get("reference")
        pid = reference_id(value) if isinstance(ref, str) else None
        if pid is not None:
            out["reference"] = f"Patient/{pseudonym(secret, pid)}"
        return out
    if isinstance(value, list):
        return [_rewrite_refs(v, secret) for v in value]
    return value


def deidentify(resource: dict[str, Any], secret: str) -> dict[str, Any]:
    """A research copy: direct identifiers and free text removed, birth date to the year, patient
    references pseudonymised (HMAC-SHA-256 with the server secret)."""
    out: dict[str, Any] = _rewrite_refs({k: v for k, v in resource.items() if k not in _DROP}, secret)
    if resource.get("resourceType") == "Patient":
        out["id"] = pseudonym(secret, str(resource.get("id")))
        if isinstance(resource.get("birthDate"), str):
            out["birthDate"] = resource["birthDate"][:4]
        out.pop("extension", None)
    out.pop("meta", None)
    return out


def consented(store: Store, patient_id: str) -> bool:
    """Research use permitted by the patient's Consents (opt-out model; sharing restrictions honoured)."""
    return decide(store.patient_resources(patient_id, ["Consent"]), RESEARCH).permitted


# -- the export job -----------------------------------------------------------------------------

def _set(store: Store, job: str, **values: Any) -> None:
    """Update a job; a cancelled job stays cancelled (a DELETE may land before the job thread's first write)."""
    with store.engine.begin() as conn:
        conn.execute(update(bulk_exports).where(bulk_exports.c.id == job, bulk_exports.c.status != "cancelled")
                     .values(**values))


def _cancelled(store: Store, job: str, out_dir: Path) -> bool:
    """Whether the job was cancelled; if so its files (written after the DELETE removed them) go too."""
    if _status(store, job).status != "cancelled":
        return False
    shutil.rmtree(out_dir, ignore_errors=True)
    return True


def _status(store: Store, job: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(bulk_exports).where(bulk_exports.c.id == job)).first()


def run_export(store: Store, job: str, out_dir: Path, patients: list[str], types: list[str],
               since: datetime | None, secret: str, base_url: str) -> None:
    """Write the extract; records progress, honours cancellation, never raises (the job records failure)."""
    counts: dict[str, int] = {}
    files: dict[str, IO[bytes]] = {}
    excluded = 0
    try:
        _set(store, job, status="running", progress=f"0% (0/{len(patients)} patients)")
        out_dir.mkdir(parents=True, exist_ok=True)
        for i, pid in enumerate(patients):
            if i % 25 == 0 and i:
                if _cancelled(store, job, out_dir):
                    return
                _set(store, job, progress=f"{100 * i // max(1, len(patients))}% ({i}/{len(patients)} patients)")
            if not consented(store, pid):
                excluded += 1
                continue
            for res in store.patient_resources(pid, types):
                updated = (res.get("meta") or {}).get("lastUpdated")
                if since is not None and isinstance(updated, str) and parse_fhir_datetime(updated) < since:
                    continue
                rtype = res["resourceType"]
                if rtype not in files:
                    files[rtype] = (out_dir / f"{rtype}.ndjson").open("wb")
                files[rtype].write(orjson.dumps(deidentify(res, secret)) + b"\n")
                counts[rtype] = counts.get(rtype, 0) + 1
        for handle in files.values():
            handle.close()
        if _cancelled(store, job, out_dir):
            return
        output = [{"type": t, "url": f"{base_url}/fhir/bulkfiles/{job}/{t}.ndjson", "count": n}
                  for t, n in sorted(counts.items())]
        manifest = {"transactionTime": datetime.now(UTC).isoformat(), "requiresAccessToken": True,
                    "output": output, "error": [],
                    "extension": {"https://hygeia.example.org/excluded-by-consent": excluded,
                                  "https://hygeia.example.org/deidentified": True}}
        _set(store, job, status="completed", progress="100%", manifest=manifest, finished=datetime.now(UTC))
    except Exception as exc:  # the job records the failure; the type only (messages may carry data)
        _set(store, job, status="failed", error=type(exc).__name__, finished=datetime.now(UTC))
    finally:
        for handle in files.values():
            handle.close()


def _may_export(user: User, types: list[str]) -> str | None:
    if not user.has(Role.RESEARCHER):
        return "bulk export is for the researcher role (consent-filtered, de-identified extracts)"
    for t in types:
        if not scope_permits(user.scopes, t, "r", None, None):
            return f"the token's scopes do not permit reading {t} (need e.g. system/*.rs or user/*.rs)"
    return None


def _start(request: Request, store: Store, settings: Any, user: User, level: str, patients: list[str],
           type_: str | None, since: str | None, output_format: str | None, prefer: str | None) -> Response:
    if prefer is None or "respond-async" not in prefer:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "bulk export needs the header 'Prefer: respond-async'")
    if output_format is not None and output_format not in NDJSON_FORMATS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"_outputFormat {output_format!r}: only NDJSON")
    types = [t.strip() for t in (type_ or "").split(",") if t.strip()] or list(EXPORT_TYPES)
    unknown = [t for t in types if t not in EXPORT_TYPES]
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"_type: unsupported {', '.join(unknown)}; "
                            f"supported: {', '.join(EXPORT_TYPES)}")
    since_at = None
    if since is not None:
        try:
            since_at = parse_fhir_datetime(since)
        except (ValueError, OverflowError):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"_since {since!r} is not a FHIR instant") from None
    reason = _may_export(user, types)
    if reason is not None:
        audit.record(store, username=user.username, role=user.role.value, action="E", resource=f"$export ({level})",
                     outcome="4", purpose=RESEARCH, detail=f"denied: {reason}")
        raise HTTPException(status.HTTP_403_FORBIDDEN, reason)
    job = uuid.uuid4().hex
    with store.engine.begin() as conn:
        conn.execute(insert(bulk_exports).values(
            id=job, owner=user.username, status="accepted", request=f"$export ({level})",
            params={"types": types, "since": since, "level": level, "patients": len(patients)},
            created=datetime.now(UTC)))
    audit.record(store, username=user.username, role=user.role.value, action="E", resource=f"$export ({level})",
                 purpose=RESEARCH, detail=f"export {job}: {len(patients)} patients before consent filtering")
    base = str(request.base_url).rstrip("/")
    thread = threading.Thread(target=run_export, name=f"export-{job[:8]}", daemon=True,
                              args=(store, job, settings.data_dir / "exports" / job, patients, types, since_at,
                                    settings.secret_key.get_secret_value(), base))
    thread.start()
    return Response(status_code=202, headers={"Content-Location": f"{base}/fhir/bulkstatus/{job}"})


_EXPORT_DOC: dict[int | str, dict[str, Any]] = {202: {"description": "accepted; poll Content-Location"}}


@router.get("/fhir/$export", status_code=202, responses=_EXPORT_DOC)
def export_system(request: Request, store: StoreDep, settings: SettingsDep, user: UserDep,
                  type_: Annotated[str | None, Query(alias="_type", max_length=1000)] = None,
                  since: Annotated[str | None, Query(alias="_since", max_length=64)] = None,
                  output_format: Annotated[str | None, Query(alias="_outputFormat", max_length=64)] = None,
                  prefer: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    """System-level export (every patient whose Consent permits research use)."""
    return _start(request, store, settings, user, "system", store.patient_ids(), type_, since, output_format,
                  prefer)


@router.get("/fhir/Patient/$export", status_code=202, responses=_EXPORT_DOC)
def export_patients(request: Request, store: StoreDep, settings: SettingsDep, user: UserDep,
                    type_: Annotated[str | None, Query(alias="_type", max_length=1000)] = None,
                    since: Annotated[str | None, Query(alias="_since", max_length=64)] = None,
                    output_format: Annotated[str | None, Query(alias="_outputFormat", max_length=64)] = None,
                    prefer: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    """Patient-level export (all patients' compartments, consent-filtered)."""
    return _start(request, store, settings, user, "Patient", store.patient_ids(), type_, since, output_format,
                  prefer)


@router.get("/fhir/Group/{group_id}/$export", status_code=202, responses=_EXPORT_DOC)
def export_group(group_id: str, request: Request, store: StoreDep, settings: SettingsDep, user: UserDep,
                 type_: Annotated[str | None, Query(alias="_type", max_length=1000)] = None,
                 since: Annotated[str | None, Query(alias="_since", max_length=64)] = None,
                 output_format: Annotated[str | None, Query(alias="_outputFormat", max_length=64)] = None,
                 prefer: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    """Group-level export: the Group's member patients (consent-filtered)."""
    if not ID_PATTERN.match(group_id):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"invalid Group id {group_id!r}")
    try:
        group = store.read("Group", group_id)
    except NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Group/{group_id} not found") from None
    members = [reference_id(m.get("entity")) for m in group.get("member") or [] if isinstance(m, dict)]
    return _start(request, store, settings, user, f"Group/{group_id}", [m for m in members if m], type_, since,
                  output_format, prefer)


def _owned(store: Store, user: User, job: str) -> Any:
    row = _status(store, job) if ID_PATTERN.match(job) else None
    if row is None or row.owner != user.username:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such export job")
    return row


@router.get("/fhir/bulkstatus/{job}", responses={202: {"description": "in progress (X-Progress)"}})
def export_status(job: str, store: StoreDep, user: UserDep) -> Response:
    """Progress (202 + X-Progress), the manifest (200), or the failure (500 + OperationOutcome)."""
    row = _owned(store, user, job)
    if row.status in ("accepted", "running"):
        return Response(status_code=202, headers={"X-Progress": row.progress or "queued", "Retry-After": "1"})
    if row.status == "cancelled":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "export cancelled")
    if row.status == "failed":
        return JSONResponse({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "exception", "diagnostics": f"export failed ({row.error})"}]},
            status_code=500, media_type="application/fhir+json")
    manifest = dict(row.manifest)
    manifest["request"] = row.request
    return JSONResponse(manifest)


@router.delete("/fhir/bulkstatus/{job}", status_code=202)
def export_cancel(job: str, store: StoreDep, settings: SettingsDep, user: UserDep) -> Response:
    """Cancel an export and delete its files."""
    row = _owned(store, user, job)
    if row.status == "cancelled":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "export already cancelled")
    _set(store, job, status="cancelled", finished=datetime.now(UTC))
    shutil.rmtree(settings.data_dir / "exports" / job, ignore_errors=True)
    return Response(status_code=202)


@router.get("/fhir/bulkfiles/{job}/{name}", response_class=FileResponse)
def export_file(job: str, name: str, store: StoreDep, settings: SettingsDep, user: UserDep) -> FileResponse:
    """One NDJSON output file of a completed export (owner only)."""
    row = _owned(store, user, job)
    rtype = name.removesuffix(".ndjson")
    if row.status != "completed" or rtype not in EXPORT_TYPES or not name.endswith(".ndjson"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    path = settings.data_dir / "exports" / job / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    audit.record(store, username=user.username, role=user.role.value, action="R", resource=f"bulkfiles/{rtype}",
                 purpose=RESEARCH, detail=f"export {job} file downloaded")
    return FileResponse(path, media_type="application/fhir+ndjson")


@router.get("/research/cohort")
def research_cohort(store: StoreDep, user: UserDep) -> dict[str, Any]:
    """Aggregate counts over the patients whose Consent permits research (small cells suppressed)."""
    if not user.has(Role.RESEARCHER, Role.GOVERNANCE):
        audit.record(store, username=user.username, role=user.role.value, action="R", resource="research/cohort",
                     outcome="4", purpose=RESEARCH, detail="denied: researcher or governance role required")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "research aggregates are for researcher and governance roles")
    patients = store.patient_ids()
    included = [p for p in patients if consented(store, p)]
    counts: dict[str, int] = {}
    for pid in included:
        for res in store.patient_resources(pid, list(EXPORT_TYPES)):
            counts[res["resourceType"]] = counts.get(res["resourceType"], 0) + 1

    def cell(n: int) -> int | None:
        return n if n >= SMALL_CELL else None

    audit.record(store, username=user.username, role=user.role.value, action="R", resource="research/cohort",
                 purpose=RESEARCH, detail="aggregate counts")
    return {"patients": cell(len(patients)), "patients_consented": cell(len(included)),
            "resources": {t: cell(n) for t, n in sorted(counts.items())},
            "note": f"counts below {SMALL_CELL} are suppressed (null)"}
