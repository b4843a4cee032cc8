"""CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/) under /cds-services.

Services: ``hygeia-patient-view`` (the patient's active findings: NEWS2 from the latest vitals,
pharmacogenomic phenotypes on file, stored risk assessments), ``hygeia-order-select`` and
``hygeia-order-sign`` (drug–gene recommendations for the draft MedicationRequests, CPIC/DPWG via
``hygeia.pgx.assess_order``). Data comes from the request's prefetch, else from the FHIR server named
in the request (``fhirServer`` + ``fhirAuthorization``), else from Hygeia's own store; 412 when the
data cannot be had. Cards are renderings of Findings (``hygeia.findings.to_cds_card``). Every call
must carry a JWT signed by a registered CDS client (``hygeia.governance.smart.check_client_jwt``); its
``jti`` and the call's audit entry commit in one transaction.

Decision support for a clinician: cards inform, they do not replace, clinical judgement.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
import orjson
from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import insert
from starlette.routing import Route

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.api.cds_cache import CardCache, patient_fingerprint
from hygeia.api.deps import PARSED_BODY, StoreDep
from hygeia.api.group_commit import GroupCommit
from hygeia.api.routes.smart import jwks_cache
from hygeia.ews import news2_finding, score_news2
from hygeia.findings import Finding, Indicator, Source, to_cds_card
from hygeia.governance import audit
from hygeia.governance.access import AccessError
from hygeia.governance.schema import cds_feedback
from hygeia.governance.smart import VerifiedJwt, check_client_jwt
from hygeia.pgx import assess_order, record_phenotypes
from hygeia.pgx.cds import SimpleRecord
from hygeia.pgx.kb import KbError
from hygeia.pgx.phenotype import GenePhenotype
from hygeia.records import codes
from hygeia.records.fhirpath import patient_of
from hygeia.records.record import PatientRecord
from hygeia.records.store import NotFound, Store
from hygeia.records.validate import ID_PATTERN

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])
log = logging.getLogger("hygeia.api.cds")

PATIENT = "Patient/{{context.patientId}}"
PGX = "Observation?patient={{context.patientId}}&code=" + codes.LOINC + "|" + codes.PHENOTYPE_LOINC
GENOTYPES = "Observation?patient={{context.patientId}}&code=" + codes.LOINC + "|" + codes.GENOTYPE_LOINC
VITALS = "Observation?patient={{context.patientId}}&_sort=-date&_count=200"
RISKS = "RiskAssessment?patient={{context.patientId}}&_sort=-date&_count=20"
SERVICES: dict[str, dict[str, Any]] = {
    "hygeia-patient-view": {
        "hook": "patient-view", "id": "hygeia-patient-view", "title": "Hygeia: active findings",
        "description": "Early-warning level (NEWS2 from the latest vitals), pharmacogenomic phenotypes on file and "
                       "stored risk assessments. " + DECISION_SUPPORT_NOTICE,
        "prefetch": {"patient": PATIENT, "vitals": VITALS, "pgx": PGX, "genotypes": GENOTYPES, "risks": RISKS},
        "usageRequirements": "Register the CDS client's iss and JWKS with `hygeia users add-client --kind cds`.",
    },
    "hygeia-order-select": {
        "hook": "order-select", "id": "hygeia-order-select", "title": "Hygeia: drug–gene check (selection)",
        "description": "CPIC/DPWG drug–gene recommendations for the selected draft MedicationRequests. "
                       + DECISION_SUPPORT_NOTICE,
        "prefetch": {"patient": PATIENT, "pgx": PGX, "genotypes": GENOTYPES},
    },
    "hygeia-order-sign": {
        "hook": "order-sign", "id": "hygeia-order-sign", "title": "Hygeia: drug–gene check (signing)",
        "description": "CPIC/DPWG drug–gene recommendations for every draft MedicationRequest about to be signed. "
                       + DECISION_SUPPORT_NOTICE,
        "prefetch": {"patient": PATIENT, "pgx": PGX, "genotypes": GENOTYPES},
    },
}
# Override reasons offered on warning and critical cards (a local code system; CDS Hooks 2.0 §overrideReasons).
OVERRIDE_REASONS = [
    {"code": "patient-aware", "display": "Patient aware of risk and benefit; continuing"},
    {"code": "clinically-inappropriate", "display": "Not clinically appropriate for this patient"},
    {"code": "already-addressed", "display": "Already addressed"},
    {"code": "data-incorrect", "display": "The data used is incorrect"},
]
NEWS2_MAX_AGE = timedelta(hours=24)  # readings older than this before the newest are reported as stale
FETCH_TIMEOUT = 5.0
MAX_AUTHORIZATION = 16_384  # characters of the Authorization header


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")
    access_token: str = Field(max_length=16_384)
    token_type: Literal["Bearer", "bearer"]
    expires_in: int
    scope: str = Field(max_length=4_000)
    subject: str = Field(max_length=1_000)


class HookRequest(BaseModel):
    """A CDS Hooks 2.0 service request."""

    model_config = ConfigDict(extra="allow")
    hook: str = Field(max_length=128)
    hookInstance: str = Field(max_length=128)
    fhirServer: str | None = Field(default=None, max_length=2_000, pattern=r"^https?://")
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Coding(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(max_length=128)
    system: str | None = Field(default=None, max_length=255)
    display: str | None = Field(default=None, max_length=255)


class OverrideReason(BaseModel):
    model_config = ConfigDict(extra="allow")
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=2_000)


class AcceptedSuggestion(BaseModel):
    id: str = Field(max_length=128)


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    card: str = Field(max_length=128)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=50)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: datetime


class FeedbackRequest(BaseModel):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


class CardsResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    cards: list[dict[str, Any]]
    systemActions: list[dict[str, Any]] = Field(default_factory=list)


# -- authentication -----------------------------------------------------------------------------

async def cds_client(request: Request, store: StoreDep, authorization: Annotated[
        str | None, Header(max_length=MAX_AUTHORIZATION)] = None) -> VerifiedJwt:
    """The registered CDS client whose signed JWT is in the Authorization header (401 otherwise). Its ``jti``
    is recorded in the transaction that writes the call's audit entry (:class:`GroupCommit`; :func:`_commit`
    for feedback).

    Runs on the event loop: the check is CPU work (one signature) on cached keys; the store is read only
    when the client cache is cold (once per client per ``JwksCache.client_ttl``), which is brief."""
    if authorization is None or not authorization.lower().startswith("bearer "):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a CDS client JWT is required: "
                            "'Authorization: Bearer <jwt>'", headers={"WWW-Authenticate": "Bearer"})
    url = str(request.url).split("?")[0]
    audiences = [url, url.removesuffix("/feedback")]
    try:
        return check_client_jwt(store, authorization[7:].strip(), kind="cds", audience=audiences,
                                keys=jwks_cache(request))
    except AccessError as exc:
        raise _unauthorized(exc) from None


def _unauthorized(exc: AccessError) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


CallerDep = Annotated[VerifiedJwt, Depends(cds_client)]


def _commit(store: Store, caller: VerifiedJwt, entry: dict[str, Any] | None = None,
            feedback_rows: list[dict[str, Any]] | None = None) -> None:
    """One transaction per call: the JWT's jti (replay record), the audit entry, feedback rows. A jti that
    another process accepted first is refused (401) and nothing is written but a denied audit entry."""
    try:
        with audit.chain_transaction(store) as conn:
            caller.remember(conn)
            if entry is not None:
                audit.append(conn, **entry)
            if feedback_rows:
                conn.execute(insert(cds_feedback), feedback_rows)
    except AccessError as exc:
        if entry is not None:
            audit.record(store, **{**entry, "outcome": "4", "detail": f"401: {exc}"})
        raise _unauthorized(exc) from None


@router.get("")
def discovery() -> dict[str, Any]:
    """The CDS Services this server offers, with their prefetch templates."""
    return {"services": list(SERVICES.values())}


# -- data: prefetch, the named FHIR server, or the own store ------------------------------------

class DataUnavailable(Exception):
    """Required data could not be had (→ 412)."""


def _render(template: str, context: dict[str, Any]) -> str:
    out = template
    for key, value in context.items():
        if isinstance(value, str):
            out = out.replace("{{context." + key + "}}", value)
    return out


def _entries(bundle: Any) -> list[dict[str, Any]]:
    if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle":
        return [e["resource"] for e in bundle.get("entry") or [] if isinstance(e, dict)
                and isinstance(e.get("resource"), dict)]
    return []


@dataclass
class Fetcher:
    """Gets each prefetch key from the request, else the FHIR server named in it."""

    hook: HookRequest
    templates: dict[str, str]

    def get(self, key: str) -> Any:
        prefetch = self.hook.prefetch or {}
        if prefetch.get(key) is not None:
            return prefetch[key]
        if self.hook.fhirServer is None:
            return None
        url = self.hook.fhirServer.rstrip("/") + "/" + _render(self.templates[key], self.hook.context)
        headers = {"Accept": "application/fhir+json"}
        if self.hook.fhirAuthorization is not None:
            headers["Authorization"] = f"Bearer {self.hook.fhirAuthorization.access_token}"
        try:
            response = httpx.get(url, headers=headers, timeout=FETCH_TIMEOUT, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise DataUnavailable(f"the FHIR server could not be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise DataUnavailable(f"the FHIR server answered {response.status_code} for prefetch {key!r}")
        try:
            return response.json()
        except ValueError:
            raise DataUnavailable(f"the FHIR server sent invalid JSON for prefetch {key!r}") from None


def _from_store(hook: HookRequest, service: dict[str, Any]) -> bool:
    """Whether the data comes from Hygeia's own store: no prefetch for the service and no fhirServer."""
    prefetch = hook.prefetch or {}
    return hook.fhirServer is None and not any(prefetch.get(k) is not None for k in service["prefetch"])


def _record(store: Store, hook: HookRequest, service: dict[str, Any], patient_id: str, keys: tuple[str, ...]
            ) -> PatientRecord:
    """The patient's record: from prefetch / the named FHIR server, or Hygeia's own store."""
    if _from_store(hook, service):
        try:
            return PatientRecord.load(store, patient_id)
        except NotFound:
            raise DataUnavailable("no prefetch, no fhirServer, and the patient is not in Hygeia's store") from None
    fetcher = Fetcher(hook, service["prefetch"])
    patient = fetcher.get("patient")
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient" or patient.get("id") != patient_id:
        raise DataUnavailable("prefetch 'patient' is missing or is not the context's Patient")
    resources: list[dict[str, Any]] = [patient]
    for key in keys:
        if key != "patient":
            resources += [r for r in _entries(fetcher.get(key)) if patient_of(r) in (patient_id, None)]
    for r in resources:  # the record's index needs ids
        r.setdefault("id", f"anon-{len(resources)}-{id(r)}")
    return PatientRecord.from_resources(resources, patient_id)


# -- findings -----------------------------------------------------------------------------------

_NEWS2_OF_VITAL = {"respiratory_rate": "respiratory_rate", "spo2": "spo2", "systolic_bp": "sbp",
                   "heart_rate": "pulse", "temperature": "temperature", "consciousness": "acvpu",
                   "supplemental_oxygen": "on_oxygen"}


def news2_from_record(record: PatientRecord) -> Finding | None:
    """NEWS2 (RCP 2017, via hygeia.ews) from the latest value of each parameter in the record's vitals."""
    readings: dict[str, tuple[Any, datetime, str | None]] = {}
    for row in record.latest_vital_readings():  # plain rows: a DataFrame here would cost more than the query
        name, number = str(row["name"]), row["value"]
        if name not in _NEWS2_OF_VITAL:
            continue
        ref = f"Observation/{row['resource_id']}" if row["resource_id"] else None
        if name == "consciousness":
            value: Any = row["value_str"]
        elif number is None or number != number:
            continue
        elif name == "supplemental_oxygen":
            value = bool(number > 21) if row["unit"] == "%" else bool(number > 0)
        else:
            value = float(number)
        if value is None:
            continue
        readings[_NEWS2_OF_VITAL[name]] = (value, row["time"], ref)
    if not readings:
        return None
    now = max(r[1] for r in readings.values())
    try:
        result = score_news2(readings, now=now, max_age=NEWS2_MAX_AGE)
    except ValueError:
        return None  # a value NEWS2 cannot score (implausible): no card rather than a wrong one
    return news2_finding(record.id, result)


def phenotypes_of(record: PatientRecord) -> dict[str, GenePhenotype]:
    """Pharmacogenomic phenotypes on file (``hygeia.pgx.record_phenotypes``: the Genomics Reporting IG
    genotype/phenotype Observations in the record)."""
    return record_phenotypes(record)


CPIC = Source(label="CPIC guidelines (via Hygeia PGx)", url="https://cpicpgx.org/guidelines/")


def phenotype_finding(patient_id: str, phenotypes: dict[str, GenePhenotype]) -> Finding | None:
    shown = {g: p for g, p in sorted(phenotypes.items()) if p.phenotype or p.diplotype}
    if not shown:
        return None
    parts = [f"{g} {p.phenotype or p.diplotype}" for g, p in shown.items()]
    summary = "Pharmacogenomic results on file: " + "; ".join(parts)
    if len(summary) > 140:
        summary = summary[:139] + "…"
    rows = "\n".join(f"| {g} | {p.diplotype or '—'} | {p.phenotype or p.activity_score or '—'} |"
                     for g, p in shown.items())
    detail = ("| gene | diplotype | phenotype |\n|---|---|---|\n" + rows + "\n\nDrug–gene recommendations are "
              "shown when a relevant drug is ordered (order-select / order-sign).")
    return Finding(patient_id=patient_id, capability="pgx", kind="phenotypes", summary=summary, detail=detail,
                   source=CPIC, version="record")


def risk_findings(patient_id: str, assessments: list[dict[str, Any]]) -> list[Finding]:
    """The latest stored RiskAssessment per predicted outcome."""
    latest: dict[str, dict[str, Any]] = {}
    for ra in sorted(assessments, key=lambda r: str(r.get("occurrenceDateTime", ""))):
        if ra.get("status") not in ("final", "amended", "corrected", "preliminary"):
            continue
        for pred in ra.get("prediction") or []:
            outcome = (pred.get("outcome") or {}).get("text") or "outcome"
            if isinstance(pred.get("probabilityDecimal"), int | float):
                latest[str(outcome)] = {"p": float(pred["probabilityDecimal"]), "ra": ra}
    out = []
    for outcome, item in sorted(latest.items()):
        ra = item["ra"]
        method = (ra.get("method") or {}).get("text") or "Hygeia risk model"
        summary = f"Predicted risk of {outcome}: {item['p']:.0%}"[:140]
        detail = (f"Stored RiskAssessment/{ra.get('id')} ({ra.get('occurrenceDateTime', 'undated')}), "
                  f"method: {method}.")
        out.append(Finding(patient_id=patient_id, capability="risk", kind=str(outcome)[:64], summary=summary,
                           detail=detail, source=Source(label=str(method)[:200]), version="stored"))
    return out


def _card(finding: Finding) -> dict[str, Any]:
    reasons = OVERRIDE_REASONS if finding.indicator != Indicator.INFO else None
    return to_cds_card(finding, override_reasons=reasons)


def _unavailable_card(patient_id: str, reason: str) -> dict[str, Any]:
    return _card(Finding(patient_id=patient_id, capability="pgx", kind="unavailable",
                         summary="Drug–gene check unavailable", detail=reason,
                         source=Source(label="Hygeia PGx"), version="-"))


def _order_cards(record: PatientRecord, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    phenotypes = phenotypes_of(record)
    if not phenotypes:
        return []
    simple = SimpleRecord(record.id, phenotypes)
    cards = []
    for order in orders:
        try:
            findings = assess_order(simple, order)
        except (KbError, OSError, KeyError, RuntimeError):  # KbError before ValueError: it is one
            return [_unavailable_card(record.id, "The pharmacogenomics knowledge base is not installed "
                                      "(`hygeia pgx` documents how to import it); no drug–gene check was made.")]
        except ValueError:
            continue  # an order without a drug name cannot be checked
        cards += [_card(f) for f in findings]
    return cards


# -- the hooks ----------------------------------------------------------------------------------

def _patient_id(hook: HookRequest) -> str:
    pid = hook.context.get("patientId")
    if not isinstance(pid, str) or not ID_PATTERN.match(pid):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "context.patientId is required (a FHIR id)")
    return pid


def _draft_orders(hook: HookRequest, selected_only: bool) -> list[dict[str, Any]]:
    drafts = hook.context.get("draftOrders")
    if not isinstance(drafts, dict) or drafts.get("resourceType") != "Bundle":
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "context.draftOrders must be a FHIR Bundle")
    orders = [r for r in _entries(drafts) if r.get("resourceType") == "MedicationRequest"]
    if selected_only:
        selections = hook.context.get("selections")
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "context.selections must be a list of references")
        orders = [o for o in orders if f"MedicationRequest/{o.get('id')}" in selections]
    return orders


def _cards(store: Store, service: dict[str, Any], hook: HookRequest, pid: str) -> list[dict[str, Any]]:
    """The service's cards (400 for a malformed request, DataUnavailable when the data cannot be had)."""
    orders: list[dict[str, Any]] = []
    if service["hook"] != "patient-view":
        orders = _draft_orders(hook, selected_only=service["hook"] == "order-select")
    record = _record(store, hook, service, pid, tuple(service["prefetch"]))
    if service["hook"] == "patient-view":
        findings = [f for f in (news2_from_record(record), phenotype_finding(pid, phenotypes_of(record)))
                    if f is not None]
        if _from_store(hook, service):  # only the RiskAssessments, not the whole chart PatientRecord groups
            assessments = list(store.patient_resources(pid, ["RiskAssessment"]))
        else:
            assessments = record.resources("RiskAssessment")
        return [_card(f) for f in findings + risk_findings(pid, assessments)]
    return _order_cards(record, orders)


def _kb_key() -> str | None:
    """The PGx knowledge base the order hooks consult (its directory: ``cached_kb`` keeps one per directory),
    or None when it cannot be loaded (then nothing is cached: the "unavailable" card must not outlive it)."""
    from hygeia.pgx.kb import cached_kb, default_kb_dir

    path = str(default_kb_dir())
    try:
        cached_kb(path)
    except (KbError, OSError):
        return None
    return path


def _cards_cached(cache: CardCache, store: Store, service: dict[str, Any], hook: HookRequest,
                  pid: str) -> list[dict[str, Any]]:
    """:func:`_cards`, from the cache when the data comes from the store and the patient's store fingerprint,
    the draft orders and the knowledge base are those of a previous call (``hygeia.api.cds_cache``)."""
    if not _from_store(hook, service):
        return _cards(store, service, hook, pid)
    orders = b""
    kb: str | None = ""
    if service["hook"] != "patient-view":
        orders = orjson.dumps(_draft_orders(hook, selected_only=service["hook"] == "order-select"),
                              option=orjson.OPT_SORT_KEYS)
        kb = _kb_key()
    fingerprint = patient_fingerprint(store, pid)  # read before the cards: a later write changes it
    if fingerprint is None or kb is None:
        return _cards(store, service, hook, pid)
    key = (service["hook"], pid, fingerprint, orders, kb)
    cards = cache.get(key)
    if cards is None:
        cards = _cards(store, service, hook, pid)
        cache.put(key, cards)
    return cards


def card_cache(request: Request) -> CardCache:
    cache: CardCache | None = getattr(request.app.state, "cds_cards", None)
    if cache is None:
        cache = request.app.state.cds_cards = CardCache()
    return cache


def group_commit(request: Request, store: Store) -> GroupCommit:
    commits: GroupCommit | None = getattr(request.app.state, "cds_commits", None)
    if commits is None or commits.store is not store:
        commits = request.app.state.cds_commits = GroupCommit(store)
    return commits


@router.post("/{service_id}", response_model=CardsResponse,
             responses={401: {"description": "CDS client JWT missing or invalid"},
                        412: {"description": "required data could not be obtained"}})
async def call_service(service_id: str, hook: HookRequest, request: Request, store: StoreDep,
                       caller: CallerDep) -> Response:
    """Invoke a CDS service (patient-view, order-select, order-sign)."""
    # On the event loop: with SQLite, the cards come from the store's page cache or the card cache (CPU work,
    # as a thread would do under the GIL, without the hop); a prefetch from a FHIR server or a networked
    # database is waited for in a thread. The audit entry and the jti are group-committed.
    client = caller.client
    commits = group_commit(request, store)
    try:
        service = SERVICES.get(service_id)
        if service is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no CDS service {service_id!r}")
        if hook.hook != service["hook"]:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"this service answers '{service['hook']}', "
                                f"not {hook.hook!r}")
        if hook.fhirAuthorization is not None and hook.fhirServer is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "fhirAuthorization given without fhirServer")
        pid = _patient_id(hook)
    except HTTPException:
        await _group_commit(commits, caller)  # the jti is spent even by a refused call
        raise
    entry: dict[str, Any] = {"username": f"cds:{client.client_id}", "role": client.role.value, "action": "E",
                             "patient_id": pid, "resource": f"cds-services/{service_id}"}
    try:
        if _from_store(hook, service) and store.engine.dialect.name == "sqlite":
            cards = _cards_cached(card_cache(request), store, service, hook, pid)
        else:
            cards = await asyncio.to_thread(_cards_cached, card_cache(request), store, service, hook, pid)
    except DataUnavailable as exc:
        await _group_commit(commits, caller, {**entry, "outcome": "4", "detail": f"412: {exc}"[:500]})
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, str(exc)) from None
    except HTTPException as exc:
        await _group_commit(commits, caller, {**entry, "outcome": "4",
                                              "detail": f"{exc.status_code}: {exc.detail}"[:500]})
        raise
    except Exception as exc:  # audited as a serious failure (AuditEvent outcome 8), then the 500 handler answers
        await _group_commit(commits, caller, {**entry, "outcome": "8", "detail": f"500: {type(exc).__name__}"})
        raise
    await _group_commit(commits, caller, {**entry, "detail": f"{len(cards)} cards"})
    # Serialised once with orjson: the cards are built here, re-validating them through the model gains nothing.
    return Response(orjson.dumps({"cards": cards, "systemActions": []}), media_type="application/json")


async def _group_commit(commits: GroupCommit, caller: VerifiedJwt, entry: dict[str, Any] | None = None) -> None:
    try:
        await commits.commit(caller, entry)
    except AccessError as exc:  # replayed: the entry was written as a refusal
        raise _unauthorized(exc) from None


async def fast_call_service(request: Request) -> Response:
    """``POST /cds-services/{service_id}`` as a plain Starlette route, matched ahead of the FastAPI routes
    (``create_app`` puts it first): the same checks as :func:`call_service`'s declared parameters — the
    Authorization header's length and the client JWT (401), then the body against :class:`HookRequest`
    (422, FastAPI's error shape) — then :func:`call_service` itself. The FastAPI route stays for the OpenAPI
    document; this one saves its dependency resolution and route search (~0.2 ms of a ~2 ms call)."""
    request.scope["route"] = fast_route  # the access log names the route template, as for FastAPI's routes
    store: Store = request.app.state.store
    authorization = request.headers.get("authorization")
    if authorization is not None and len(authorization) > MAX_AUTHORIZATION:
        raise RequestValidationError([{"type": "string_too_long", "loc": ("header", "authorization"),
                                       "msg": f"String should have at most {MAX_AUTHORIZATION} characters"}])
    caller = await cds_client(request, store, authorization)
    body = request.scope.get(PARSED_BODY, _NO_BODY)
    if body is _NO_BODY:  # LimitsMiddleware parses JSON bodies; this is for an app assembled without it
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "body is not valid JSON") from None
    if body is None:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        hook = HookRequest.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
                                     ) from None
    return await call_service(request.path_params["service_id"], hook, request, store, caller)


fast_route = Route("/cds-services/{service_id}", fast_call_service, methods=["POST"])
_NO_BODY = object()


@router.post("/{service_id}/feedback", responses={401: {"description": "CDS client JWT missing or invalid"}})
def feedback(service_id: str, body: FeedbackRequest, store: StoreDep, caller: CallerDep) -> dict[str, int]:
    """Store card outcomes (accepted / overridden with the reason) for the governance board."""
    client = caller.client
    if service_id not in SERVICES:
        _commit(store, caller)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no CDS service {service_id!r}")
    now = datetime.now(UTC)
    rows = []
    for item in body.feedback:
        if item.outcome == "overridden" and item.acceptedSuggestions:
            _commit(store, caller)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "an overridden card has no accepted suggestions")
        reason = item.overrideReason.reason if item.overrideReason else None
        stamp = item.outcomeTimestamp if item.outcomeTimestamp.tzinfo else item.outcomeTimestamp.replace(tzinfo=UTC)
        rows.append({"service": service_id, "card": item.card, "outcome": item.outcome,
                     "accepted_suggestions": [s.id for s in item.acceptedSuggestions or []],
                     "override_code": reason.code if reason else None,
                     "override_system": reason.system if reason else None,
                     "override_display": reason.display if reason else None,
                     "user_comment": item.overrideReason.userComment if item.overrideReason else None,
                     "outcome_time": stamp, "received": now, "client": client.client_id})
    _commit(store, caller, feedback_rows=rows)
    return {"stored": len(rows)}
