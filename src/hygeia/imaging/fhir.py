"""FHIR R4 resources for imaging and pathology results: ImagingStudy (the input) and DiagnosticReport."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hygeia import DECISION_SUPPORT_NOTICE

# HL7 v2 table 0074 (diagnostic service section), used by DiagnosticReport.category.
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0074"
CATEGORIES = {"imaging": ("RAD", "Radiology"), "pathology": ("PAT", "Pathology (gross & histopath, not surgical)")}


def imaging_study(patient_id: str, modality: str, description: str, n_instances: int = 1,
                  study_uid: str | None = None) -> dict[str, Any]:
    """A minimal ImagingStudy linking images to the patient (modality as DICOM code, e.g. CR, US, OP, SM)."""
    resource: dict[str, Any] = {
        "resourceType": "ImagingStudy",
        "id": str(uuid.uuid4()),
        "status": "available",
        "subject": {"reference": f"Patient/{patient_id}"},
        "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": modality}],
        "numberOfInstances": n_instances,
        "description": description,
    }
    if study_uid:
        resource["identifier"] = [{"system": "urn:dicom:uid", "value": f"urn:oid:{study_uid}"}]
    return resource


def diagnostic_report(patient_id: str, capability: str, code_text: str, conclusion: str,
                      observations: list[tuple[str, float | str, str | None]],
                      imaging_study_id: str | None = None, method: str = "") -> dict[str, Any]:
    """A DiagnosticReport with its measured values as contained Observations (label, value, unit)."""
    code, display = CATEGORIES.get(capability, ("OTH", "Other"))
    contained = []
    for i, (label, value, unit) in enumerate(observations):
        obs: dict[str, Any] = {"resourceType": "Observation", "id": f"obs{i}", "status": "final",
                               "code": {"text": label}, "subject": {"reference": f"Patient/{patient_id}"}}
        if isinstance(value, str):
            obs["valueString"] = value
        else:
            obs["valueQuantity"] = {"value": float(value), **({"unit": unit} if unit else {})}
        contained.append(obs)
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(uuid.uuid4()),
        "status": "preliminary",  # machine output awaiting a clinician's review
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": code, "display": display}]}],
        "code": {"text": code_text},
        "subject": {"reference": f"Patient/{patient_id}"},
        "issued": datetime.now(UTC).isoformat(),
        "conclusion": f"{conclusion} {DECISION_SUPPORT_NOTICE}",
        "contained": contained,
        "result": [{"reference": f"#{o['id']}"} for o in contained],
    }
    if method:
        report["extension"] = [{"url": "https://hygeia.example.org/fhir/method", "valueString": method}]
    if imaging_study_id:
        report["imagingStudy"] = [{"reference": f"ImagingStudy/{imaging_study_id}"}]
    return report
