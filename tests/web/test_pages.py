"""Dashboard pages through the ASGI app: sign-in, sessions, CSRF, least privilege per role, audit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.records import Store
from tests.web import hospital
from tests.web.conftest import sign_in


def test_pages_need_a_session(web: TestClient) -> None:
    for path in ("/web/ward", "/web/patient/x", "/web/alerts", "/web/ops", "/web/governance", "/web/me"):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/web/login?next=/web/"), path


def test_sign_in_sets_a_strict_httponly_cookie(web: TestClient) -> None:
    web.get("/web/login")
    token = web.cookies.get("hygeia_login_csrf")
    r = web.post("/web/login", json={"username": "nurse", "password": hospital.PASSWORDS["nurse"]},
                 headers={"X-CSRF-Token": token or ""})
    assert r.status_code == 200 and r.json()["redirect"] == "/web/ward"
    cookie = r.headers["set-cookie"].lower()
    assert "hygeia_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


@pytest.mark.parametrize("body", [{"username": "nurse"}, {"password": "x"}, [], "text"])
def test_malformed_sign_in_is_400(web: TestClient, body: Any) -> None:
    web.get("/web/login")
    r = web.post("/web/login", json=body, headers={"X-CSRF-Token": web.cookies.get("hygeia_login_csrf") or ""})
    assert r.status_code == 400 and "username and password" in r.json()["detail"]


def test_sign_in_without_its_csrf_token_is_refused(web: TestClient) -> None:
    web.get("/web/login")
    r = web.post("/web/login", json={"username": "nurse", "password": hospital.PASSWORDS["nurse"]},
                 headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403


def test_wrong_password_is_401_and_audited(web: TestClient,
                                           web_hospital: tuple[Store, Settings, dict[str, Any]]) -> None:
    store = web_hospital[0]
    web.get("/web/login")
    r = web.post("/web/login", json={"username": "nurse", "password": "wrong-password"},
                 headers={"X-CSRF-Token": web.cookies.get("hygeia_login_csrf") or ""})
    assert r.status_code == 401
    assert any(e.resource == "web/login" and e.outcome == "4" for e in audit.query(store, username="nurse", limit=20))


def test_nurse_ward_shows_news2_pgx_and_alerts(web: TestClient,
                                                web_hospital: tuple[Store, Settings, dict[str, Any]]) -> None:
    alerting = "web-ward-1"
    hospital.raise_alert(web_hospital[0], alerting)
    sign_in(web, "nurse")
    page = web.get("/web/ward").text
    row = page.split(f'data-patient="{hospital.DETERIORATING}"', 1)[1].split("</tr>", 1)[0]
    assert int(row.split('data-news2="', 1)[1].split('"', 1)[0]) >= 7 and "CYP2C19 PM" in row
    stable = page.split(f'data-patient="{hospital.STABLE}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-news2="0"' in stable and "CYP2C19" not in stable  # normal phenotypes are not flagged
    fresh = page.split(f'data-patient="{alerting}"', 1)[1].split("</tr>", 1)[0]
    assert "emergency" in fresh.lower() and 'data-alert="4"' in fresh
    assert page.index(alerting) < page.index(hospital.STABLE)  # most urgent first
    fragment = web.get("/web/ward/table").text
    assert "<tr" in fragment and "<html" not in fragment


def test_patient_page_is_audited(web: TestClient, web_hospital: tuple[Store, Settings, dict[str, Any]]) -> None:
    store = web_hospital[0]
    sign_in(web, "clinician")
    r = web.get(f"/web/patient/{hospital.DETERIORATING}")
    assert r.status_code == 200
    assert 'id="vitals-plot"' in r.text and "clopidogrel" in r.text and "Poor Metabolizer" in r.text
    entries = audit.query(store, patient_id=hospital.DETERIORATING, username="clinician", limit=50)
    assert any(e.resource == "web/patient" and e.outcome == "0" for e in entries)
    assert web.get("/web/patient/no-such-patient").status_code == 404
    assert web.get(f"/web/patient/{hospital.DETERIORATING}?days=0").status_code == 422


def test_acknowledge_needs_csrf_and_is_idempotent(web: TestClient,
                                                  web_hospital: tuple[Store, Settings, dict[str, Any]]) -> None:
    store = web_hospital[0]
    alert_id = hospital.raise_alert(store, "web-ack-1")
    csrf = sign_in(web, "nurse")
    assert web.post(f"/web/alerts/{alert_id}/ack", json={}).status_code == 403
    assert web.post(f"/web/alerts/{alert_id}/ack", json={}, headers={"X-CSRF-Token": "x" * 40}).status_code == 403
    first = web.post(f"/web/alerts/{alert_id}/ack", json={}, headers={"X-CSRF-Token": csrf})
    assert first.status_code == 200 and first.json()["acknowledged_by"] == "nurse"
    again = web.post(f"/web/alerts/{alert_id}/ack", json={}, headers={"X-CSRF-Token": csrf})
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert web.post("/web/alerts/nope/ack", json={}, headers={"X-CSRF-Token": csrf}).status_code == 404
    history = web.get("/web/alerts").text
    assert "acknowledged" in history


def test_patient_role_reads_only_their_own_record(web: TestClient,
                                                  web_hospital: tuple[Store, Settings, dict[str, Any]]) -> None:
    store = web_hospital[0]
    sign_in(web, "patient")
    me = web.get("/web/me")
    assert me.status_code == 200 and "Steady" in me.text and "Your genes and medicines" in me.text
    denied = web.get(f"/web/patient/{hospital.DETERIORATING}")
    assert denied.status_code == 403 and "Declining" not in denied.text
    assert any(e.outcome == "4" for e in audit.query(store, patient_id=hospital.DETERIORATING, username="patient"))
    for path in ("/web/ward", "/web/alerts", "/web/ops", "/web/governance"):
        assert web.get(path).status_code == 403, path
    assert web.get("/web/events").status_code == 403


def test_operations_and_governance_roles(web: TestClient) -> None:
    sign_in(web, "ops")
    ops = web.get("/web/ops")
    assert ops.status_code == 200 and "Bed board" in ops.text and "Census now" in ops.text
    assert web.get("/web/ward").status_code == 403
    assert web.get(f"/web/patient/{hospital.DETERIORATING}").status_code == 403
    sign_in(web, "governance")
    gov = web.get("/web/governance")
    assert gov.status_code == 200 and "Hash chain intact" in gov.text and "pneumonia" in gov.text
    assert web.get("/web/governance?user=nurse").status_code == 200
    assert web.get("/web/governance/models/imaging/retina").status_code == 200
    assert web.get("/web/governance/models/imaging/..%2F..%2Fetc").status_code == 404
    assert web.get("/web/governance/models/risk/none").status_code == 404
    assert web.get(f"/web/patient/{hospital.DETERIORATING}").status_code == 403


def test_admin_has_no_patient_pages(web: TestClient) -> None:
    sign_in(web, "admin")
    assert web.get("/web/", follow_redirects=False).headers["location"] == "/web/home"
    assert web.get("/web/ward").status_code == 403


def test_sign_out_revokes_the_session(web: TestClient) -> None:
    csrf = sign_in(web, "nurse")
    assert web.post("/web/logout", json={}).status_code == 403  # no CSRF token
    assert web.post("/web/logout", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert web.get("/web/ward", follow_redirects=False).status_code == 303


def test_static_files_are_local(web: TestClient) -> None:
    js = web.get("/web/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert web.get("/web/static/app.js").status_code == 200
    assert web.get("/web/static/../routes.py").status_code == 404
    login = web.get("/web/login")
    assert "cdn" not in login.text.lower() and "script-src 'self'" in login.headers["content-security-policy"]
