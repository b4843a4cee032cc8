"""Bulk Data $export: async kick-off, progress, manifest, NDJSON, _type/_since, cancel, consent, de-identification."""

from __future__ import annotations

import time
from typing import Any

import orjson

from hygeia.governance.consent import research_consent
from tests.api.helpers import Hospital

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _wait(hospital: Hospital, url: str, headers: dict[str, str]) -> Any:
    for _ in range(400):
        r = hospital.client.get(url, headers=headers)
        if r.status_code != 202:
            return r
        assert r.headers["x-progress"]
        time.sleep(0.025)
    raise AssertionError("export did not finish")


def test_export_honours_consent_and_deidentifies(hospital: Hospital) -> None:
    c = hospital.client
    c.put("/fhir/Consent/out-p1", json=research_consent("p1", opt_out=True, cid="out-p1"),
          headers=hospital.auth("clinician"))
    h = hospital.auth("researcher")
    kick = c.get("/fhir/$export", headers={**h, **ASYNC})
    assert kick.status_code == 202
    status_url = kick.headers["content-location"]
    done = _wait(hospital, status_url, h)
    assert done.status_code == 200, done.text
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["transactionTime"]
    assert manifest["extension"]["https://hygeia.example.org/excluded-by-consent"] == 1
    files = {o["type"]: o for o in manifest["output"]}
    assert files["Patient"]["count"] == 1  # p2 only: p1 opted out
    text = c.get(files["Patient"]["url"], headers=h).text
    rows = [orjson.loads(line) for line in text.splitlines()]
    assert rows[0]["id"] != "p2" and "name" not in rows[0] and "identifier" not in rows[0]
    assert rows[0]["birthDate"] == "1950"
    obs = [orjson.loads(line) for line in c.get(files["Observation"]["url"], headers=h).text.splitlines()]
    assert {o["subject"]["reference"] for o in obs} == {f"Patient/{rows[0]['id']}"}
    assert "Otherperson" not in text and "MRN-p2" not in text
    assert c.get(files["Patient"]["url"], headers=hospital.auth("clinician")).status_code in (403, 404)


def test_type_since_group_and_cancel(hospital: Hospital) -> None:
    c = hospital.client
    h = hospital.auth("researcher")
    only_obs = _wait(hospital, c.get("/fhir/Patient/$export?_type=Observation", headers={**h, **ASYNC})
                     .headers["content-location"], h).json()
    assert {o["type"] for o in only_obs["output"]} == {"Observation"}
    future = _wait(hospital, c.get("/fhir/$export?_since=2999-01-01T00:00:00Z", headers={**h, **ASYNC})
                   .headers["content-location"], h).json()
    assert future["output"] == []
    group = {"resourceType": "Group", "id": "g1", "type": "person", "actual": True,
             "member": [{"entity": {"reference": "Patient/p1"}}]}
    assert c.put("/fhir/Group/g1", json=group, headers=hospital.auth("clinician")).status_code == 201
    grouped = _wait(hospital, c.get("/fhir/Group/g1/$export?_type=Patient", headers={**h, **ASYNC})
                    .headers["content-location"], h).json()
    assert grouped["output"][0]["count"] == 1
    kick = c.get("/fhir/$export", headers={**h, **ASYNC}).headers["content-location"]
    assert c.delete(kick, headers=h).status_code == 202
    assert c.get(kick, headers=h).status_code == 404
    assert c.get("/fhir/$export", headers=h).status_code == 400  # no Prefer: respond-async
    assert c.get("/fhir/$export?_type=Nonsense", headers={**h, **ASYNC}).status_code == 400
    assert c.get("/fhir/$export?_since=yesterday", headers={**h, **ASYNC}).status_code == 400
    assert c.get("/fhir/Group/none/$export", headers={**h, **ASYNC}).status_code == 404


def test_research_cohort_counts_are_aggregate(shared_hospital: Hospital) -> None:
    body = shared_hospital.client.get("/research/cohort", headers=shared_hospital.auth("governance")).json()
    assert body["patients"] is None  # 2 patients: below the small-cell threshold
    assert "suppressed" in body["note"]
