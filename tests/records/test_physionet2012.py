"""PhysioNet 2012 stay files → FHIR, on small synthetic stay files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from hygeia.records.codes import LOINC, UCUM, VITAL_BY_CODE
from hygeia.records.physionet2012 import (
    INVASIVE,
    NON_INVASIVE,
    VARIABLE_BY_NAME,
    VARIABLES,
    StayFormatError,
    stay_bundle,
    stay_bundles,
)

HEADER = "Time,Parameter,Value\n"
DESCRIPTORS = "00:00,RecordID,900001\n00:00,Age,71\n00:00,Gender,1\n00:00,Height,-1\n00:00,ICUType,2\n"
# One plausible value per time-series variable (in the challenge's units).
VALUES = {
    "Albumin": 3.1,
    "ALP": 80,
    "ALT": 40,
    "AST": 35,
    "Bilirubin": 0.9,
    "BUN": 20,
    "Cholesterol": 150,
    "Creatinine": 1.1,
    "DiasABP": 60,
    "FiO2": 0.5,
    "GCS": 14,
    "Glucose": 120,
    "HCO3": 24,
    "HCT": 31.5,
    "HR": 88,
    "K": 4.2,
    "Lactate": 1.9,
    "Mg": 2.0,
    "MAP": 80,
    "MechVent": 1,
    "Na": 139,
    "NIDiasABP": 62,
    "NIMAP": 78,
    "NISysABP": 118,
    "PaCO2": 40,
    "PaO2": 95,
    "pH": 7.38,
    "Platelets": 210,
    "RespRate": 18,
    "SaO2": 97,
    "SysABP": 121,
    "Temp": 37.2,
    "TroponinI": 1.2,
    "TroponinT": 0.05,
    "Urine": 120,
    "WBC": 9.5,
    "Weight": 80.5,
}


def write(tmp: Path, body: str, name: str = "900001.txt") -> Path:
    path = tmp / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_local_code(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["code"]["coding"][-1]["code"]: o for o in resources(bundle, "Observation")}


@pytest.fixture
def full_stay(tmp_path: Path) -> dict[str, Any]:
    lines = "".join(f"01:{i:02d},{name},{value}\n" for i, (name, value) in enumerate(VALUES.items()))
    return stay_bundle(write(tmp_path, DESCRIPTORS + lines))


def test_every_variable_has_its_code_and_unit(full_stay: dict[str, Any]) -> None:
    obs = by_local_code(full_stay)
    assert set(obs) == set(VALUES) | {"Age"}  # Height -1 is missing
    assert len(VARIABLES) == 37 + 2  # the 37 time series plus Age and Height
    for name, o in obs.items():
        var = VARIABLE_BY_NAME[name]
        loinc = [c["code"] for c in o["code"]["coding"] if c["system"] == LOINC]
        assert loinc == ([var.loinc] if var.loinc else [])
        if var.boolean:
            assert o["valueBoolean"] is True
        else:
            q = o["valueQuantity"]
            assert (q["system"], q["code"], q["unit"]) == (UCUM, var.ucum, var.ucum)
            assert q["value"] == pytest.approx(VALUES.get(name, 71) * var.factor)


def test_fio2_fraction_is_stored_as_percent(full_stay: dict[str, Any]) -> None:
    q = by_local_code(full_stay)["FiO2"]["valueQuantity"]
    assert (q["value"], q["code"]) == (50.0, "%")


def test_invasive_and_noninvasive_pressures_are_distinguished(full_stay: dict[str, Any]) -> None:
    obs = by_local_code(full_stay)
    for name in ("SysABP", "DiasABP", "MAP"):
        assert obs[name]["method"]["coding"] == [INVASIVE]
        assert obs["NI" + name if name != "MAP" else "NIMAP"]["method"]["coding"] == [NON_INVASIVE]
    assert obs["SysABP"]["code"]["coding"][0]["code"] != obs["NISysABP"]["code"]["coding"][0]["code"]
    # both land on the canonical vital sign that PatientRecord reads
    assert VITAL_BY_CODE["76215-3"].name == VITAL_BY_CODE["8480-6"].name == "systolic_bp"


def test_patient_encounter_and_resources_validate(full_stay: dict[str, Any]) -> None:
    (patient,) = resources(full_stay, "Patient")
    (enc,) = resources(full_stay, "Encounter")
    assert patient["gender"] == "male" and "birthDate" not in patient
    assert enc["location"][0]["location"]["display"] == "Cardiac Surgery Recovery Unit"
    assert enc["period"]["start"] == "2000-01-01T00:00:00Z"
    assert by_local_code(full_stay)["HR"]["effectiveDateTime"] == "2000-01-01T01:14:00Z"
    for entry in full_stay["entry"]:
        r = entry["resource"]
        get_fhir_model_class(r["resourceType"]).model_validate(r)
        if r["resourceType"] == "Observation":
            assert r["subject"]["reference"] == f"Patient/{patient['id']}"
            assert r["encounter"]["reference"] == f"Encounter/{enc['id']}"
    get_fhir_model_class("Bundle").model_validate(full_stay)


def test_missing_values_are_absent_and_implausible_values_are_flagged(tmp_path: Path) -> None:
    body = DESCRIPTORS + "00:00,Weight,-1\n01:00,Temp,0\n01:00,HR,-1\n02:00,pH,735\n47:59,Temp,36.5\n"
    bundle = stay_bundle(write(tmp_path, body))
    obs = resources(bundle, "Observation")
    names = [o["code"]["coding"][-1]["code"] for o in obs]
    assert sorted(names) == ["Age", "Temp", "Temp", "pH"]
    flagged = [o for o in obs if "dataAbsentReason" in o]
    assert {o["code"]["coding"][-1]["code"] for o in flagged} == {"Temp", "pH"}
    assert all("valueQuantity" not in o and "Implausible source value" in o["note"][0]["text"] for o in flagged)
    assert any("735" in o["note"][0]["text"] for o in flagged)
    late = [o for o in obs if o["effectiveDateTime"] == "2000-01-02T23:59:00Z"]
    assert late[0]["valueQuantity"]["value"] == 36.5
    for o in obs:
        get_fhir_model_class("Observation").model_validate(o)


def test_unknown_gender_and_icu_type(tmp_path: Path) -> None:
    body = "00:00,RecordID,5\n00:00,Gender,-1\n00:00,ICUType,-1\n"
    bundle = stay_bundle(write(tmp_path, body, "5.txt"))
    (patient,) = resources(bundle, "Patient")
    (enc,) = resources(bundle, "Encounter")
    assert patient["gender"] == "unknown" and patient["id"] == "p2012-p-5"
    assert enc["location"][0]["location"]["display"] == "ICU (type unknown)"


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        ("00:00,RecordID,1\n1:xx,HR,80\n", 3, "Time"),
        ("00:00,RecordID,1\n01:00,Pulse,80\n", 3, "Parameter"),
        ("00:00,RecordID,1\n01:00,HR,eighty\n", 3, "Value"),
        ("00:00,RecordID,1\n01:00,HR,nan\n", 3, "Value"),
        ("00:00,RecordID,1\n01:00,HR\n", 3, "line"),
        ("00:00,RecordID,1.5\n", 2, "Value"),
        ("00:00,RecordID,1\n00:00,ICUType,7\n", 3, "Value"),
    ],
)
def test_malformed_lines_name_file_line_and_field(tmp_path: Path, body: str, line: int, field: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(StayFormatError) as info:
        stay_bundle(path)
    assert (info.value.line, info.value.field) == (line, field)
    assert str(path) in str(info.value) and f"line {line}" in str(info.value)


def test_bad_header_and_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "1.txt"
    bad.write_text("Parameter,Value\n", encoding="utf-8")
    with pytest.raises(StayFormatError, match="header"):
        stay_bundle(bad)
    binary = tmp_path / "2.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StayFormatError, match="cannot read"):
        stay_bundle(binary)
    with pytest.raises(StayFormatError, match="not a directory"):
        list(stay_bundles(tmp_path / "nowhere"))


def test_stay_bundles_sorted_and_limited(tmp_path: Path) -> None:
    for rid in (30, 10, 20):
        write(tmp_path, f"00:00,RecordID,{rid}\n01:00,HR,80\n", f"{rid}.txt")
    ids = [b["id"] for b in stay_bundles(tmp_path, limit=2)]
    assert ids == ["p2012-bundle-10", "p2012-bundle-20"]
    assert len(list(stay_bundles(tmp_path))) == 3
