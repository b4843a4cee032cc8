"""A representative API session with logging at DEBUG: the server's logs must not carry the synthetic
patients' names, identifiers or ids (the HTTP client's own logs, httpx/httpcore, are not the server's)."""

from __future__ import annotations

import logging
import time

import pytest

from hygeia.governance.consent import research_consent
from hygeia.governance.smart import register_client
from hygeia.records import ingest_bundle
from tests.api.helpers import Hospital, claims, keypair
from tests.records.bundles import patient, transaction, vital

NAMES = ("Zorblatt", "Quinevere")
PID = "zq81x-patient"
MRN = f"MRN-{PID}"


def test_no_phi_in_application_logs(hospital: Hospital, caplog: pytest.LogCaptureFixture) -> None:
    ingest_bundle(hospital.store, transaction([patient(PID, family=NAMES[0], given=NAMES[1]),
                                               vital("zq-rr", PID, "9279-1", 30, "/min", "2024-01-01T08:00:00Z")]))
    key = keypair("ES384")
    register_client(hospital.store, "https://ehr.example", kind="cds", role="clinician", jwks=key.jwks)
    c = hospital.client
    caplog.set_level(logging.DEBUG)
    h = hospital.auth("clinician")
    assert c.get(f"/fhir/Patient/{PID}", headers=h).status_code == 200
    assert c.get("/fhir/Patient", params={"_id": PID}, headers=h).status_code == 200
    assert c.get("/fhir/Observation", params={"patient": PID, "_sort": "-date"}, headers=h).status_code == 200
    assert c.get(f"/fhir/Patient/{PID}", headers=hospital.auth("patient")).status_code == 403
    assert c.put(f"/fhir/Consent/{PID}-c", json=research_consent(PID, opt_out=False, cid=f"{PID}-c"),
                 headers=h).status_code == 201
    bad = patient(PID, family=NAMES[0], given=NAMES[1]) | {"gender": "not-a-gender"}
    assert c.put(f"/fhir/Patient/{PID}", json=bad, headers=h).status_code == 422  # error text names the value
    url = "http://testserver/cds-services/hygeia-patient-view"
    body = {"hook": "patient-view", "hookInstance": "i", "context": {"patientId": PID, "userId": "Practitioner/1"}}
    r = c.post("/cds-services/hygeia-patient-view", json=body,
               headers={"Authorization": f"Bearer {key.sign(claims('https://ehr.example', url))}"})
    assert r.status_code == 200
    researcher = hospital.auth("researcher")
    status_url = c.get("/fhir/$export", headers={**researcher, "Prefer": "respond-async"}).headers["content-location"]
    for _ in range(400):
        if c.get(status_url, headers=researcher).status_code == 200:
            break
        time.sleep(0.025)
    assert c.get(f"/audit?patient={PID}", headers=hospital.auth("governance")).status_code == 200
    server_logs = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name == "hygeia.api" for r in server_logs)  # the access log did run
    text = "\n".join(r.getMessage() for r in server_logs)
    for secret in (*NAMES, MRN, PID):
        assert secret not in text, secret
