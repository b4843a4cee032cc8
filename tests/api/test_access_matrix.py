"""Every route × every role (least privilege), including "patient A cannot read patient B"."""

from __future__ import annotations

from typing import Any

import pytest

from hygeia.governance import audit
from hygeia.governance.access import Role
from tests.api.helpers import Hospital

CARE = {"clinician", "nurse", "pharmacist"}
ALL = {r.value for r in Role} | {"patient2"}
CDS_BODY = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1", "userId": "Practitioner/1"}}


def _obs(pid: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2024-02-01T00:00:00Z",
            "valueQuantity": {"value": 80, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def _consent(cid: str, pid: str) -> dict[str, Any]:
    from hygeia.governance.consent import research_consent

    return research_consent(pid, opt_out=True, cid=cid)


# (name, method, path, body, headers, roles allowed). Denied → 403 (or 401 where noted).
ROUTES: list[tuple[str, str, str, Any, dict[str, str], set[str]]] = [
    ("read own/any chart", "GET", "/fhir/Patient/p1", None, {}, CARE | {"patient"}),
    ("read other chart", "GET", "/fhir/Patient/p2", None, {}, CARE | {"patient2"}),
    ("vread", "GET", "/fhir/Patient/p1/_history/1", None, {}, CARE | {"patient"}),
    ("read observation", "GET", "/fhir/Observation/p2-hr", None, {}, CARE | {"patient2"}),
    ("search p1", "GET", "/fhir/Observation?patient=p1", None, {}, CARE | {"patient"}),
    ("search p2", "GET", "/fhir/Observation?patient=p2&_sort=-date&status=final", None, {}, CARE | {"patient2"}),
    ("search all/own", "GET", "/fhir/Observation", None, {}, CARE | {"patient", "patient2"}),
    ("create obs p1", "POST", "/fhir/Observation", _obs("p1"), {}, CARE),
    ("transaction", "POST", "/fhir", {"resourceType": "Bundle", "type": "transaction",
                                      "entry": [{"resource": _obs("p2"), "request": {"method": "POST",
                                                                                     "url": "Observation"}}]},
     {}, CARE),
    ("consent p1", "PUT", "/fhir/Consent/{cid}", "p1", {}, CARE | {"patient"}),
    ("consent p2", "PUT", "/fhir/Consent/{cid}", "p2", {}, CARE | {"patient2"}),
    ("bulk export", "GET", "/fhir/$export", None, {"Prefer": "respond-async"}, {"researcher"}),
    ("research cohort", "GET", "/research/cohort", None, {}, {"researcher", "governance"}),
    ("audit log", "GET", "/audit?patient=p1", None, {}, {"governance"}),
    ("audit verify", "GET", "/audit/verify", None, {}, {"governance"}),
    ("cds feedback summary", "GET", "/audit/cds-feedback", None, {}, {"governance"}),
    ("alerts", "GET", "/alerts", None, {}, CARE),
    ("me", "GET", "/auth/me", None, {}, ALL),
]


@pytest.mark.parametrize("username", sorted(ALL))
def test_route_role_matrix(shared_hospital: Hospital, username: str) -> None:
    hospital = shared_hospital
    client = hospital.client
    headers = hospital.auth(username)
    for name, method, path, body, extra, allowed in ROUTES:
        if path.endswith("{cid}"):
            cid = f"c-{username}-{body}"
            path, body = path.replace("{cid}", cid), _consent(cid, body)
        response = client.request(method, path, json=body, headers={**headers, **extra})
        if username in allowed:
            assert response.status_code in (200, 201, 202), (name, username, response.status_code, response.text)
        else:
            assert response.status_code == 403, (name, username, response.status_code, response.text)
            if path.startswith("/fhir"):
                assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", ["/fhir/metadata", "/.well-known/smart-configuration", "/cds-services", "/health"])
def test_public_routes(shared_hospital: Hospital, path: str) -> None:
    assert shared_hospital.client.get(path).status_code == 200


def test_every_protected_route_needs_a_token(shared_hospital: Hospital) -> None:
    hospital = shared_hospital
    for _name, method, path, body, extra, _allowed in ROUTES:
        response = hospital.client.request(method, path.replace("{cid}", "x"), json=body, headers=extra)
        assert response.status_code == 401, (path, response.status_code)


def test_user_tokens_cannot_call_cds_services(shared_hospital: Hospital) -> None:
    hospital = shared_hospital
    response = hospital.client.post("/cds-services/hygeia-patient-view", json=CDS_BODY,
                                    headers=hospital.auth("clinician"))
    assert response.status_code == 401


def test_patient_a_cannot_read_patient_b_and_it_is_audited(shared_hospital: Hospital) -> None:
    hospital = shared_hospital
    client = hospital.client
    a = hospital.auth("patient")  # patient user bound to p1
    assert client.get("/fhir/Patient/p1", headers=a).status_code == 200
    for path in ("/fhir/Patient/p2", "/fhir/Observation/p2-hr", "/fhir/Observation?patient=p2",
                 "/fhir/Observation?subject=Patient/p2", "/fhir/Patient/p2/_history/1", "/fhir/Patient?_id=p2"):
        assert client.get(path, headers=a).status_code == 403, path
    own = client.get("/fhir/Observation", headers=a).json()
    assert {e["resource"]["subject"]["reference"] for e in own["entry"]} == {"Patient/p1"}
    denied = [e for e in audit.query(hospital.store, patient_id="p2") if e.username == "patient"]
    assert denied and all(e.outcome == "4" for e in denied)
    assert audit.verify(hospital.store).ok
