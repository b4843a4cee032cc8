"""FHIR create, update (versions, If-Match), transaction (all or nothing), status/_sort search, metadata."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Hospital
from tests.records.bundles import vital


def _obs(pid: str = "p1", value: float = 80, status: str = "final") -> dict[str, Any]:
    return {"resourceType": "Observation", "status": status,
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2024-02-01T00:00:00Z",
            "valueQuantity": {"value": value, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def test_create_assigns_id_and_location(hospital: Hospital) -> None:
    c, h = hospital.client, hospital.auth("nurse")
    r = c.post("/fhir/Observation", json={**_obs(), "id": "ignored"}, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] != "ignored" and body["meta"]["versionId"] == "1"
    assert r.headers["location"].endswith(f"/fhir/Observation/{body['id']}/_history/1")
    assert r.headers["etag"] == 'W/"1"'
    assert c.get(f"/fhir/Observation/{body['id']}", headers=h).json()["valueQuantity"]["value"] == 80


def test_create_rejects_invalid_and_mismatched(hospital: Hospital) -> None:
    c, h = hospital.client, hospital.auth("clinician")
    bad = c.post("/fhir/Observation", json={**_obs(), "status": "not-a-status"}, headers=h)
    assert bad.status_code == 422 and "status" in bad.json()["issue"][0]["diagnostics"]
    assert c.post("/fhir/Observation", json={"resourceType": "Patient"}, headers=h).status_code == 400
    dangling = c.post("/fhir/Observation", json=_obs("nobody"), headers=h)
    assert dangling.status_code == 422 and "dangling" in dangling.json()["issue"][0]["diagnostics"]


def test_update_versions_and_if_match(hospital: Hospital) -> None:
    c, h = hospital.client, hospital.auth("clinician")
    first = c.put("/fhir/Observation/obs-x", json={**_obs(), "id": "obs-x"}, headers=h)
    assert first.status_code == 201 and first.json()["meta"]["versionId"] == "1"
    same = c.put("/fhir/Observation/obs-x", json={**_obs(), "id": "obs-x"}, headers=h)
    assert same.status_code == 200 and same.json()["meta"]["versionId"] == "1"  # unchanged content keeps version
    second = c.put("/fhir/Observation/obs-x", json={**_obs(value=99), "id": "obs-x"},
                   headers={**h, "If-Match": 'W/"1"'})
    assert second.status_code == 200 and second.json()["meta"]["versionId"] == "2"
    stale = c.put("/fhir/Observation/obs-x", json={**_obs(value=100), "id": "obs-x"},
                  headers={**h, "If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["resourceType"] == "OperationOutcome"
    assert c.get("/fhir/Observation/obs-x/_history/1", headers=h).json()["valueQuantity"]["value"] == 80
    assert c.put("/fhir/Observation/other", json={**_obs(), "id": "obs-x"}, headers=h).status_code == 400


def test_update_cannot_move_a_resource_into_a_forbidden_chart(hospital: Hospital) -> None:
    c = hospital.client
    from hygeia.governance.consent import research_consent

    mine = research_consent("p1", opt_out=True, cid="c1")
    assert c.put("/fhir/Consent/c1", json=mine, headers=hospital.auth("patient")).status_code == 201
    moved = research_consent("p2", opt_out=True, cid="c1")
    assert c.put("/fhir/Consent/c1", json=moved, headers=hospital.auth("patient")).status_code == 403


def test_transaction_is_all_or_nothing(hospital: Hospital) -> None:
    c, h = hospital.client, hospital.auth("clinician")
    good = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {**_obs(), "id": "t-1"}, "request": {"method": "PUT",
                                                                                   "url": "Observation/t-1"}},
        {"resource": {**vital("p1-v0", "p1", "9279-1", 26, "/min", "2024-01-01T08:00:00Z")},
         "request": {"method": "PUT", "url": "Observation/p1-v0"}},
    ]}
    r = c.post("/fhir", json=good, headers=h)
    assert r.status_code == 200, r.text
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses == ["201 Created", "200 OK"]
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {**_obs(), "id": "t-2"}, "request": {"method": "PUT", "url": "Observation/t-2"}},
        {"resource": {**_obs(), "id": "t-3", "status": "bogus"}, "request": {"method": "PUT",
                                                                             "url": "Observation/t-3"}},
    ]}
    rejected = c.post("/fhir", json=bad, headers=h)
    assert rejected.status_code == 422 and "entry 1" in rejected.json()["issue"][0]["diagnostics"]
    assert c.get("/fhir/Observation/t-2", headers=h).status_code == 404  # nothing of the unit was written
    assert c.post("/fhir", json={"resourceType": "Bundle", "type": "batch"}, headers=h).status_code == 400
    delete = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": _obs(), "request": {"method": "DELETE", "url": "Observation/t-1"}}]}
    assert c.post("/fhir", json=delete, headers=h).status_code == 400


def test_search_status_sort_and_paging_links(hospital: Hospital) -> None:
    c, h = hospital.client, hospital.auth("clinician")
    c.put("/fhir/Observation/prelim", json={**_obs(status="preliminary"), "id": "prelim"}, headers=h)
    page = c.get("/fhir/Observation", params={"patient": "p1", "status": "preliminary"}, headers=h).json()
    assert [e["resource"]["id"] for e in page["entry"]] == ["prelim"]
    both = c.get("/fhir/Observation", params={"patient": "p1", "status": "final,preliminary"}, headers=h).json()
    assert both["total"] == 6
    ordered = c.get("/fhir/Observation", params={"patient": "p1", "_sort": "-date", "_count": 2}, headers=h).json()
    assert ordered["entry"][0]["resource"]["id"] == "prelim"  # 2024-02-01 is the newest
    relations = {link["relation"] for link in ordered["link"]}
    assert {"self", "first", "next", "last"} <= relations
    last = next(link["url"] for link in ordered["link"] if link["relation"] == "last")
    assert len(c.get(last, headers=h).json()["entry"]) == 2
    assert c.get("/fhir/Observation", params={"_sort": "nonsense"}, headers=h).status_code == 400


def test_capability_statement_matches_routes(hospital: Hospital) -> None:
    meta = hospital.client.get("/fhir/metadata").json()
    rest = meta["rest"][0]
    obs = next(r for r in rest["resource"] if r["type"] == "Observation")
    assert {i["code"] for i in obs["interaction"]} == {"read", "vread", "search-type", "create", "update"}
    assert {p["name"] for p in obs["searchParam"]} >= {"patient", "subject", "code", "date", "status", "_count",
                                                       "_sort"}
    assert rest["interaction"] == [{"code": "transaction"}]
    paths = set(hospital.client.get("/openapi.json").json()["paths"])
    assert {"/fhir/{resource_type}/{rid}", "/fhir/{resource_type}", "/fhir", "/fhir/$export"} <= paths
