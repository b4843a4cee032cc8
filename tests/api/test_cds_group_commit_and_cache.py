"""CDS Hooks under load without giving up what they guard: cards cached per patient are recomputed after any
store write (a new observation, risk assessment or PGx result, a deletion), every cached answer gets fresh
uuids, and concurrent calls are group-committed — each audited, each jti spent once (a replay in the same
batch or already in the database is refused and audited as such), the hash chain intact — on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hygeia.api import create_app
from hygeia.api.cds_cache import patient_fingerprint
from hygeia.api.group_commit import GroupCommit
from hygeia.api.routes.cds_hooks import SERVICES, HookRequest, _cards
from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.governance.access import AccessError, Role
from hygeia.governance.smart import Client, VerifiedJwt, register_client
from hygeia.records import Store, ingest_bundle
from tests.api.helpers import KeyPair, claims, keypair
from tests.records.bundles import patient, transaction, vital

ISS = "https://ehr.example.org"
BASE = "http://testserver/cds-services"


def _pv(pid: str = "p1") -> dict[str, Any]:
    return {"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/1", "patientId": pid}}


def _os(pid: str = "p1") -> dict[str, Any]:
    order = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": "clopidogrel"}, "subject": {"reference": f"Patient/{pid}"}}
    return {"hook": "order-select", "hookInstance": "x",
            "context": {"userId": "Practitioner/1", "patientId": pid, "selections": ["MedicationRequest/mr1"],
                        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                        "entry": [{"resource": order}]}}}


def _phenotype(pid: str, oid: str, phenotype: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "53040-2"}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2023-01-01T00:00:00Z",
            "valueCodeableConcept": {"text": phenotype},
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                           "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId",
                                                                "code": "HGNC:2621", "display": "CYP2C19"}]}}]}


def _risk(pid: str, p: float) -> dict[str, Any]:
    return {"resourceType": "RiskAssessment", "id": f"ra-{pid}", "status": "final",
            "subject": {"reference": f"Patient/{pid}"}, "occurrenceDateTime": "2024-01-01T12:00:00Z",
            "method": {"text": "test model"},
            "prediction": [{"outcome": {"text": "deterioration"}, "probabilityDecimal": p}]}


@pytest.fixture
def hospital(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, Store, KeyPair]]:
    """An app over the (SQLite or PostgreSQL) store with p1: normal vitals at 08:00."""
    ingest_bundle(store, transaction([patient("p1"), *[
        vital(f"v{i}", "p1", code, value, unit, "2024-01-01T08:00:00Z") for i, (code, value, unit) in
        enumerate([("9279-1", 16, "/min"), ("59408-5", 97, "%"), ("8480-6", 125, "mm[Hg]"),
                   ("8867-4", 72, "/min"), ("8310-5", 37.0, "Cel")])]]))
    key = keypair("ES384")
    register_client(store, ISS, kind="cds", role="clinician", jwks=key.jwks)
    settings = Settings(data_dir=tmp_path / "data", database_url=store.url,
                        secret_key=SecretStr("cache-test-secret-not-default"))
    with TestClient(create_app(store, settings)) as client:
        yield client, store, key


def _call(client: TestClient, key: KeyPair, service: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(f"/cds-services/{service}", json=body,
                           headers={"Authorization": f"Bearer {key.sign(claims(ISS, f'{BASE}/{service}'))}"})
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def _content(cards: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((c["summary"], c["indicator"], c["detail"]) for c in cards)


def _uncached(store: Store, service: str, body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return _content(_cards(store, SERVICES[service], HookRequest.model_validate(body), body["context"]["patientId"]))


def test_store_writes_change_the_next_patient_view(hospital: tuple[TestClient, Store, KeyPair]) -> None:
    client, store, key = hospital
    pv = "hygeia-patient-view"
    first = _call(client, key, pv, _pv())
    again = _call(client, key, pv, _pv())
    cache = client.app.state.cds_cards  # type: ignore[attr-defined]
    assert cache.hits == 1 and _content(again) == _content(first)
    assert not {c["uuid"] for c in first} & {c["uuid"] for c in again}  # a cached answer gets fresh uuids
    news2 = next(c for c in first if "NEWS2" in c["summary"])

    # A new observation: a later, very low respiratory rate and SpO2 — NEWS2 rises.
    ingest_bundle(store, transaction([vital("v-rr", "p1", "9279-1", 7, "/min", "2024-01-01T10:00:00Z"),
                                      vital("v-sp", "p1", "59408-5", 89, "%", "2024-01-01T10:00:00Z")]))
    after = _call(client, key, pv, _pv())
    assert _content(after) == _uncached(store, pv, _pv()) != _content(first)
    assert next(c for c in after if "NEWS2" in c["summary"])["summary"] != news2["summary"]

    # A new finding stored by another capability: a RiskAssessment card appears, then changes with an update.
    store.write([_risk("p1", 0.31)])
    with_risk = _call(client, key, pv, _pv())
    assert any("31%" in c["summary"] for c in with_risk)
    store.write([_risk("p1", 0.62)])
    assert any("62%" in c["summary"] for c in _call(client, key, pv, _pv()))

    # A deletion (a new version marked deleted) is a write too.
    store.delete("RiskAssessment", "ra-p1")
    assert not any("deterioration" in c["summary"] for c in _call(client, key, pv, _pv()))
    assert _content(_call(client, key, pv, _pv())) == _uncached(store, pv, _pv())


def test_a_new_pgx_result_changes_order_select(hospital: tuple[TestClient, Store, KeyPair]) -> None:
    from hygeia.pgx.kb import KbError, cached_kb, default_kb_dir

    try:
        cached_kb(str(default_kb_dir()))
    except (KbError, OSError):
        pytest.skip("PGx knowledge base not installed (HYGEIA_REFERENCE_DIR)")
    client, store, key = hospital
    os_ = "hygeia-order-select"
    assert _call(client, key, os_, _os()) == []
    assert _call(client, key, os_, _os()) == []  # cached
    store.write([_phenotype("p1", "pgx1", "Poor Metabolizer")])
    poor = _call(client, key, os_, _os())
    assert poor and "clopidogrel" in poor[0]["summary"] and _content(poor) == _uncached(store, os_, _os())
    store.write([_phenotype("p1", "pgx1", "Normal Metabolizer")])  # the result corrected
    assert _content(_call(client, key, os_, _os())) == _uncached(store, os_, _os()) != _content(poor)


def test_fingerprint_changes_with_every_kind_of_write(store: Store) -> None:
    assert patient_fingerprint(store, "p9") is None
    store.write([patient("p9")])
    seen = [patient_fingerprint(store, "p9")]
    store.write([vital("o1", "p9", "8867-4", 70, "/min", "2024-01-01T08:00:00Z")])  # new resource
    seen.append(patient_fingerprint(store, "p9"))
    store.write([vital("o1", "p9", "8867-4", 71, "/min", "2024-01-01T08:00:00Z")])  # changed resource
    seen.append(patient_fingerprint(store, "p9"))
    store.write([vital("o1", "p9", "8867-4", 71, "/min", "2024-01-01T08:00:00Z")])  # unchanged: no new version
    assert patient_fingerprint(store, "p9") == seen[-1]
    store.delete("Observation", "o1")
    seen.append(patient_fingerprint(store, "p9"))
    assert None not in seen and len(set(seen)) == len(seen)


def test_concurrent_calls_are_group_committed_and_each_audited(hospital: tuple[TestClient, Store, KeyPair]
                                                               ) -> None:
    client, store, key = hospital
    app = client.app
    url = f"{BASE}/hygeia-patient-view"
    before = audit.verify(store).entries

    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            calls = [c.post("/cds-services/hygeia-patient-view", json=_pv(),
                            headers={"Authorization": f"Bearer {key.sign(claims(ISS, url))}"}) for _ in range(30)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(run()) == [200] * 30
    commits = app.state.cds_commits  # type: ignore[attr-defined]
    assert commits.calls == 30 and commits.batches < 30  # entries of concurrent calls shared commits
    status = audit.verify(store)
    assert status.ok and status.entries == before + 30
    assert len([e for e in audit.query(store, patient_id="p1") if e.username == f"cds:{ISS}"]) == 30


def _verified(jti: str) -> VerifiedJwt:
    client = Client(ISS, "cds", ISS, Role.CLINICIAN, "", {"keys": []}, None)
    return VerifiedJwt(client, {"jti": jti}, datetime.now(UTC) + timedelta(minutes=4))


def test_a_replay_in_the_batch_or_in_the_database_is_refused_and_audited(store: Store) -> None:
    commits = GroupCommit(store)
    entry = {"username": "cds:test", "role": "clinician", "action": "E", "patient_id": "p1", "resource": "r"}
    spent = uuid.uuid4().hex
    asyncio.run(commits.commit(_verified(spent), {**entry, "detail": "first"}))

    async def batch() -> list[BaseException | None]:
        twice = uuid.uuid4().hex
        calls = [commits.commit(_verified(jti), {**entry, "detail": jti})
                 for jti in [uuid.uuid4().hex, twice, twice, spent, uuid.uuid4().hex]]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(batch())
    assert [type(o) for o in outcomes] == [type(None), type(None), AccessError, AccessError, type(None)]
    assert commits.batches == 2  # the first call, then the five together
    entries = list(reversed(audit.query(store, patient_id="p1")))
    assert [e.outcome for e in entries] == ["0", "0", "0", "4", "4", "0"]
    assert all(e.detail.startswith("401: jti already used") for e in entries if e.outcome == "4")  # type: ignore
    assert audit.verify(store).ok
