"""FHIR R4 REST under /fhir: capabilities, read, vread, search, create, update and transaction.

Every route checks the token's SMART scopes and the user's roles (``hygeia.governance.smart.authorize``)
and audits every access to patient data. Errors are OperationOutcomes (see ``app.py``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse

from hygeia import __version__
from hygeia.api.deps import StoreDep, UserDep, check_access
from hygeia.governance import audit
from hygeia.governance.access import User
from hygeia.governance.smart import SHARED_TYPES, authorize
from hygeia.records.fhirpath import effective_time, parse_fhir_datetime, patient_of
from hygeia.records.ingest import IngestError, bundle_resources, ingest_bundle
from hygeia.records.store import NotFound, Store, StoreError
from hygeia.records.validate import ID_PATTERN

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"
SEARCHABLE = ("Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "AllergyIntolerance",
              "Procedure", "DiagnosticReport", "ImagingStudy", "Immunization", "CarePlan", "RiskAssessment",
              "DetectedIssue", "Practitioner", "Organization", "Location", "Consent", "Group")
PATIENT_FREE = tuple(sorted(SHARED_TYPES))  # shared, not patient data
MAX_COUNT = 1000
SORT_SCAN_LIMIT = 10_000  # _sort and status filter in memory over at most this many matches
SORT_KEYS = ("_id", "-_id", "date", "-date", "_lastUpdated", "-_lastUpdated")
_ANY_RESOURCE = {"type": "object", "required": ["resourceType"],
                 "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}}}


def _fhir(body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=FHIR_JSON, headers=headers)


SEARCH_PARAMS = [
    {"name": "patient", "type": "reference", "documentation": "Patient/{id} or {id}"},
    {"name": "subject", "type": "reference", "documentation": "same as patient"},
    {"name": "status", "type": "token", "documentation": "comma-separated codes (OR)"},
    {"name": "_count", "type": "number", "documentation": f"page size, 1..{MAX_COUNT}"},
    {"name": "_offset", "type": "number", "documentation": "paging offset (the next/previous links carry it)"},
    {"name": "_sort", "type": "special", "documentation": ", ".join(SORT_KEYS)},
]


@router.get("/metadata")
def metadata(request: Request) -> JSONResponse:
    """The CapabilityStatement: exactly what this server implements."""
    base = str(request.base_url).rstrip("/")
    resources = []
    for t in SEARCHABLE:
        params = list(SEARCH_PARAMS)
        if t == "Observation":
            params += [{"name": "code", "type": "token", "documentation": "system|code or code"},
                       {"name": "date", "type": "date", "documentation": "prefixes eq ge gt le lt; repeatable"}]
        if t == "Patient":
            params.append({"name": "_id", "type": "token"})
        entry: dict[str, Any] = {
            "type": t, "versioning": "versioned", "readHistory": True, "updateCreate": True,
            "interaction": [{"code": c} for c in ("read", "vread", "search-type", "create", "update")],
            "searchParam": params,
        }
        if t in ("Patient", "Group"):
            entry["operation"] = [{"name": "export", "definition":
                                   f"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/{t.lower()}-export"}]
        resources.append(entry)
    return _fhir({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-26", "kind": "instance",
        "software": {"name": "Hygeia", "version": __version__},
        "implementation": {"description": "Hygeia FHIR R4 server", "url": base + "/fhir"},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json", "json"],
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "SMART-on-FHIR"}]}],
                "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                               "extension": [{"url": "token", "valueUri": base + "/oauth/token"}]}],
                "description": "Bearer tokens: POST /auth/token (users) or /oauth/token (SMART backend services, "
                               "private_key_jwt). SMART scopes v1/v2 and roles are enforced on every route.",
            },
            "resource": resources,
            "interaction": [{"code": "transaction"}],
            "operation": [{"name": "export",
                           "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}],
        }],
    })


def _check_type(resource_type: str) -> None:
    if resource_type not in SEARCHABLE:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"resource type {resource_type!r} is not supported here; "
                            f"supported: {', '.join(SEARCHABLE)}")


def _check_id(rid: str) -> None:
    if not ID_PATTERN.match(rid):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"invalid id {rid!r}: 1-64 of A-Z a-z 0-9 - .")


def _guard(store: Store, user: User, resource_type: str, resource: dict[str, Any], interaction: str,
           label: str) -> None:
    pid = None if resource_type in SHARED_TYPES else patient_of(resource)
    check_access(store, user, resource_type, interaction, pid, label)


def _version_headers(resource: dict[str, Any], base: str) -> dict[str, str]:
    meta = resource.get("meta") or {}
    version = str(meta.get("versionId", "1"))
    headers = {"ETag": f'W/"{version}"',
               "Location": f"{base}/fhir/{resource['resourceType']}/{resource['id']}/_history/{version}"}
    if meta.get("lastUpdated"):
        headers["Last-Modified"] = parse_fhir_datetime(meta["lastUpdated"]).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return headers


@router.get("/{resource_type}/{rid}")
def read(resource_type: str, rid: str, store: StoreDep, user: UserDep) -> JSONResponse:
    """Read the current version of a resource."""
    _check_type(resource_type)
    _check_id(rid)
    try:
        resource = store.read(resource_type, rid)
    except NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{resource_type}/{rid} not found") from None
    _guard(store, user, resource_type, resource, "r", f"{resource_type}/{rid}")
    meta = resource.get("meta") or {}
    return _fhir(resource, headers={"ETag": f'W/"{meta.get("versionId", "1")}"'})


@router.get("/{resource_type}/{rid}/_history/{vid}")
def vread(resource_type: str, rid: str, vid: Annotated[int, Path(ge=1, le=2**31 - 1)],
          store: StoreDep, user: UserDep) -> JSONResponse:
    """Read one version of a resource."""
    _check_type(resource_type)
    _check_id(rid)
    try:
        resource = store.vread(resource_type, rid, vid)
    except NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{resource_type}/{rid}/_history/{vid} not found") from None
    _guard(store, user, resource_type, resource, "r", f"{resource_type}/{rid}/_history/{vid}")
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
        except (ValueError, OverflowError):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"date: {raw!r} is not a FHIR date "
                                "(e.g. ge2024-01-31 or lt2024-02-01T12:00:00Z)") from None
        span = {4: timedelta(days=366), 7: timedelta(days=31), 10: timedelta(days=1)}.get(len(value),
                                                                                          timedelta(seconds=1))
        try:
            end = start + span
        except OverflowError:
            end = datetime.max.replace(tzinfo=UTC)
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


_DATE_FIELDS = ("authoredOn", "onsetDateTime", "recordedDate", "occurrenceDateTime", "performedDateTime",
                "dateTime", "date", "started", "birthDate")


def _date_of(resource: dict[str, Any]) -> datetime:
    try:
        found = effective_time(resource)
        if found is not None:
            return found
        for name in _DATE_FIELDS:
            if isinstance(resource.get(name), str):
                return parse_fhir_datetime(resource[name])
        for name in ("period", "performedPeriod"):
            period = resource.get(name)
            if isinstance(period, dict) and isinstance(period.get("start"), str):
                return parse_fhir_datetime(period["start"])
    except ValueError:
        pass
    return datetime.min.replace(tzinfo=UTC)


def _sort_and_filter(items: list[dict[str, Any]], statuses: set[str] | None, sort: str | None) -> list[dict[str, Any]]:
    if statuses:
        items = [r for r in items if r.get("status") in statuses]
    if sort:
        for key in reversed(sort.split(",")):
            name = key.lstrip("-")
            reverse = key.startswith("-")
            if name == "_id":
                items.sort(key=lambda r: str(r.get("id")), reverse=reverse)
            elif name == "date":
                items.sort(key=_date_of, reverse=reverse)
            else:
                items.sort(key=lambda r: str((r.get("meta") or {}).get("lastUpdated", "")), reverse=reverse)
    return items


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
    status_: Annotated[str | None, Query(alias="status", max_length=200)] = None,
    sort: Annotated[str | None, Query(alias="_sort", max_length=100)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT)] = 50,
    offset: Annotated[int, Query(alias="_offset", ge=0, le=10_000_000)] = 0,
) -> JSONResponse:
    """Search by patient/subject, code (`system|code` or `code`), date, status; _sort; paged with _count."""
    _check_type(resource_type)
    if sort is not None and any(k not in SORT_KEYS for k in sort.split(",")):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"_sort: {sort!r}; supported: {', '.join(SORT_KEYS)}")
    statuses = {s.strip() for s in status_.split(",") if s.strip()} if status_ else None
    pid = patient or subject
    if pid is not None:
        pid = pid.removeprefix("Patient/")
        _check_id(pid)
    if resource_type == "Patient" and pid is None and request.query_params.get("_id"):
        pid = request.query_params["_id"]
        _check_id(pid)
    shared = resource_type in SHARED_TYPES
    if pid is None and not shared and user.patient_id and not user.may_list_patients():
        pid = user.patient_id  # a patient searches their own record
    label = f"{resource_type}?search"
    if shared or pid is None:
        reason = authorize(user, resource_type, "s", None)
        if reason is not None:
            check_access(store, user, resource_type, "s", None, label)  # audits the refusal, raises 403
    else:
        check_access(store, user, resource_type, "s", pid, label)
    date_from, date_to = _date_range(date or [])
    in_memory = statuses is not None or sort is not None
    try:
        if resource_type == "Patient" and pid is not None:
            try:
                found = [store.read("Patient", pid)]
            except NotFound:
                found = []
            found = _sort_and_filter(found, statuses, None)
            total, page = len(found), found[offset: offset + count]
        elif in_memory:
            total, everything = store.search(resource_type, patient=pid, code=code, date_from=date_from,
                                             date_to=date_to, count=SORT_SCAN_LIMIT + 1, offset=0)
            if total > SORT_SCAN_LIMIT:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, f"more than {SORT_SCAN_LIMIT} matches to "
                                    "filter by status or sort: narrow the search (e.g. by patient or date)")
            matched = _sort_and_filter(everything, statuses, sort)
            total, page = len(matched), matched[offset: offset + count]
        else:
            total, page = store.search(resource_type, patient=pid, code=code, date_from=date_from,
                                       date_to=date_to, count=count, offset=offset)
    except StoreError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if pid is None and not shared:
        for p in sorted({x for x in (patient_of(r) for r in page) if x is not None}):
            audit.record(store, username=user.username, role=user.role.value, action="R", patient_id=p,
                         resource=label)
    base = str(request.url).split("?")[0]
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_offset",)]

    def link(relation: str, at: int) -> dict[str, str]:
        return {"relation": relation, "url": base + "?" + urlencode([*params, ("_offset", str(at))])}

    links = [link("self", offset), link("first", 0)]
    if offset + count < total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if total:
        links.append(link("last", ((total - 1) // count) * count))
    return _fhir({"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
                  "entry": [{"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                            for r in page]})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _ingest(store: Store, resources: list[dict[str, Any]], source: str) -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                        for r in resources]}
    try:
        ingest_bundle(store, bundle, source=source)
    except IngestError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/{resource_type}", status_code=201,
             openapi_extra={"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": _ANY_RESOURCE}}}})
def create(resource_type: str, request: Request, store: StoreDep, user: UserDep,
           resource: Annotated[dict[str, Any], Body(media_type=FHIR_JSON)]) -> JSONResponse:
    """Create a resource; the server assigns its id (any id in the body is replaced). 201 + Location."""
    _check_type(resource_type)
    if resource.get("resourceType") != resource_type:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"resourceType {resource.get('resourceType')!r} does not match the URL ({resource_type})")
    new = {k: v for k, v in resource.items() if k != "meta"}
    new["id"] = uuid.uuid4().hex
    _guard(store, user, resource_type, new, "c", f"{resource_type} (create)")
    _ingest(store, [new], f"POST /fhir/{resource_type}")
    stored = store.read(resource_type, new["id"])
    return _fhir(stored, 201, _version_headers(stored, _base(request)))


@router.put("/{resource_type}/{rid}",
            openapi_extra={"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": _ANY_RESOURCE}}}},
            responses={201: {"description": "created"}, 412: {"description": "If-Match version conflict"}})
def update(resource_type: str, rid: str, request: Request, store: StoreDep, user: UserDep,
           resource: Annotated[dict[str, Any], Body(media_type=FHIR_JSON)],
           if_match: Annotated[str | None, Header(max_length=64)] = None) -> JSONResponse:
    """Update (or create with a client-chosen id) a resource; a changed resource gets the next version.
    ``If-Match: W/"n"`` makes the update conditional on the current version (412 otherwise)."""
    _check_type(resource_type)
    _check_id(rid)
    if resource.get("resourceType") != resource_type:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"resourceType {resource.get('resourceType')!r} does not match the URL ({resource_type})")
    if resource.get("id") != rid:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the resource's id ({resource.get('id')!r}) must equal "
                            f"the id in the URL ({rid!r})")
    try:
        current: dict[str, Any] | None = store.read(resource_type, rid)
    except NotFound:
        current = None
    if current is not None:
        _guard(store, user, resource_type, current, "u", f"{resource_type}/{rid} (update)")
    _guard(store, user, resource_type, resource, "u" if current is not None else "c", f"{resource_type}/{rid}")
    if if_match is not None:
        have = (current or {}).get("meta", {}).get("versionId")
        wanted = if_match.strip().removeprefix("W/").strip('"')
        if have != wanted:
            raise HTTPException(status.HTTP_412_PRECONDITION_FAILED,
                                f"If-Match {if_match!r} does not match the current version ({have or 'none'})")
    _ingest(store, [{k: v for k, v in resource.items() if k != "meta"}], f"PUT /fhir/{resource_type}/{rid}")
    stored = store.read(resource_type, rid)
    return _fhir(stored, 200 if current is not None else 201, _version_headers(stored, _base(request)))


@router.post("", openapi_extra={"requestBody": {"required": True, "content": {FHIR_JSON: {"schema": _ANY_RESOURCE}}}})
def transaction(request: Request, store: StoreDep, user: UserDep,
                bundle: Annotated[dict[str, Any], Body(media_type=FHIR_JSON)]) -> JSONResponse:
    """A transaction Bundle (POST/PUT entries), all or nothing through the spine's ingestion."""
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "expected a Bundle of type 'transaction' "
                            "(batch is not supported)")
    try:
        resources = bundle_resources(bundle, "transaction")
    except IngestError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    for index, res in enumerate(resources):
        if res["resourceType"] not in SEARCHABLE:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"entry {index}: resource type "
                                f"{res['resourceType']!r} is not supported here")
        if not isinstance(res.get("id"), str) or not ID_PATTERN.match(res["id"]):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"entry {index}: invalid id {res.get('id')!r}")
    existing = store.exists([(r["resourceType"], r["id"]) for r in resources])
    for res in resources:
        key = (res["resourceType"], res["id"])
        _guard(store, user, key[0], res, "u" if key in existing else "c", f"{key[0]}/{key[1]} (transaction)")
    _ingest(store, resources, "POST /fhir (transaction)")
    base = _base(request)
    entries = []
    for res in resources:
        key = (res["resourceType"], res["id"])
        stored = store.read(*key)
        headers = _version_headers(stored, base)
        entries.append({"response": {"status": "200 OK" if key in existing else "201 Created",
                                     "location": headers["Location"], "etag": headers["ETag"],
                                     "lastModified": (stored.get("meta") or {}).get("lastUpdated")}})
    return _fhir({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
