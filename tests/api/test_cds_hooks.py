"""CDS Hooks 2.0 conformance, written from the spec (https://cds-hooks.hl7.org/2.0/): discovery shape,
client JWT authentication, request validation, prefetch / FHIR-server / own-store data, 412, card
constraints, feedback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import jwt
import pytest

from hygeia.governance.smart import register_client
from tests.api.helpers import Hospital, KeyPair, claims, keypair
from tests.records.bundles import patient, vital

BASE = "http://testserver/cds-services"
PV = f"{BASE}/hygeia-patient-view"
ISS = "https://ehr.example.org"


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return keypair("ES384")


@pytest.fixture
def cds(hospital: Hospital, key: KeyPair) -> Hospital:
    register_client(hospital.store, ISS, kind="cds", role="clinician", jwks=key.jwks)
    return hospital


def _auth(key: KeyPair, aud: str = PV, **extra: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(claims(ISS, aud, **extra))}"}


def _pv(pid: str = "p1", **extra: Any) -> dict[str, Any]:
    return {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/123", "patientId": pid}, **extra}


def check_card(card: dict[str, Any]) -> None:
    """Card constraints of CDS Hooks 2.0 §Card attributes."""
    assert isinstance(card["uuid"], str) and card["uuid"]
    assert 0 < len(card["summary"]) <= 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert isinstance(card["source"]["label"], str) and card["source"]["label"]
    assert isinstance(card.get("detail", ""), str)
    if card.get("suggestions"):
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for s in card["suggestions"]:
            assert s["label"] and s["uuid"]
            for a in s.get("actions", []):
                assert a["type"] in ("create", "update", "delete") and a["description"]
    for reason in card.get("overrideReasons", []):
        assert reason["code"] and reason["system"] and reason["display"]
    for link in card.get("links", []):
        assert link["label"] and link["url"] and link["type"] in ("absolute", "smart")


def test_discovery_shape(shared_hospital: Hospital) -> None:
    services = shared_hospital.client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select", "order-sign"}
    for s in services:
        assert s["id"] and s["description"] and isinstance(s["prefetch"], dict)
        assert all(isinstance(t, str) and "{{context.patientId}}" in t for t in s["prefetch"].values())


def test_patient_view_from_own_store_gives_news2_card(cds: Hospital, key: KeyPair) -> None:
    r = cds.client.post("/cds-services/hygeia-patient-view", json=_pv(), headers=_auth(key))
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    for card in cards:
        check_card(card)
    news2 = next(c for c in cards if c["summary"].startswith("NEWS2"))
    assert news2["indicator"] == "critical"  # RR 26 (3), SpO2 90 (3), SBP 95 (2), HR 125 (2), T 38.5 (1)
    assert news2["overrideReasons"] and "Decision support" in news2["detail"]
    assert r.json().get("systemActions") == []


def test_patient_view_from_prefetch_for_a_patient_hygeia_does_not_hold(cds: Hospital, key: KeyPair) -> None:
    vitals = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": vital("x-rr", "ext1", "9279-1", 14, "/min", "2024-03-01T10:00:00Z")}]}
    body = _pv("ext1", prefetch={"patient": patient("ext1"), "vitals": vitals})
    r = cds.client.post("/cds-services/hygeia-patient-view", json=body, headers=_auth(key))
    assert r.status_code == 200, r.text
    summaries = [c["summary"] for c in r.json()["cards"]]
    assert any(s.startswith("NEWS2 0 (incomplete)") for s in summaries)


class _Fhir(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        _Fhir.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/Patient/ext2"):
            body: dict[str, Any] = patient("ext2")
        else:
            body = {"resourceType": "Bundle", "type": "searchset", "entry": [
                {"resource": vital("e-rr", "ext2", "9279-1", 26, "/min", "2024-03-01T10:00:00Z")}]
                if self.path.startswith("/Observation?patient=ext2&_sort") else []}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Fhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_falls_back_to_the_named_fhir_server(cds: Hospital, key: KeyPair, fhir_server: str) -> None:
    _Fhir.seen.clear()
    auth = {"access_token": "ehr-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read",
            "subject": "cds"}
    body = _pv("ext2", fhirServer=fhir_server, fhirAuthorization=auth)
    r = cds.client.post("/cds-services/hygeia-patient-view", json=body, headers=_auth(key))
    assert r.status_code == 200, r.text
    assert any(c["summary"].startswith("NEWS2 3") for c in r.json()["cards"])
    assert ("/Patient/ext2", "Bearer ehr-token") in _Fhir.seen


def test_412_when_data_cannot_be_had(cds: Hospital, key: KeyPair) -> None:
    c = cds.client
    assert c.post("/cds-services/hygeia-patient-view", json=_pv("unknown"), headers=_auth(key)).status_code == 412
    down = _pv("p1", fhirServer="http://127.0.0.1:9")
    assert c.post("/cds-services/hygeia-patient-view", json=down, headers=_auth(key)).status_code == 412
    wrong = _pv("p1", prefetch={"patient": patient("p2")})
    assert c.post("/cds-services/hygeia-patient-view", json=wrong, headers=_auth(key)).status_code == 412


def test_request_validation(cds: Hospital, key: KeyPair) -> None:
    c = cds.client
    url = "/cds-services/hygeia-patient-view"
    assert c.post(url, json={**_pv(), "hook": "order-sign"}, headers=_auth(key)).status_code == 400
    assert c.post(url, json={"hook": "patient-view"}, headers=_auth(key)).status_code == 422
    assert c.post(url, json=_pv("bad id!"), headers=_auth(key)).status_code == 400
    auth_only = _pv(fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 1, "scope": "s",
                                       "subject": "x"})
    assert c.post(url, json=auth_only, headers=_auth(key)).status_code == 400
    assert c.post("/cds-services/nope", json=_pv(), headers=_auth(key, f"{BASE}/nope")).status_code == 404
    os_url = "/cds-services/hygeia-order-select"
    no_drafts = {"hook": "order-select", "hookInstance": "x", "context": {"patientId": "p1", "userId": "u",
                                                                         "selections": []}}
    assert c.post(os_url, json=no_drafts, headers=_auth(key, f"{BASE}/hygeia-order-select")).status_code == 400


def test_order_select_without_pgx_results_gives_no_cards(cds: Hospital, key: KeyPair) -> None:
    order = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": "clopidogrel"}, "subject": {"reference": "Patient/p1"}}
    body = {"hook": "order-select", "hookInstance": "x",
            "context": {"patientId": "p1", "userId": "Practitioner/1", "selections": ["MedicationRequest/mr1"],
                        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                        "entry": [{"resource": order}]}}}
    r = cds.client.post("/cds-services/hygeia-order-select", json=body,
                        headers=_auth(key, f"{BASE}/hygeia-order-select"))
    assert r.status_code == 200 and r.json()["cards"] == []


def test_client_jwt_requirements(cds: Hospital, key: KeyPair) -> None:
    c = cds.client
    url = "/cds-services/hygeia-patient-view"
    other = keypair("ES384")
    replay = _auth(key)
    assert c.post(url, json=_pv(), headers=replay).status_code == 200
    bad = {
        "missing": {},
        "replayed jti": replay,
        "wrong aud": _auth(key, f"{BASE}/hygeia-order-sign"),
        "expired": {"Authorization": "Bearer " + key.sign({**claims(ISS, PV), "exp": int(time.time()) - 600})},
        "iat in future": {"Authorization": "Bearer " + key.sign({**claims(ISS, PV), "iat": int(time.time()) + 900})},
        "unknown iss": {"Authorization": "Bearer " + key.sign(claims("https://rogue.example", PV))},
        "foreign key": {"Authorization": "Bearer " + other.sign(claims(ISS, PV), kid=key.jwk["kid"])},
        "HS384": {"Authorization": "Bearer " + jwt.encode(claims(ISS, PV), "k" * 48, algorithm="HS384")},
        "none": {"Authorization": "Bearer " + jwt.encode(claims(ISS, PV), None, algorithm="none")},
    }
    for name, headers in bad.items():
        r = c.post(url, json=_pv(), headers=headers)
        assert r.status_code == 401, (name, r.text)


def test_jwks_by_url(hospital: Hospital) -> None:
    key = keypair("RS384")

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = json.dumps(key.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        register_client(hospital.store, ISS, kind="cds", role="clinician",
                        jwks_url=f"http://127.0.0.1:{server.server_port}/jwks")
        r = hospital.client.post("/cds-services/hygeia-patient-view", json=_pv(), headers=_auth(key))
        assert r.status_code == 200, r.text
    finally:
        server.shutdown()
        thread.join()


def test_feedback_is_stored_for_governance(cds: Hospital, key: KeyPair) -> None:
    c = cds.client
    card = c.post("/cds-services/hygeia-patient-view", json=_pv(), headers=_auth(key)).json()["cards"][0]
    feedback = {"feedback": [
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2024-03-01T10:00:00Z",
         "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "discussed"}},
        {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2024-03-01T10:01:00Z",
         "acceptedSuggestions": [{"id": "s1"}]},
    ]}
    fb_url = f"{PV}/feedback"
    r = c.post("/cds-services/hygeia-patient-view/feedback", json=feedback, headers=_auth(key, fb_url))
    assert r.status_code == 200 and r.json() == {"stored": 2}
    bad = {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "2024-03-01T10:00:00Z"}]}
    assert c.post("/cds-services/hygeia-patient-view/feedback", json=bad,
                  headers=_auth(key, fb_url)).status_code == 422
    summary = c.get("/audit/cds-feedback", headers=cds.auth("governance")).json()["services"]["hygeia-patient-view"]
    assert summary["accepted"] == 1 and summary["overridden"] == 1
    assert summary["override_reasons"][0]["code"] == card["overrideReasons"][0]["code"]
