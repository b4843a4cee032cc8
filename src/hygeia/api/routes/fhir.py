"""FHIR R4 REST (read and search) under /fhir. Errors are OperationOutcomes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hygeia import __version__
from hygeia.api.deps import StoreDep, UserDep, require_patient_access
from hygeia.governance import audit
from hygeia.records.fhirpath import parse_fhir_datetime, patient_of
from hygeia.records.store import NotFound, StoreError
from hygeia.records.validate import ID_PATTERN

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"
SEARCHABLE = ("Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "AllergyIntolerance",
              "Procedure", "DiagnosticReport", "ImagingStudy", "Immunization", "CarePlan", "RiskAssessment",
              "DetectedIssue", "Practitioner", "Organization", "Location", "Consent")
PATIENT_FREE = ("Practitioner", "Organization", "Location")  # shared, not patient data
MAX_COUNT = 1000


def _fhir(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=FHIR_JSON)


@router.get("/metadata")
def metadata(request: Request) -> JSONResponse:
    """The CapabilityStatement: what this server implements (read, vread, search-type)."""
    search_params = [
        {"name": "patient", "type": "reference"}, {"name": "subject", "type": "reference"},
        {"name": "_count", "type": "number"}, {"name": "_offset", "type": "number"},
    ]
    obs_params = [*search_params, {"name": "code", "type": "token"}, {"name": "date", "type": "date"}]
    resources = [
        {"type": t, "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "search-type"}],
         "searchParam": obs_params if t == "Observation" else search_params}
        for t in SEARCHABLE
    ]
    return _fhir({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-26", "kind": "instance",
        "software": {"name": "Hygeia", "version": __version__},
        "implementation": {"description": "Hygeia FHIR R4 server", "url": str(request.base_url) + "fhir"},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json", "json"],
        "rest": [{"mode": "server", "security": {"service": [{"text": "Bearer token (POST /auth/token)"}]},
                  "resource": resources}],
    })


def _check_type(resource_type: str) -> None:
    if resource_type not in SEARCHABLE:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"resource type {resource_type!r} is not supported here; "
                            f"supported: {', '.join(SEARCHABLE)}")


def _check_id(rid: str) -> None:
    if not ID_PATTERN.match(rid):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"invalid id {rid!r}: 1-64 of A-Z a-z 0-9 - .")


def _guard(store: StoreDep, user: UserDep, resource_type: str, resource: dict[str, Any], label: str) -> None:
    if resource_type in PATIENT_FREE:
        return
    pid = patient_of(resource)
    if pid is None and not user.may_list_patients():
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not permit this resource")
    require_patient_access(store, user, pid, label)


@router.get("/{resource_type}/{rid}")
def read(resource_type: str, rid: str, store: StoreDep, user: UserDep) -> JSONResponse:
    """Read the current version of a resource."""
    _check_type(resource_type)
    _check_id(rid)
    try:
        resource = store.read(resource_type, rid)
    except NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{resource_type}/{rid} not found") from None
    _guard(store, user, resource_type, resource, f"{resource_type}/{rid}")
    return _fhir(resource)


@router.get("/{resource_type}/{rid}/_history/{vid}")
def vread(resource_type: str, rid: str, vid: int, store: StoreDep, user: UserDep) -> JSONResponse:
    """Read one version of a resource."""
    _check_type(resource_type)
    _check_id(rid)
    try:
        resource = store.vread(resource_type, rid, vid)
    except NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{resource_type}/{rid}/_history/{vid} not found") from None
    _guard(store, user, resource_type, resource, f"{resource_type}/{rid}/_history/{vid}")
    return _fhir(resource)


_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def _date_range(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """FHIR date search (prefixes eq, ge, gt, le, lt) → [from, to)."""
    lower: datetime | None = None
    upper: datetime | None = None
    for raw in values:
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in _PREFIXES else ("eq", raw)
        try:
            start = parse_fhir_datetime(value)
        except ValueError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"date: {raw!r} is not a FHIR date "
                                "(e.g. ge2024-01-31 or lt2024-02-01T12:00:00Z)") from None
        span = {4: timedelta(days=366), 7: timedelta(days=31), 10: timedelta(days=1)}.get(len(value),
                                                                                          timedelta(seconds=1))
        end = start + span
        if len(value) == 7:
            end = end.replace(day=1)
        if len(value) == 4:
            end = end.replace(month=1, day=1)
        if prefix in ("eq", "ge"):
            lower = max(lower, start) if lower else start
        if prefix == "gt":
            lower = max(lower, end) if lower else end
        if prefix in ("eq", "le"):
            upper = min(upper, end) if upper else end
        if prefix == "lt":
            upper = min(upper, start) if upper else start
    return lower, upper


@router.get("/{resource_type}")
def search(
    resource_type: str,
    request: Request,
    store: StoreDep,
    user: UserDep,
    patient: Annotated[str | None, Query(max_length=200)] = None,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=300)] = None,
    date: Annotated[list[str] | None, Query(max_length=64)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT)] = 50,
    offset: Annotated[int, Query(alias="_offset", ge=0, le=10_000_000)] = 0,
) -> JSONResponse:
    """Search by patient/subject, code (`system|code` or `code`) and date; paged with _count/_offset."""
    _check_type(resource_type)
    pid = patient or subject
    if pid is not None:
        pid = pid.removeprefix("Patient/")
        _check_id(pid)
    if resource_type == "Patient" and pid is None and request.query_params.get("_id"):
        pid = request.query_params["_id"]
    if pid is None and resource_type not in PATIENT_FREE:
        if user.patient_id and not user.may_list_patients():
            pid = user.patient_id  # a patient searches their own record
        elif not user.may_list_patients():
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not search across patients")
    if pid is not None and resource_type not in PATIENT_FREE and not user.may_read_patient(pid):
        require_patient_access(store, user, pid, f"{resource_type}?search")
    date_from, date_to = _date_range(date or [])
    try:
        if resource_type == "Patient" and pid is not None:
            try:
                found = [store.read("Patient", pid)]
            except NotFound:
                found = []
            total, page = len(found), found[offset: offset + count]
        else:
            total, page = store.search(resource_type, patient=pid, code=code, date_from=date_from,
                                       date_to=date_to, count=count, offset=offset)
    except StoreError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    seen = {patient_of(r) for r in page} - {None}
    for p in sorted(x for x in seen if x is not None):
        audit.record(store, username=user.username, role=user.role.value, action="R", patient_id=p,
                     resource=f"{resource_type}?search")
    base = str(request.url).split("?")[0]
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_offset",)]

    def link(relation: str, at: int) -> dict[str, str]:
        return {"relation": relation, "url": base + "?" + urlencode([*params, ("_offset", str(at))])}

    links = [link("self", offset)]
    if offset + count < total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    return _fhir({"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
                  "entry": [{"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                            for r in page]})
