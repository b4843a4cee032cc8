"""The API: authentication first, least privilege, audit of every patient-data read, FHIR errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.governance.access import add_user
from hygeia.records import Store, ingest_bundle
from tests.records.bundles import small_bundle


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, Store]]:
    store = Store(settings.resolved_database_url())
    store.init()
    ingest_bundle(store, small_bundle("p1", 5))
    ingest_bundle(store, small_bundle("p2", 2))
    add_user(store, "dr", "clinician-pw", ["clinician"])
    add_user(store, "pat1", "patient1-pw", ["patient"], patient_id="p1")
    add_user(store, "ops", "operations-pw", ["operations"])
    with TestClient(create_app(store, settings)) as client:
        yield client, store
    store.dispose()


def _token(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_refuses_default_secret_unless_demo(tmp_path: object) -> None:
    store = Store("sqlite://")
    with pytest.raises(RuntimeError, match="default secret"):
        create_app(store, Settings())
    create_app(store, Settings(), demo=True)


def test_health_and_metadata_are_public(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    assert client.get("/health").json()["status"] == "ok"
    meta = client.get("/fhir/metadata").json()
    assert meta["resourceType"] == "CapabilityStatement" and meta["fhirVersion"] == "4.0.1"


@pytest.mark.parametrize("path", ["/fhir/Patient/p1", "/fhir/Observation?patient=p1", "/auth/me"])
def test_unauthenticated_is_401(api: tuple[TestClient, Store], path: str) -> None:
    client, _ = api
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    bad = client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_wrong_password_is_401_and_audited(api: tuple[TestClient, Store]) -> None:
    client, store = api
    assert client.post("/auth/token", data={"username": "dr", "password": "nope-nope"}).status_code == 401
    assert audit.query(store, username="dr")[0].outcome == "4"


def test_clinician_reads_and_every_read_is_audited(api: tuple[TestClient, Store]) -> None:
    client, store = api
    headers = _token(client, "dr", "clinician-pw")
    patient = client.get("/fhir/Patient/p1", headers=headers)
    assert patient.status_code == 200
    assert patient.headers["content-type"].startswith("application/fhir+json")
    assert patient.json()["meta"]["versionId"] == "1"
    entries = audit.query(store, patient_id="p1")
    assert entries[0].username == "dr" and entries[0].resource == "Patient/p1" and entries[0].action == "R"
    assert audit.verify(store).ok


def test_search_paging_and_code_and_date(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    headers = _token(client, "dr", "clinician-pw")
    page = client.get("/fhir/Observation", params={"patient": "p1", "code": "http://loinc.org|8867-4",
                                                   "_count": 2}, headers=headers).json()
    assert page["total"] == 5 and len(page["entry"]) == 2
    nxt = next(link["url"] for link in page["link"] if link["relation"] == "next")
    second = client.get(nxt, headers=headers).json()
    assert len(second["entry"]) == 2
    assert {e["resource"]["id"] for e in page["entry"]}.isdisjoint({e["resource"]["id"] for e in second["entry"]})
    dated = client.get("/fhir/Observation", params=[("patient", "p1"), ("date", "ge2024-01-01T02:00:00Z"),
                                                    ("date", "lt2024-01-01T04:00:00Z")], headers=headers).json()
    assert dated["total"] == 2
    day = client.get("/fhir/Observation", params={"patient": "p1", "date": "2024-01-01"}, headers=headers).json()
    assert day["total"] == 5


def test_patient_cannot_read_another_patient(api: tuple[TestClient, Store]) -> None:
    client, store = api
    headers = _token(client, "pat1", "patient1-pw")
    assert client.get("/fhir/Patient/p1", headers=headers).status_code == 200
    denied = client.get("/fhir/Patient/p2", headers=headers)
    assert denied.status_code == 403
    assert denied.json()["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/Observation?patient=p2", headers=headers).status_code == 403
    own = client.get("/fhir/Observation", headers=headers).json()  # no patient: their own record
    assert own["total"] == 5
    assert audit.query(store, patient_id="p2")[0].outcome == "4"


def test_operations_role_has_no_chart_access(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    headers = _token(client, "ops", "operations-pw")
    assert client.get("/fhir/Patient/p1", headers=headers).status_code == 403
    assert client.get("/fhir/Observation", headers=headers).status_code == 403


@pytest.mark.parametrize(("path", "status"), [
    ("/fhir/Patient/nobody", 404), ("/fhir/Nonsense/p1", 404), ("/fhir/Patient/bad%20id!", 400),
    ("/fhir/Observation?patient=p1&date=yesterday", 400), ("/fhir/Observation?patient=p1&_count=0", 400),
    ("/fhir/Observation?patient=p1&_count=abc", 400), ("/fhir/Condition?code=x", 400),
])
def test_malformed_requests_get_operation_outcomes(api: tuple[TestClient, Store], path: str, status: int) -> None:
    client, _ = api
    response = client.get(path, headers=_token(client, "dr", "clinician-pw"))
    assert response.status_code == status
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"]


def test_vread(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    headers = _token(client, "dr", "clinician-pw")
    assert client.get("/fhir/Patient/p1/_history/1", headers=headers).json()["id"] == "p1"
    assert client.get("/fhir/Patient/p1/_history/9", headers=headers).status_code == 404
