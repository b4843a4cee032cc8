"""MIMIC-IV CSV → FHIR bundles, on a tiny synthetic MIMIC tree written as gzipped CSVs."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from hygeia.records.codes import ICD9CM, ICD10CM, ICD10PCS, LOINC, MIMIC_LABITEM
from hygeia.records.mimic import (
    MimicFormatError,
    icd_code,
    is_mapped_lab,
    lab_mapping,
    mimic_bundles,
    mimic_counts,
)

LAB_HEADER = (
    "labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,"
    "valueuom,ref_range_lower,ref_range_upper,flag,priority,comments"
)
TABLES = {
    "patients": "subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod\n"
    "1,F,60,2150,2011 - 2013,2152-03-04\n2,M,45,2120,2014 - 2016,\n",
    "admissions": "subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,"
    "admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,"
    "hospital_expire_flag\n"
    "1,11,2150-01-01 10:00:00,2150-01-05 12:00:00,,EW EMER.,P1,EMERGENCY ROOM,HOME,Other,ENGLISH,,WHITE,,,0\n"
    "1,12,2151-01-01 08:00:00,2151-01-02 09:00:00,,EU OBSERVATION,P1,EMERGENCY ROOM,HOME,Other,ENGLISH,,WHITE,,,0\n"
    "2,21,2120-06-01 08:00:00,2120-06-03 09:00:00,,ELECTIVE,P2,PHYSICIAN REFERRAL,HOME,Other,ENGLISH,,ASIAN,,,0\n",
    "transfers": "subject_id,hadm_id,transfer_id,eventtype,careunit,intime,outtime\n"
    "1,11,3,transfer,Medicine,2150-01-01 14:00:00,2150-01-05 12:00:00\n"
    "1,11,2,admit,Medical Intensive Care Unit (MICU),2150-01-01 10:00:00,2150-01-01 14:00:00\n"
    "1,11,4,discharge,,2150-01-05 12:00:00,\n"
    "1,,5,ED,Emergency Department,2149-12-01 10:00:00,2149-12-01 12:00:00\n",
    "diagnoses_icd": "subject_id,hadm_id,seq_num,icd_code,icd_version\n"
    "1,11,2,4019,9\n1,11,1,E8790,9\n1,12,1,I10,10\n2,21,1,E119,10\n",
    "d_icd_diagnoses": "icd_code,icd_version,long_title\n4019,9,Unspecified essential hypertension\n"
    "I10,10,Essential (primary) hypertension\n",
    "procedures_icd": "subject_id,hadm_id,seq_num,chartdate,icd_code,icd_version\n"
    "1,11,1,2150-01-02,3961,9\n2,21,1,2120-06-01,0DTJ4ZZ,10\n",
    "d_icd_procedures": "icd_code,icd_version,long_title\n3961,9,Extracorporeal circulation\n",
    "prescriptions": "subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,"
    "drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,"
    "form_unit_disp,doses_per_24_hrs,route\n"
    "1,11,100,,,,2150-01-01 12:00:00,2150-01-03 12:00:00,MAIN,Heparin,HEP5,,00641040025,,,5000,UNIT,,,3,SC\n"
    "1,11,101,,,,2150-01-01 12:00:00,,MAIN,Acetaminophen,APAP,,0,,,325-650,mg,,,,PO\n",
    "d_labitems": "itemid,label,fluid,category\n50971,Potassium,Blood,Chemistry\n"
    "51249,MCHC,Blood,Hematology\n50887,Blue Top Hold,Blood,Chemistry\n99999,Odd,Blood,Chemistry\n",
    "labevents": LAB_HEADER + "\n"
    "1,1,11,9,50971,,2150-01-01 11:00:00,2150-01-01 12:00:00,5.6,5.6,mEq/L,3.5,5.1,abnormal,STAT,\n"
    "2,1,11,9,51249,,2150-01-01 11:00:00,2150-01-01 12:00:00,33,33,%,31,37,,STAT,\n"
    "3,1,,9,50887,,2150-02-01 11:00:00,,HOLD.,,,,,,,\n"
    "4,1,11,9,50971,,2150-01-02 11:00:00,,___,4.1,mEq/L,,,,,___\n"
    "5,1,11,9,50971,,2150-01-02 11:00:00,,___,,mEq/L,,,,,\n"
    "6,1,11,9,50971,,2150-01-03 11:00:00,,,,mEq/L,,,,,cancelled\n"
    "7,2,21,9,99999,,2120-06-01 11:00:00,,1.5,1.5,log10 IU/mL,,,,,\n"
    "8,2,21,9,12345,,2120-06-01 11:00:00,,7,7,mg/dL,,,,,\n",
}


def write_tree(root: Path, tables: dict[str, str] | None = None) -> Path:
    (root / "hosp").mkdir(parents=True, exist_ok=True)
    for name, text in (tables or TABLES).items():
        with gzip.open(root / "hosp" / f"{name}.csv.gz", "wt", encoding="utf-8") as fh:
            fh.write(text)
    return root


def resources(bundle: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return list(mimic_bundles(write_tree(tmp_path_factory.mktemp("mimic"))))


def test_one_bundle_per_patient_and_everything_validates(bundles: list[dict[str, Any]]) -> None:
    assert [b["id"] for b in bundles] == ["mimic-bundle-1", "mimic-bundle-2"]
    for bundle in bundles:
        assert bundle["type"] == "collection"
        ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
        assert len(ids) == len(set(ids))
        present = {f"{t}/{i}" for t, i in ids}
        for entry in bundle["entry"]:
            r = entry["resource"]
            get_fhir_model_class(r["resourceType"]).model_validate(r)
            for key in ("subject", "encounter"):
                if key in r:
                    assert r[key]["reference"] in present  # no dangling references
        get_fhir_model_class("Bundle").model_validate(bundle)


def test_patient(bundles: list[dict[str, Any]]) -> None:
    p = resources(bundles[0], "Patient")["mimic-p-1"]
    assert p["gender"] == "female" and p["birthDate"] == "2090" and p["deceasedDateTime"] == "2152-03-04"
    assert p["extension"][0]["extension"][0]["valueString"] == "WHITE"


def test_encounters_with_transfers_as_location_history(bundles: list[dict[str, Any]]) -> None:
    encs = resources(bundles[0], "Encounter")
    assert set(encs) == {"mimic-enc-11", "mimic-enc-12"}
    e = encs["mimic-enc-11"]
    assert e["period"] == {"start": "2150-01-01T10:00:00Z", "end": "2150-01-05T12:00:00Z"}
    assert e["class"]["code"] == "IMP" and encs["mimic-enc-12"]["class"]["code"] == "OBSENC"
    assert [(x["location"]["display"], x["period"]["start"]) for x in e["location"]] == [
        ("Medical Intensive Care Unit (MICU)", "2150-01-01T10:00:00Z"),
        ("Medicine", "2150-01-01T14:00:00Z"),
    ]
    assert "location" not in encs["mimic-enc-12"]  # the ED visit without hadm_id is not an admission
    assert [d["rank"] for d in e["diagnosis"]] == [1, 2]


def test_conditions_and_procedures_are_icd_coded(bundles: list[dict[str, Any]]) -> None:
    conds = resources(bundles[0], "Condition")
    c = conds["mimic-cond-11-2"]["code"]["coding"][0]
    assert (c["system"], c["code"], c["display"]) == (ICD9CM, "401.9", "Unspecified essential hypertension")
    assert conds["mimic-cond-11-1"]["code"]["coding"][0]["code"] == "E879.0"
    assert conds["mimic-cond-12-1"]["code"]["coding"][0]["system"] == ICD10CM
    proc = resources(bundles[0], "Procedure")["mimic-proc-11-1"]
    assert proc["code"]["coding"][0]["code"] == "39.61" and proc["performedDateTime"] == "2150-01-02"
    proc2 = resources(bundles[1], "Procedure")["mimic-proc-21-1"]
    assert proc2["code"]["coding"][0] == {"system": ICD10PCS, "code": "0DTJ4ZZ"}


def test_medication_requests(bundles: list[dict[str, Any]]) -> None:
    meds = {m["medicationCodeableConcept"]["text"]: m for m in resources(bundles[0], "MedicationRequest").values()}
    hep, apap = meds["Heparin"], meds["Acetaminophen"]
    assert hep["medicationCodeableConcept"]["coding"][0]["code"] == "00641040025"
    assert hep["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "[U]"
    assert hep["status"] == "completed" and apap["status"] == "unknown"
    assert "coding" not in apap["medicationCodeableConcept"]  # NDC 0 means none
    assert "doseAndRate" not in apap["dosageInstruction"][0]  # 325-650 is a range: text only
    assert apap["dosageInstruction"][0]["text"] == "325-650 mg PO"


def test_labs_mapping_units_and_values(bundles: list[dict[str, Any]]) -> None:
    labs = resources(bundles[0], "Observation")
    assert set(labs) == {"mimic-lab-1", "mimic-lab-2", "mimic-lab-3", "mimic-lab-4"}
    k = labs["mimic-lab-1"]
    assert k["code"]["coding"][0] == {
        "system": LOINC,
        "code": "2823-3",
        "display": "Potassium [Moles/volume] in Serum or Plasma",
    }
    assert k["code"]["coding"][1]["system"] == MIMIC_LABITEM
    assert k["valueQuantity"] == {
        "value": 5.6,
        "unit": "mmol/L",
        "system": "http://unitsofmeasure.org",
        "code": "mmol/L",
    }
    assert k["referenceRange"][0]["high"]["value"] == 5.1
    assert k["interpretation"][0]["coding"][0]["code"] == "A"
    assert k["encounter"]["reference"] == "Encounter/mimic-enc-11"
    # MCHC reported in % although the LOINC code is a mass concentration: local code only, unit kept
    mchc = labs["mimic-lab-2"]
    assert [c["system"] for c in mchc["code"]["coding"]] == [MIMIC_LABITEM]
    assert mchc["valueQuantity"]["code"] == "%"
    assert labs["mimic-lab-3"]["valueString"] == "HOLD." and "encounter" not in labs["mimic-lab-3"]
    assert labs["mimic-lab-4"]["valueQuantity"]["value"] == 4.1 and "note" not in labs["mimic-lab-4"]
    odd = resources(bundles[1], "Observation")["mimic-lab-7"]
    assert odd["valueQuantity"] == {"value": 1.5, "unit": "log10 IU/mL"}  # no UCUM code invented


def test_counts_match_conversion(tmp_path: Path, bundles: list[dict[str, Any]]) -> None:
    counts = mimic_counts(write_tree(tmp_path))
    assert (counts.patients, counts.admissions, counts.labevents) == (2, 3, 8)
    assert counts.mapped_labevents == 5 == sum(len(resources(b, "Observation")) for b in bundles)
    assert counts.loinc_labevents == 2


def test_is_mapped_lab() -> None:
    items = {"1"}
    assert is_mapped_lab("1", "", "3.2", items)
    assert is_mapped_lab("1", "NEG", "", items)
    assert not is_mapped_lab("1", "___", "", items)
    assert not is_mapped_lab("1", "  ", "", items)
    assert not is_mapped_lab("2", "5", "5", items)


@pytest.mark.parametrize(
    ("code", "version", "procedure", "expected"),
    [
        ("4019", "9", False, (ICD9CM, "401.9")),
        ("V5861", "9", False, (ICD9CM, "V58.61")),
        ("E8790", "9", False, (ICD9CM, "E879.0")),
        ("042", "9", False, (ICD9CM, "042")),
        ("E119", "10", False, (ICD10CM, "E11.9")),
        ("I10", "10", False, (ICD10CM, "I10")),
        ("3961", "9", True, (ICD9CM, "39.61")),
        ("0DTJ4ZZ", "10", True, (ICD10PCS, "0DTJ4ZZ")),
    ],
)
def test_icd_code(code: str, version: str, procedure: bool, expected: tuple[str, str]) -> None:
    assert icd_code(code, version, procedure) == expected


def test_mapping_table_is_well_formed() -> None:
    table = lab_mapping()
    assert len(table) >= 50
    for m in table.values():
        body, check = m.loinc.split("-")
        digits = [int(c) for c in reversed(body)]  # LOINC mod-10 check digit
        total = sum(d * 2 // 10 + d * 2 % 10 if i % 2 == 0 else d for i, d in enumerate(digits))
        assert (10 - total % 10) % 10 == int(check), m
        assert m.itemid.isdigit() and m.ucum


@pytest.mark.parametrize(
    ("table", "bad_row", "needle"),
    [
        ("admissions", "1,13,2150-13-01 10:00:00,,,URGENT,,,,,,,,,,0", "admissions.csv.gz, row 4, field admittime"),
        ("labevents", "9,1,11,9,50971,,yesterday,,1,1,mEq/L,,,,,", "labevents.csv.gz, row 9, field charttime"),
        ("diagnoses_icd", "1,99,1,4019,9", "diagnoses_icd.csv.gz, row 5, field hadm_id"),
        ("diagnoses_icd", "1,11,3,4019,11", "diagnoses_icd.csv.gz, row 5, field icd_version"),
        ("labevents", "x,1,11,9,50971,,2150-01-01 11:00:00,,1,1,mEq/L,,,,,", "row 9, field labevent_id"),
    ],
)
def test_malformed_rows_name_file_row_and_field(tmp_path: Path, table: str, bad_row: str, needle: str) -> None:
    tables = dict(TABLES)
    tables[table] = tables[table] + bad_row + "\n"
    with pytest.raises(MimicFormatError, match=re.escape(needle)):
        list(mimic_bundles(write_tree(tmp_path, tables)))


def test_missing_file_and_column(tmp_path: Path) -> None:
    tables = dict(TABLES)
    del tables["transfers"]
    with pytest.raises(MimicFormatError, match=r"transfers\.csv\.gz.*missing"):
        list(mimic_bundles(write_tree(tmp_path / "a", tables)))
    tables = dict(TABLES)
    tables["patients"] = "subject_id,sex\n1,F\n"
    with pytest.raises(MimicFormatError, match="gender"):
        list(mimic_bundles(write_tree(tmp_path / "b", tables)))
    broken = write_tree(tmp_path / "c")
    (broken / "hosp" / "labevents.csv.gz").write_bytes(b"\x1f\x8b\x08truncated")
    with pytest.raises(MimicFormatError, match="cannot read"):
        mimic_counts(broken)


def test_subject_filter(tmp_path: Path) -> None:
    only = list(mimic_bundles(write_tree(tmp_path), subject_ids=["2"]))
    assert [b["id"] for b in only] == ["mimic-bundle-2"]
