"""Source-format converters against the reference data: MIMIC-IV demo and PhysioNet 2012 set A.

Every emitted resource must validate with fhir.resources R4B; counts are checked against counts
taken here straight from the CSV/text files; units and LOINC codes against the table documented in
docs/ingestion-sources.md (restated below so that a change to the converter's table is noticed).
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hygeia.records import PatientRecord, Store
from hygeia.records.codes import LOINC, MIMIC_LABITEM, PHYSIONET2012, UCUM
from hygeia.records.ingest import ingest_bundles
from hygeia.records.mimic import lab_mapping, mimic_bundles, mimic_counts
from hygeia.records.physionet2012 import stay_bundles

NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

# docs/ingestion-sources.md, "PhysioNet 2012": variable → (LOINC or None, UCUM unit, plausible range).
P2012_TABLE: dict[str, tuple[str | None, str, tuple[float, float]]] = {
    "Age": ("30525-0", "a", (0, 120)),
    "Height": ("8302-2", "cm", (30, 250)),
    "Weight": ("29463-7", "kg", (1, 500)),
    "Albumin": ("1751-7", "g/dL", (0.2, 10)),
    "ALP": ("6768-6", "U/L", (0, 20000)),
    "ALT": ("1742-6", "U/L", (0, 50000)),
    "AST": ("1920-8", "U/L", (0, 50000)),
    "Bilirubin": ("1975-2", "mg/dL", (0, 100)),
    "BUN": ("3094-0", "mg/dL", (0, 400)),
    "Cholesterol": ("2093-3", "mg/dL", (0, 2000)),
    "Creatinine": ("2160-0", "mg/dL", (0, 40)),
    "DiasABP": ("76213-8", "mm[Hg]", (0, 300)),
    "FiO2": ("3150-0", "%", (10, 100)),
    "GCS": ("9269-2", "{score}", (3, 15)),
    "Glucose": ("2345-7", "mg/dL", (1, 3000)),
    "HCO3": ("1963-8", "mmol/L", (1, 70)),
    "HCT": ("4544-3", "%", (5, 80)),
    "HR": ("8867-4", "/min", (0, 350)),
    "K": ("2823-3", "mmol/L", (1, 15)),
    "Lactate": ("2524-7", "mmol/L", (0, 40)),
    "Mg": ("19123-9", "mg/dL", (0.1, 20)),
    "MAP": ("76214-6", "mm[Hg]", (0, 300)),
    "MechVent": (None, "", (0, 1)),
    "Na": ("2951-2", "mmol/L", (80, 220)),
    "NIDiasABP": ("8462-4", "mm[Hg]", (0, 300)),
    "NIMAP": ("8478-0", "mm[Hg]", (0, 300)),
    "NISysABP": ("8480-6", "mm[Hg]", (0, 350)),
    "PaCO2": ("2019-8", "mm[Hg]", (5, 250)),
    "PaO2": ("2703-7", "mm[Hg]", (10, 800)),
    "pH": ("2744-1", "[pH]", (6.3, 8.0)),
    "Platelets": ("777-3", "10*3/uL", (0, 3000)),
    "RespRate": ("9279-1", "/min", (0, 120)),
    "SaO2": ("2708-6", "%", (10, 100)),
    "SysABP": ("76215-3", "mm[Hg]", (0, 350)),
    "Temp": ("8310-5", "Cel", (20, 45)),
    "TroponinI": ("10839-9", "ug/L", (0, 1000)),
    "TroponinT": ("6598-7", "ug/L", (0, 1000)),
    "Urine": ("9187-6", "mL", (0, 20000)),
    "WBC": ("6690-2", "10*3/uL", (0, 1000)),
}
NOT_OBSERVATIONS = {"RecordID", "Gender", "ICUType"}


def validate_bundle(bundle: dict[str, Any]) -> Counter[str]:
    """Check references resolve inside the bundle and count resource types. (R4B validation of every
    resource happens when the bundle is ingested into the store, all-or-nothing.)"""
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    assert len(present) == len(bundle["entry"]), f"{bundle['id']}: duplicate resource ids"
    kinds: Counter[str] = Counter()
    for entry in bundle["entry"]:
        r = entry["resource"]
        for key in ("subject", "encounter"):
            if key in r:
                assert r[key]["reference"] in present, f"{r['id']}: dangling {key}"
        kinds[r["resourceType"]] += 1
    return kinds


def into_store(store: Store, bundles: Iterable[dict[str, Any]]) -> None:
    """Ingest every bundle (each validated with R4B, all-or-nothing) with zero rejects."""
    report = ingest_bundles(store, ((f"bundle {i}", b) for i, b in enumerate(bundles)))
    assert report.rejected == 0


def read_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_mimic_demo(reference: Callable[..., Path], sqlite_store: Store) -> None:
    root = reference("clinical", "mimic-iv-demo-2.2")
    hosp = root / "hosp"
    admissions = len(read_gz(hosp / "admissions.csv.gz"))
    items = {r["itemid"] for r in read_gz(hosp / "d_labitems.csv.gz")}
    mapped = 0
    for row in read_gz(hosp / "labevents.csv.gz"):  # mapped: known item with a result (not the ___ mask)
        value = row["value"].strip()
        if row["itemid"] in items and (NUMBER.match(row["valuenum"].strip()) or value.strip("_")):
            mapped += 1
    counts = mimic_counts(root)
    assert (counts.admissions, counts.mapped_labevents) == (admissions, mapped)

    mapping = lab_mapping()
    totals: Counter[str] = Counter()
    loinc_labs = 0
    converted: list[dict[str, Any]] = []
    for bundle in mimic_bundles(root):
        converted.append(bundle)
        totals += validate_bundle(bundle)
        for entry in bundle["entry"]:
            r = entry["resource"]
            if r["resourceType"] != "Observation":
                continue
            codings = r["code"]["coding"]
            assert codings[-1]["system"] == MIMIC_LABITEM
            if codings[0]["system"] == LOINC:
                loinc_labs += 1
                m = mapping[codings[-1]["code"]]
                assert codings[0]["code"] == m.loinc
                if "valueQuantity" in r:
                    assert (r["valueQuantity"]["system"], r["valueQuantity"]["code"]) == (UCUM, m.ucum)
    assert totals["Patient"] == 100 == counts.patients
    assert totals["Encounter"] == admissions
    assert totals["Observation"] == mapped
    assert loinc_labs == counts.loinc_labevents
    assert loinc_labs / mapped > 0.7  # the common chemistry/haematology/blood-gas items are mapped
    assert totals["Condition"] == len(read_gz(hosp / "diagnoses_icd.csv.gz"))
    assert totals["Procedure"] == len(read_gz(hosp / "procedures_icd.csv.gz"))
    assert totals["MedicationRequest"] > 0
    # through the spine: the store holds exactly these
    into_store(sqlite_store, converted)
    stored = sqlite_store.counts()
    assert stored["Patient"] == 100
    assert stored["Encounter"] == admissions
    assert stored["Observation"] == mapped
    labs = PatientRecord.load(sqlite_store, sqlite_store.patient_ids()[0]).labs()
    assert len(labs) > 0 and labs["time"].notna().all()


def test_physionet_2012_first_200_stays(reference: Callable[..., Path], sqlite_store: Store) -> None:
    directory = reference("clinical", "physionet-2012", "set-a")
    files = sorted(directory.glob("*.txt"))[:200]
    assert len(files) == 200
    expected_obs = 0
    for path in files:  # every line except the non-observation descriptors and -1 (missing)
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            _, parameter, value = line.split(",")
            if parameter not in NOT_OBSERVATIONS and float(value) != -1:
                expected_obs += 1

    observations = flagged = 0
    seen: set[str] = set()
    converted: list[dict[str, Any]] = []
    for bundle in stay_bundles(directory, limit=200):
        converted.append(bundle)
        kinds = validate_bundle(bundle)
        assert kinds["Patient"] == kinds["Encounter"] == 1
        for entry in bundle["entry"]:
            r = entry["resource"]
            if r["resourceType"] != "Observation":
                continue
            observations += 1
            local = [c["code"] for c in r["code"]["coding"] if c["system"] == PHYSIONET2012]
            (name,) = local
            seen.add(name)
            loinc, unit, (lo, hi) = P2012_TABLE[name]
            assert [c["code"] for c in r["code"]["coding"] if c["system"] == LOINC] == ([loinc] if loinc else [])
            if "dataAbsentReason" in r:
                flagged += 1
                continue
            if name == "MechVent":
                assert isinstance(r["valueBoolean"], bool)
                continue
            q = r["valueQuantity"]
            assert (q["system"], q["code"], q["unit"]) == (UCUM, unit, unit), name
            assert lo <= q["value"] <= hi, (name, q["value"])
    assert observations == expected_obs
    assert flagged <= observations * 0.001  # implausible values are rare and flagged, not dropped
    assert seen == set(P2012_TABLE)  # all 37 variables (and Age, Height) occur in 200 stays
    # through the spine: vitals come back in canonical units
    into_store(sqlite_store, converted)
    assert sqlite_store.counts()["Observation"] == expected_obs
    for pid in sqlite_store.patient_ids()[:20]:
        vitals = PatientRecord.load(sqlite_store, pid).vitals()
        for name, lo, hi in (("heart_rate", 0, 350), ("temperature", 20, 45), ("systolic_bp", 0, 350)):
            values = vitals[vitals["name"] == name]["value"].dropna()
            assert ((values >= lo) & (values <= hi)).all(), name
