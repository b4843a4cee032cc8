"""NEWS2 alerts: list open alerts, acknowledge, follow as server-sent events; and Observations POSTed for
scoring (the record path of the monitor). Care-team roles only; every patient's data access is audited.

Decision support for a clinician: alerts carry the RCP NEWS2 clinical response; they inform, they do not
replace, clinical judgement.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.api.deps import StoreDep, UserDep, require_patient_access
from hygeia.ews.monitor import (
    acknowledge_alert,
    alert_events,
    get_alert,
    last_event_seq,
    open_alerts,
    process_observations,
)
from hygeia.governance.access import User
from hygeia.records.fhirpath import patient_of
from hygeia.records.validate import ID_PATTERN

router = APIRouter(tags=["alerts"])


def _clinical(user: User) -> None:
    if not user.may_list_patients():
        raise HTTPException(status.HTTP_403_FORBIDDEN, "alerts are for care-team roles (clinician, nurse, pharmacist)")


@router.get("/alerts")
def list_alerts(store: StoreDep, user: UserDep, ward: str | None = None,
                patient: str | None = None) -> dict[str, Any]:
    """Open alerts, most urgent first; filter by ``ward`` or ``patient``."""
    _clinical(user)
    alerts = open_alerts(store, ward=ward, patient_id=patient)
    for pid in sorted({a["patient_id"] for a in alerts}):
        require_patient_access(store, user, pid, "alerts")
    return {"alerts": alerts, "count": len(alerts), "notice": DECISION_SUPPORT_NOTICE}


@router.post("/alerts/{alert_id}/ack")
def ack_alert(alert_id: str, store: StoreDep, user: UserDep) -> dict[str, Any]:
    """Acknowledge an alert (it stops being re-sent). Idempotent."""
    _clinical(user)
    found = get_alert(store, alert_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id!r}")
    require_patient_access(store, user, found["patient_id"], f"alerts/{alert_id}", action="U")
    return acknowledge_alert(store, alert_id, user.username)


@router.get("/alerts/stream")
async def stream(store: StoreDep, user: UserDep, ward: str | None = None, patient: str | None = None,
                 since: Annotated[int | None, Query(ge=0, description="start after this event number")] = None,
                 follow: bool = True, poll: Annotated[float, Query(ge=0.05, le=10)] = 1.0,
                 last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """Server-sent events: one ``raised``/``resent``/``acknowledged``/``superseded`` event per change,
    ``id`` = event number (reconnect with ``Last-Event-ID``). ``follow=false`` sends the backlog and ends."""
    _clinical(user)
    cursor = since if since is not None else (int(last_event_id) if last_event_id and last_event_id.isdigit()
                                              else last_event_seq(store))

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        audited: set[str] = set()
        yield ": hygeia alerts — " + DECISION_SUPPORT_NOTICE + "\n\n"
        while True:
            batch = await asyncio.to_thread(alert_events, store, cursor, ward=ward, patient_id=patient)
            for seq, event, doc in batch:
                cursor = seq
                if doc["patient_id"] not in audited:
                    await asyncio.to_thread(require_patient_access, store, user, doc["patient_id"], "alerts/stream")
                    audited.add(doc["patient_id"])
                yield f"id: {seq}\nevent: {event}\ndata: {json.dumps(doc)}\n\n"
            if not follow and not batch:
                return
            if not batch:
                await asyncio.sleep(poll)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


@router.post("/monitor/observations/{patient_id}")
def post_observations(patient_id: str, store: StoreDep, user: UserDep,
                      body: Annotated[dict[str, Any] | list[dict[str, Any]], Body()]) -> dict[str, Any]:
    """Store FHIR Observations of one patient (a JSON array, a Bundle, or one Observation) and score them
    on the monitor's path: NEWS2 from the latest values, the NEWS2 Observation stored, alerts raised."""
    _clinical(user)
    if not ID_PATTERN.match(patient_id):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"invalid patient id {patient_id!r}")
    if isinstance(body, dict) and body.get("resourceType") == "Bundle":
        items = [e.get("resource") for e in body.get("entry") or []]
    else:
        items = body if isinstance(body, list) else [body]
    for i, obs in enumerate(items):
        where = f"item {i}"
        if not isinstance(obs, dict) or obs.get("resourceType") != "Observation":
            raise HTTPException(422, f"{where}: not an Observation")
        if not isinstance(obs.get("id"), str) or not ID_PATTERN.match(obs["id"]):
            raise HTTPException(422, f"{where}: id missing or invalid")
        if patient_of(obs) != patient_id:
            raise HTTPException(422,
                                f"{where} (Observation/{obs['id']}): subject is not Patient/{patient_id}")
    require_patient_access(store, user, patient_id, f"monitor/observations/{patient_id}", action="C")
    try:
        outcome = process_observations(store, patient_id, items)
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(422, f"cannot score these Observations: {exc}") from None
    result = outcome.result
    return {
        "patient_id": patient_id,
        "stored": len(items),
        "news2": None if result is None else {
            "total": result.total, "risk": result.risk, "complete": result.complete, "missing": list(result.missing),
            "response": result.response.text(), "observation": f"Observation/{outcome.news2_id}"},
        "rising_trend": outcome.trend is not None,
        "alerts": outcome.alerts,
        "notice": DECISION_SUPPORT_NOTICE,
    }
