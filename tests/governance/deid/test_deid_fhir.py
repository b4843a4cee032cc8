"""FHIR de-identification profile on small synthetic resources."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from hygeia.governance.deid.fhir import (
    FhirDeidConfig,
    deidentify_ndjson,
    deidentify_resources,
    pseudonym_id,
    shift_fhir_date,
)
from hygeia.governance.deid.text import date_shift_days

CFG = FhirDeidConfig(key=b"test-secret-key-0123456789", as_of=date(2024, 6, 1))
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "urn:mrn", "value": "00482913"}],
    "name": [{"family": "Hargreaves", "given": ["Margaret"]}],
    "telecom": [{"system": "phone", "value": "617-555-0142"}],
    "address": [{"line": ["42 Elm Street"], "city": "Boston", "state": "MA", "postalCode": "02115"}],
    "birthDate": "1930-03-04",
    "contact": [{"name": {"family": "Hargreaves", "given": ["Ingrid"]}}],
    "text": {"status": "generated", "div": "<div>Margaret Hargreaves, seen by Dr. Okafor on 3/12</div>"},
}
OBS = {
    "resourceType": "Observation",
    "id": "o1",
    "subject": {"reference": "Patient/p1", "display": "Margaret Hargreaves"},
    "effectiveDateTime": "2020-03-01T09:30:00+00:00",
    "issued": "2020-03-02",
    "valueString": "Daughter Ingrid called at 617-555-0142",
    "note": [{"text": "Discussed with Dr. Okafor"}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
}


def test_direct_identifiers_removed_or_generalised() -> None:
    patient, obs = deidentify_resources([PATIENT, OBS], CFG)
    dumped = orjson.dumps([patient, obs]).decode()
    for phi in ("Hargreaves", "Margaret", "617-555-0142", "Elm", "Boston", "00482913", "Ingrid", "Okafor", "1930"):
        assert phi not in dumped, phi
    assert "name" not in patient and "telecom" not in patient and "contact" not in patient
    assert patient["address"] == [{"state": "MA", "postalCode": "021"}]
    assert patient["birthDate"] == "1934"  # older than 89 on 2024-06-01: aggregated to 90
    assert patient["identifier"][0]["value"] != "00482913"
    assert obs["code"]["coding"][0]["display"] == "Heart rate"


def test_references_and_dates_consistent() -> None:
    patient, obs = deidentify_resources([PATIENT, OBS], CFG)
    assert obs["subject"]["reference"] == f"Patient/{patient['id']}" == f"Patient/{pseudonym_id(CFG.key, 'p1')}"
    days = date_shift_days(CFG.key, "patient:p1")
    assert obs["effectiveDateTime"] == shift_fhir_date("2020-03-01T09:30:00+00:00", days)
    assert obs["effectiveDateTime"].endswith("T09:30:00+00:00") and obs["effectiveDateTime"] != OBS["effectiveDateTime"]
    again = deidentify_resources([OBS], CFG)[0]
    assert again == obs


def test_restricted_zip_and_young_birth_year() -> None:
    young = {**PATIENT, "birthDate": "1990-05-05", "address": [{"postalCode": "03601", "state": "NH"}]}
    out = deidentify_resources([young], CFG)[0]
    assert out["birthDate"] == "1990"
    assert out["address"][0]["postalCode"] == "000"


def test_bundle_full_urls_match_references() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:p1", "resource": PATIENT, "request": {"method": "PUT", "url": "Patient/p1"}},
            {"fullUrl": "urn:uuid:o1", "resource": {**OBS, "subject": {"reference": "urn:uuid:p1"}}},
        ],
    }
    out = deidentify_resources([bundle], CFG)[0]
    new_p = out["entry"][0]["resource"]["id"]
    assert out["entry"][0]["fullUrl"] == f"urn:uuid:{new_p}"
    assert out["entry"][1]["resource"]["subject"]["reference"] == f"urn:uuid:{new_p}"
    assert out["entry"][0]["request"]["url"] == f"Patient/{new_p}"


def test_shift_keeps_precision() -> None:
    assert shift_fhir_date("2020-02-28", 2) == "2020-03-01"
    assert shift_fhir_date("2020-02", 20) == "2020-03"
    assert shift_fhir_date("2020", 400) == "2020"


def test_ndjson_stream_and_bad_line() -> None:
    lines = [orjson.dumps(PATIENT), b"", orjson.dumps(OBS)]
    out = list(deidentify_ndjson(lines, CFG))
    assert len(out) == 2 and "Hargreaves" not in "".join(out)
    with pytest.raises(ValueError, match="line 2"):
        list(deidentify_ndjson([orjson.dumps(PATIENT), b"{not json"], CFG))
    with pytest.raises(ValueError, match="resourceType"):
        list(deidentify_ndjson([b'{"id": 1}'], CFG))
