"""The CDS Hooks per-request paths kept cheap without losing what they guard: plain-row readers agree with
the pandas accessors, one commit per call still audits every call, a jti is spent once across processes
(two apps over one database), and concurrent writers from several processes keep the audit chain intact."""

from __future__ import annotations

import math
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.governance.smart import register_client
from hygeia.records import PatientRecord, Store, ingest_bundle
from tests.api.chain_writer import append_many
from tests.api.helpers import KeyPair, claims, keypair
from tests.records.bundles import patient, transaction, vital

ISS = "https://ehr.example.org"
PV = "http://testserver/cds-services/hygeia-patient-view"


def _obs(oid: str, code: str, when: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when, **value}


def _chart() -> list[dict[str, Any]]:
    """Vitals with a unit to convert (°F), a newer reading superseding an older one of the same name under
    another code, ACVPU as a coded value and supplemental oxygen as a flow."""
    return [patient("p1"),
            vital("t1", "p1", "8310-5", 37.0, "Cel", "2024-01-01T08:00:00Z"),
            vital("t2", "p1", "8331-1", 101.3, "[degF]", "2024-01-01T10:00:00Z"),
            vital("h1", "p1", "8867-4", 88, "/min", "2024-01-01T09:00:00Z"),
            vital("h2", "p1", "8867-4", 96, "/min", "2024-01-01T11:00:00Z"),
            vital("s1", "p1", "59408-5", 93, "%", "2024-01-01T11:00:00Z"),
            vital("o1", "p1", "3151-8", 2, "L/min", "2024-01-01T11:00:00Z"),
            _obs("c1", "67775-7", "2024-01-01T11:00:00Z", valueCodeableConcept={"text": "V"})]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (a is None and b is None) or (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)
    return bool(a == b)


@pytest.mark.parametrize("source", ["store", "memory"])
def test_latest_vital_readings_match_latest_vitals(source: str, tmp_path: Path) -> None:
    if source == "store":
        store = Store(f"sqlite:///{tmp_path / 'v.db'}")
        store.init()
        ingest_bundle(store, transaction(_chart()))
        record = PatientRecord.load(store, "p1")
    else:
        record = PatientRecord.from_resources(_chart(), "p1")
    frame = record.latest_vitals()
    rows = {r["name"]: r for r in record.latest_vital_readings()}
    assert set(rows) == set(frame["name"])
    for expected in frame.to_dict("records"):
        got = rows[expected["name"]]
        for column in ("value", "value_str", "unit", "code", "resource_id"):
            assert _same(got[column], expected[column]), (expected["name"], column, got[column], expected[column])
        assert got["time"] == expected["time"].to_pydatetime()
    assert rows["temperature"]["value"] == pytest.approx(38.5)  # the newer °F reading, converted
    assert rows["heart_rate"]["value"] == 96 and rows["consciousness"]["value_str"] == "V"


def _app(tmp_path: Path, db: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{db}",
                        secret_key=SecretStr("fast-paths-secret-not-default"))
    return TestClient(create_app(Store(settings.resolved_database_url()), settings))


@pytest.fixture
def two_workers(tmp_path: Path) -> tuple[TestClient, TestClient, Store, KeyPair]:
    """Two apps over one SQLite file: what `hygeia serve --workers 2` runs."""
    db = tmp_path / "shared.db"
    store = Store(f"sqlite:///{db}")
    store.init()
    ingest_bundle(store, transaction(_chart()))
    key = keypair("ES384")
    register_client(store, ISS, kind="cds", role="clinician", jwks=key.jwks)
    return _app(tmp_path, db), _app(tmp_path, db), store, key


def _pv() -> dict[str, Any]:
    return {"hook": "patient-view", "hookInstance": "x", "context": {"userId": "Practitioner/1", "patientId": "p1"}}


def test_every_call_is_audited_once_and_a_jti_is_spent_across_workers(
        two_workers: tuple[TestClient, TestClient, Store, KeyPair]) -> None:
    a, b, store, key = two_workers
    before = len(audit.query(store, patient_id="p1"))
    token = {"Authorization": f"Bearer {key.sign(claims(ISS, PV))}"}
    assert a.post("/cds-services/hygeia-patient-view", json=_pv(), headers=token).status_code == 200
    assert a.post("/cds-services/hygeia-patient-view", json=_pv(), headers=token).status_code == 401  # this process
    replay = b.post("/cds-services/hygeia-patient-view", json=_pv(), headers=token)  # the other: the database
    assert replay.status_code == 401 and "replay" in replay.json()["detail"]
    entries = list(reversed(audit.query(store, patient_id="p1")))[before:]  # oldest first
    assert [e.outcome for e in entries] == ["0", "4"]
    assert entries[0].detail is not None and entries[0].detail.endswith("cards")
    assert entries[1].detail is not None and entries[1].detail.startswith("401")
    # A refused request spends its jti too: replaying it elsewhere does not get a second try.
    spent = {"Authorization": f"Bearer {key.sign(claims(ISS, PV))}"}
    assert a.post("/cds-services/hygeia-patient-view", json={**_pv(), "hook": "order-sign"},
                  headers=spent).status_code == 400
    assert b.post("/cds-services/hygeia-patient-view", json=_pv(), headers=spent).status_code == 401
    assert audit.verify(store).ok


def test_concurrent_processes_keep_the_chain_intact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    store = Store(url)
    store.init()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=append_many, args=(url, w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    status = audit.verify(store)
    assert status.ok, status.reason
    assert status.entries == 240
