"""CDS Hooks order-select against the reference PGx knowledge base (CPIC/PharmCAT): a patient whose record
holds a CYP2C19 poor-metabolizer result gets an actionable drug–gene card when clopidogrel is selected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from tests.api.helpers import claims, keypair
from tests.api.test_cds_hooks import check_card
from tests.records.bundles import patient, transaction

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.governance.smart import register_client
from hygeia.records import Store, ingest_bundle

HGNC = "http://www.genenames.org/geneId"


def _pgx(pid: str, kind: str, code: str, value: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"{pid}-{kind}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2023-01-01T00:00:00Z",
            "valueCodeableConcept": {"text": value},
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                           "valueCodeableConcept": {"coding": [{"system": HGNC, "code": "HGNC:2621",
                                                                "display": "CYP2C19"}]}}]}


def test_order_select_gives_a_drug_gene_card(reference: Callable[..., Path], tmp_path: Path) -> None:
    reference("pgx", "kb")
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}",
                        secret_key=SecretStr("acceptance-secret-not-default"))
    store = Store(settings.resolved_database_url())
    store.init()
    ingest_bundle(store, transaction([patient("pgx1"), _pgx("pgx1", "genotype", "84413-4", "*2/*2"),
                                      _pgx("pgx1", "phenotype", "53040-2", "Poor Metabolizer")]))
    key = keypair("ES384")
    register_client(store, "https://ehr.example", kind="cds", role="clinician", jwks=key.jwks)
    order = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
             "medicationCodeableConcept": {"text": "clopidogrel"}, "subject": {"reference": "Patient/pgx1"}}
    body = {"hook": "order-select", "hookInstance": "a", "context": {
        "patientId": "pgx1", "userId": "Practitioner/1", "selections": ["MedicationRequest/mr1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}}}
    url = "http://testserver/cds-services/hygeia-order-select"
    with TestClient(create_app(store, settings)) as client:
        r = client.post("/cds-services/hygeia-order-select", json=body,
                        headers={"Authorization": f"Bearer {key.sign(claims('https://ehr.example', url))}"})
    store.dispose()
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    for card in cards:
        check_card(card)
    actionable = [c for c in cards if c["indicator"] in ("warning", "critical") and "clopidogrel" in
                  c["summary"].lower()]
    assert actionable, [c["summary"] for c in cards]
    assert actionable[0]["overrideReasons"] and actionable[0]["source"]["label"]
