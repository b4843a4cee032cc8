"""The audit log and CDS feedback for the governance board (governance role only).

``GET /audit`` answers "who looked at this patient" as a FHIR Bundle of AuditEvents; reading it is
itself audited. ``GET /audit/verify`` checks the hash chain. ``GET /audit/cds-feedback`` gives the
aggregate accepted/overridden counts and override reasons per CDS service (no patient data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from hygeia.api.deps import StoreDep, UserDep
from hygeia.governance import audit as audit_mod
from hygeia.governance.access import Role, User
from hygeia.governance.schema import cds_feedback
from hygeia.records.validate import ID_PATTERN

router = APIRouter(prefix="/audit", tags=["audit"])


def _governance(store: StoreDep, user: User, what: str) -> None:
    if not user.has(Role.GOVERNANCE):
        audit_mod.record(store, username=user.username, role=user.role.value, action="R", resource=what,
                         outcome="4", purpose="HOPERAT", detail="denied: governance role required")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the audit log is for the governance role")


@router.get("")
def audit_log(store: StoreDep, user: UserDep,
              patient: Annotated[str | None, Query(max_length=64)] = None,
              username: Annotated[str | None, Query(alias="user", max_length=128)] = None,
              since: datetime | None = None,
              count: Annotated[int, Query(alias="_count", ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(alias="_offset", ge=0, le=10_000_000)] = 0) -> JSONResponse:
    """Audit entries as FHIR AuditEvents, newest first ("who looked at this patient?")."""
    _governance(store, user, "audit")
    if patient is not None and not ID_PATTERN.match(patient):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "patient: invalid id")
    entries = audit_mod.query(store, patient_id=patient, username=username, limit=count, since=since, offset=offset)
    audit_mod.record(store, username=user.username, role=user.role.value, action="R", patient_id=patient,
                     resource="audit", purpose="HOPERAT", detail="audit log read")
    return JSONResponse({"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                         "entry": [{"resource": audit_mod.to_audit_event(e)} for e in entries]},
                        media_type="application/fhir+json")


@router.get("/verify")
def audit_verify(store: StoreDep, user: UserDep) -> dict[str, Any]:
    """Walk the hash chain: ok, number of entries, first broken entry and why, and the head hash."""
    _governance(store, user, "audit/verify")
    result = audit_mod.verify(store)
    return {"ok": result.ok, "entries": result.entries, "first_bad_seq": result.first_bad_seq,
            "reason": result.reason, "head": result.head}


@router.get("/cds-feedback")
def feedback_summary(store: StoreDep, user: UserDep) -> dict[str, Any]:
    """Accepted/overridden counts per CDS service and the override reasons given (aggregates only)."""
    _governance(store, user, "audit/cds-feedback")
    with store.engine.connect() as conn:
        outcomes = conn.execute(select(cds_feedback.c.service, cds_feedback.c.outcome, func.count())
                                .group_by(cds_feedback.c.service, cds_feedback.c.outcome)).all()
        reasons = conn.execute(select(cds_feedback.c.service, cds_feedback.c.override_code,
                                      cds_feedback.c.override_display, func.count())
                               .where(cds_feedback.c.outcome == "overridden")
                               .group_by(cds_feedback.c.service, cds_feedback.c.override_code,
                                         cds_feedback.c.override_display)).all()
    services: dict[str, dict[str, Any]] = {}
    for service, outcome, n in outcomes:
        services.setdefault(service, {"accepted": 0, "overridden": 0, "override_reasons": []})[outcome] = int(n)
    for service, code, display, n in reasons:
        services.setdefault(service, {"accepted": 0, "overridden": 0, "override_reasons": []})
        services[service]["override_reasons"].append({"code": code, "display": display, "count": int(n)})
    return {"services": services}
