"""Tiny synthetic FHIR bundles for the spine's tests (not real data)."""

from __future__ import annotations

import uuid
from typing import Any


def patient(pid: str = "p1", family: str = "Testperson", given: str = "Ada") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1950-02-03",
            "name": [{"family": family, "given": [given]}],
            "identifier": [{"system": "urn:hygeia:test:mrn", "value": f"MRN-{pid}"}]}


def vital(oid: str, pid: str, code: str, value: float, unit: str, when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def transaction(resources: list[dict[str, Any]], use_urn: bool = True) -> dict[str, Any]:
    """A transaction bundle; with ``use_urn`` the Patient is referenced by urn:uuid as Synthea does."""
    entries = []
    urns: dict[str, str] = {}
    for res in resources:
        urn = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, res['resourceType'] + res['id'])}"
        urns[f"{res['resourceType']}/{res['id']}"] = urn
    for res in resources:
        res = dict(res)
        if use_urn and "subject" in res:
            res["subject"] = {"reference": urns.get(res["subject"]["reference"], res["subject"]["reference"])}
        entries.append({"fullUrl": urns[f"{res['resourceType']}/{res['id']}"], "resource": res,
                        "request": {"method": "POST", "url": res["resourceType"]}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def small_bundle(pid: str = "p1", n_obs: int = 3) -> dict[str, Any]:
    resources = [patient(pid)]
    for i in range(n_obs):
        resources.append(vital(f"{pid}-hr-{i}", pid, "8867-4", 70 + i, "/min", f"2024-01-01T0{i % 10}:00:00Z"))
    return transaction(resources)
