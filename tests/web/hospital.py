"""A small synthetic hospital for the dashboard tests: a few synth patients (no genomes) plus two admitted
patients built here — one deteriorating (NEWS2 rising to >= 7, alert raised), one stable — with a
pharmacogenomic phenotype and an active clopidogrel order. No reference data needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hygeia.ews.devices import DeviceReading
from hygeia.ews.monitor import Monitor, reading_observation
from hygeia.governance.access import add_user
from hygeia.records import Store, ingest_paths
from hygeia.records.codes import GENE_STUDIED_LOINC, LOINC, PHENOTYPE_LOINC
from hygeia.records.ingest import discover
from hygeia.synth import generate
from hygeia.web.demo import synth_start

DETERIORATING = "web-det-1"
STABLE = "web-stable-1"
PASSWORDS = {"nurse": "nurse-test-pw", "clinician": "clin-test-pw", "patient": "patient-test-pw",
             "governance": "gov-test-pw", "ops": "ops-test-pw", "admin": "admin-test-pw"}


def _patient(pid: str, family: str, gender: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": family, "given": ["Test"]}], "gender": gender,
            "birthDate": "1950-03-04", "identifier": [{"system": "urn:test", "value": f"MRN-{pid}"}]}


def _encounter(pid: str, ward_ref: str, ward_name: str, start: datetime) -> dict[str, Any]:
    return {"resourceType": "Encounter", "id": f"enc-{pid}", "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"reference": f"Patient/{pid}"}, "period": {"start": start.isoformat()},
            "location": [{"location": {"reference": ward_ref, "display": ward_name}, "status": "active",
                          "period": {"start": start.isoformat()}}]}


def _phenotype(pid: str, gene: str, phenotype: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"pgx-{pid}-{gene}-phenotype", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": PHENOTYPE_LOINC}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2024-01-01T00:00:00+00:00",
            "valueString": phenotype,
            "component": [{"code": {"coding": [{"system": LOINC, "code": GENE_STUDIED_LOINC}]},
                           "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org",
                                                                "code": gene, "display": gene}]}}]}


def _order(pid: str, drug: str) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": f"mr-{pid}-{drug}", "status": "active", "intent": "order",
            "medicationCodeableConcept": {"text": drug}, "subject": {"reference": f"Patient/{pid}"},
            "authoredOn": "2024-01-01"}


def _vitals(pid: str, when: datetime, rr: int, spo2: int, pulse: int, sbp: int, temp: float) -> list[dict[str, Any]]:
    readings = [("rr", rr), ("spo2", spo2), ("pulse", pulse), ("sbp", sbp), ("temp_c", temp), ("acvpu", "A"),
                ("on_oxygen", False)]
    return [reading_observation(pid, f"bed-{pid}", when, DeviceReading(p, v, None)) for p, v in readings]


def raise_alert(store: Store, pid: str) -> str:
    """Admit a new patient ``pid`` to the AMU with a NEWS2 of 7+ now; returns the id of the alert it raises."""
    now = datetime.now(UTC)
    store.write([_patient(pid, "Alerting", "female")])
    store.write([_encounter(pid, "Location/ward-amu", "Acute Medical Unit", now - timedelta(hours=2))])
    outcome = Monitor(store).process(pid, _vitals(pid, now - timedelta(minutes=5), 26, 91, 125, 95, 38.6), now=now)
    return str(outcome.alerts[0]["id"])


def build(store: Store, folder: Path, patients: int = 6, seed: int = 3) -> dict[str, Any]:
    """Fill ``store``; returns what the tests need (ids, ward, alert ids)."""
    now = datetime.now(UTC)
    generate(folder / "synth", patients=patients, seed=seed, start=synth_start(), genomes=False)
    ingest_paths(store, discover([folder / "synth" / "fhir"]))
    ward_ref, ward_name = "Location/ward-amu", "Acute Medical Unit"
    try:
        loc = store.read("Location", "ward-amu")
        ward_name = loc.get("name", ward_name)
    except Exception:
        store.write([{"resourceType": "Location", "id": "ward-amu", "name": ward_name, "status": "active"}])
    start = now - timedelta(hours=20)
    store.write([_patient(DETERIORATING, "Declining", "female"), _patient(STABLE, "Steady", "male")])
    store.write([_encounter(DETERIORATING, ward_ref, ward_name, start), _encounter(STABLE, ward_ref, ward_name, start),
                 _phenotype(DETERIORATING, "CYP2C19", "Poor Metabolizer"),
                 _phenotype(STABLE, "CYP2C19", "Normal Metabolizer"), _order(DETERIORATING, "clopidogrel")])
    monitor = Monitor(store)
    # deteriorating: NEWS2 0 -> 3 -> 7+ over six hours; stable stays at 0
    course = [(6.0, 16, 97, 78, 124, 36.8), (3.0, 21, 95, 95, 112, 37.6), (0.5, 25, 92, 118, 98, 38.4)]
    for hours, rr, spo2, pulse, sbp, temp in course:
        at = now - timedelta(hours=hours)
        monitor.process(DETERIORATING, _vitals(DETERIORATING, at, rr, spo2, pulse, sbp, temp), now=at)
        monitor.process(STABLE, _vitals(STABLE, at, 15, 97, 72, 126, 36.7), now=at)
    first_patient = store.patient_ids()[0]
    add_user(store, "nurse", PASSWORDS["nurse"], ["nurse"])
    add_user(store, "clinician", PASSWORDS["clinician"], ["clinician"])
    add_user(store, "patient", PASSWORDS["patient"], ["patient"], patient_id=STABLE)
    add_user(store, "governance", PASSWORDS["governance"], ["governance"])
    add_user(store, "ops", PASSWORDS["ops"], ["operations"])
    add_user(store, "admin", PASSWORDS["admin"], ["admin"])
    return {"ward": ward_name, "other_patient": first_patient}
