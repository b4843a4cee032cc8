"""MIMIC-IV (demo 2.2) CSV tables → FHIR R4 resources, one ``collection`` Bundle per patient.

Tables read (``hosp``): patients, admissions, transfers, diagnoses_icd (+ d_icd_diagnoses),
procedures_icd (+ d_icd_procedures), labevents (+ d_labitems), prescriptions. The ICU module is
not needed: ICU stays appear in ``transfers`` as care units. Source and table documentation:
MIMIC-IV v2.2, https://mimic.mit.edu/docs/iv/ (Johnson et al., Sci Data 2023;10:1).

Mapping (docs/ingestion-sources.md): Patient ← patients (+ race of the latest admission);
Encounter ← one per admissions row, transfers as ``location`` history; Condition ← diagnoses_icd;
Procedure ← procedures_icd; MedicationRequest ← prescriptions (text + NDC: the demo has no RxNorm);
Observation ← every *mapped* labevents row (see :func:`is_mapped_lab`), always coded with the local
``MIMIC_LABITEM`` system and, for the items of ``data/mimic_labitem_loinc.csv``, with LOINC.

Times in MIMIC are de-identified (shifted into 2100-2200) and carry no zone; FHIR requires one,
so they are written as UTC (``Z``). They are not real dates.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import pandas as pd

from hygeia.records.codes import (
    ACT_CODE,
    ENCOUNTER_INPATIENT,
    ICD9CM,
    ICD10CM,
    ICD10PCS,
    LOINC,
    MIMIC_LABITEM,
    OBSERVATION_CATEGORY,
    UCUM,
    US_CORE_RACE,
    coding,
)

SOURCE = "MIMIC-IV Clinical Database Demo v2.2 (https://physionet.org/content/mimic-iv-demo/2.2/)"
MIMIC_SUBJECT = "https://hygeia.example.org/fhir/sid/mimic-iv-subject-id"
MIMIC_HADM = "https://hygeia.example.org/fhir/sid/mimic-iv-hadm-id"
NDC = "http://hl7.org/fhir/sid/ndc"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
ENCOUNTER_OBSERVATION = "OBSENC"  # v3 ActCode "observation encounter"
LAB_MAPPING_FILE = Path(__file__).parent / "data" / "mimic_labitem_loinc.csv"
DEID_MASK = re.compile(r"^_+$")  # MIMIC replaces de-identified free text by "___"
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}))?$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

# MIMIC ``valueuom`` / ``dose_unit_rx`` strings → UCUM codes (unitsofmeasure.org). Units not listed
# keep their text without a UCUM code. mEq/L is written as the UCUM "meq/L".
UCUM_UNITS: dict[str, str] = {
    "mg/dL": "mg/dL",
    "mEq/L": "meq/L",
    "%": "%",
    "K/uL": "10*3/uL",
    "g/dL": "g/dL",
    "IU/L": "[IU]/L",
    "fL": "fL",
    "sec": "s",
    "m/uL": "10*6/uL",
    "pg": "pg",
    "mm Hg": "mm[Hg]",
    "mmol/L": "mmol/L",
    "#/hpf": "/[HPF]",
    "/hpf": "/[HPF]",
    "#/lpf": "/[LPF]",
    "ng/mL": "ng/mL",
    "ug/mL": "ug/mL",
    "ug/dL": "ug/dL",
    "#/uL": "/uL",
    "pg/mL": "pg/mL",
    "uIU/mL": "u[IU]/mL",
    "mOsm/kg": "mosm/kg",
    "Ratio": "{ratio}",
    "mg/L": "mg/L",
    "ng/dL": "ng/dL",
    "mg/g": "mg/g",
    "mm/hr": "mm/h",
    "L/min": "L/min",
    "mIU/mL": "m[IU]/mL",
    "IU/mL": "[IU]/mL",
    "umol/L": "umol/L",
    "U": "U",
    "mL": "mL",
    "U/mL": "U/mL",
    "mg/24hr": "mg/(24.h)",
    "hrs": "h",
    "mL/min": "mL/min",
    "min": "min",
    "mg/mg": "mg/mg",
    "U/L": "U/L",
    "mg": "mg",
    "g": "g",
    "mcg": "ug",
    "mL/hr": "mL/h",
    "UNIT": "[U]",
    "mEq": "meq",
    "mmol": "mmol",
    "gm": "g",
    "L": "L",
    "kg": "kg",
}


class MimicFormatError(ValueError):
    """A malformed MIMIC table: names the file, the data row (1 = first row after the header) and field."""

    def __init__(self, file: str, row: int, field: str, reason: str) -> None:
        super().__init__(f"{file}, row {row}, field {field}: {reason}")
        self.file, self.row, self.field, self.reason = file, row, field, reason


@dataclass(frozen=True)
class LabMapping:
    """One labitem → LOINC mapping row (``data/mimic_labitem_loinc.csv``)."""

    itemid: str
    label: str
    loinc: str
    display: str
    source_unit: str  # the MIMIC valueuom the LOINC code's property matches ("" = none)
    ucum: str


@lru_cache(maxsize=1)
def lab_mapping() -> dict[str, LabMapping]:
    """The cited itemid → LOINC table (see docs/ingestion-sources.md for how it was built)."""
    with LAB_MAPPING_FILE.open(encoding="utf-8", newline="") as fh:
        return {
            r["itemid"]: LabMapping(
                r["itemid"], r["label"], r["loinc"], r["loinc_display"], r["source_unit"], r["ucum"]
            )
            for r in csv.DictReader(fh)
        }


@dataclass(frozen=True)
class MimicCounts:
    """Row counts the conversion must reproduce (acceptance: one resource per counted row)."""

    patients: int
    admissions: int
    labevents: int  # all rows
    mapped_labevents: int  # rows that become an Observation (is_mapped_lab)
    loinc_labevents: int  # mapped rows that also carry a LOINC coding


def is_mapped_lab(itemid: str, value: str, valuenum: str, known_items: Iterable[str] | set[str]) -> bool:
    """A labevents row is *mapped* (becomes exactly one Observation) when its itemid is defined in
    d_labitems and it carries a result: a numeric ``valuenum``, or a non-empty ``value`` that is not
    the de-identification mask ``___``. Rows without a result (cancelled or pending tests) are not."""
    if itemid not in known_items:
        return False
    if _NUMBER.match(valuenum.strip()):
        return True
    text = value.strip()
    return bool(text) and not DEID_MASK.match(text)


def _carries_loinc(itemid: str, valueuom: str) -> bool:
    m = lab_mapping().get(itemid)
    return m is not None and m.source_unit == valueuom.strip()


# ---------------------------------------------------------------------------------------------- I/O


def _read(root: Path, table: str, columns: list[str]) -> pd.DataFrame:
    """``root/<table>.csv.gz`` as strings ("" for empty), only ``columns``; clear errors otherwise."""
    path = root / f"{table}.csv.gz"
    if not path.is_file():
        raise MimicFormatError(f"{table}.csv.gz", 0, "file", f"missing: {path} (expected the MIMIC-IV layout)")
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        missing = [c for c in columns if c not in header]
        if missing:
            raise MimicFormatError(str(path), 0, ",".join(missing), "column(s) missing from the header")
        return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=columns, compression="gzip")
    except MimicFormatError:
        raise
    except (OSError, EOFError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise MimicFormatError(str(path), 0, "file", f"cannot read: {exc}") from None


def _records(frame: pd.DataFrame) -> list[dict[str, str]]:
    return cast(list[dict[str, str]], frame.to_dict("records"))


class _Table:
    """A table grouped by subject_id, keeping row numbers for error messages."""

    def __init__(self, root: Path, table: str, columns: list[str]) -> None:
        self.file = f"{table}.csv.gz"
        self.frame = _read(root, table, ["subject_id", *columns] if "subject_id" not in columns else columns)
        self.groups = cast(dict[str, Any], self.frame.groupby("subject_id", sort=False).indices)

    def rows(self, subject: str) -> list[tuple[int, dict[str, str]]]:
        idx = self.groups.get(subject)
        if idx is None:
            return []
        part = self.frame.iloc[idx]
        return [(int(i) + 1, r) for i, r in zip(idx, _records(part), strict=True)]


def _dictionary(root: Path, table: str) -> dict[tuple[str, str], str]:
    frame = _read(root, table, ["icd_code", "icd_version", "long_title"])
    return {
        (c.strip(), v.strip()): t
        for c, v, t in zip(frame["icd_code"], frame["icd_version"], frame["long_title"], strict=True)
    }


def mimic_counts(root: Path) -> MimicCounts:
    """Count patients, admissions and (mapped) labevents rows straight from the CSV files."""
    hosp = root / "hosp"
    items = set(_read(hosp, "d_labitems", ["itemid"])["itemid"].str.strip())
    labs = _read(hosp, "labevents", ["itemid", "value", "valuenum", "valueuom"])
    mapped = loinc = 0
    for itemid, value, valuenum, uom in zip(
        labs["itemid"], labs["value"], labs["valuenum"], labs["valueuom"], strict=True
    ):
        if is_mapped_lab(itemid.strip(), value, valuenum, items):
            mapped += 1
            loinc += _carries_loinc(itemid.strip(), uom)
    return MimicCounts(
        patients=len(_read(hosp, "patients", ["subject_id"])),
        admissions=len(_read(hosp, "admissions", ["hadm_id"])),
        labevents=len(labs),
        mapped_labevents=mapped,
        loinc_labevents=loinc,
    )


# ------------------------------------------------------------------------------------- pure converters


def _dt(text: str, file: str, row: int, field: str, required: bool = False) -> str | None:
    """MIMIC ``YYYY-MM-DD[ HH:MM:SS]`` → FHIR dateTime (UTC) or date."""
    text = text.strip()
    if not text:
        if required:
            raise MimicFormatError(file, row, field, "missing date/time")
        return None
    m = _DATETIME.match(text)
    if not m:
        raise MimicFormatError(file, row, field, f"invalid date/time {text!r} (expected YYYY-MM-DD HH:MM:SS)")
    day, time = m.groups()
    try:
        pd.Timestamp(f"{day} {time or '00:00:00'}")
    except ValueError:
        raise MimicFormatError(file, row, field, f"invalid date/time {text!r}") from None
    return f"{day}T{time}Z" if time else day


def _id(text: str, file: str, row: int, field: str) -> str:
    text = text.strip()
    if not text.isdigit():
        raise MimicFormatError(file, row, field, f"expected a numeric id, got {text!r}")
    return text


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER.match(text) else None


def _quantity(value: float, unit_text: str, ucum: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    code = ucum or UCUM_UNITS.get(unit_text.strip())
    if code:
        q.update(unit=code if ucum else unit_text.strip(), system=UCUM, code=code)
    elif unit_text.strip():
        q["unit"] = unit_text.strip()
    return q


def icd_code(code: str, version: str, procedure: bool = False) -> tuple[str, str]:
    """MIMIC ICD code (no dots) → (FHIR system, code in its usual dotted form)."""
    code = code.strip().upper()
    if version == "10":
        if procedure:
            return ICD10PCS, code  # ICD-10-PCS codes have no dot
        return ICD10CM, code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"
    if procedure:  # ICD-9-CM volume 3: NN.NN
        return ICD9CM, code if len(code) <= 2 else f"{code[:2]}.{code[2:]}"
    split = 4 if code.startswith("E") else 3  # ICD-9-CM E codes: E000.0; others 000.00 / V00.00
    return ICD9CM, code if len(code) <= split else f"{code[:split]}.{code[split:]}"


def patient_resource(row: dict[str, str], race: str, row_no: int = 1) -> dict[str, Any]:
    """patients row (+ race text of an admission) → Patient. birthDate is the approximate year."""
    f = "patients.csv.gz"
    sid = _id(row["subject_id"], f, row_no, "subject_id")
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": f"mimic-p-{sid}",
        "meta": {"source": SOURCE},
        "identifier": [{"system": MIMIC_SUBJECT, "value": sid}],
        "gender": {"M": "male", "F": "female"}.get(row["gender"].strip().upper(), "unknown"),
    }
    age, year = row["anchor_age"].strip(), row["anchor_year"].strip()
    if age.isdigit() and year.isdigit():
        # MIMIC gives the age in the (shifted) anchor year only: birth year ≈ anchor_year − anchor_age.
        patient["birthDate"] = f"{int(year) - int(age):04d}"
    elif age or year:
        raise MimicFormatError(f, row_no, "anchor_age", f"expected whole numbers, got {age!r}, {year!r}")
    dod = _dt(row.get("dod", ""), f, row_no, "dod")
    if dod:
        patient["deceasedDateTime"] = dod
    if race.strip():
        patient["extension"] = [{"url": US_CORE_RACE, "extension": [{"url": "text", "valueString": race.strip()}]}]
    return patient


def encounter_resource(
    row: dict[str, str], transfers: list[tuple[int, dict[str, str]]], row_no: int = 1
) -> dict[str, Any]:
    """admissions row + its transfers rows → Encounter with the care-unit location history."""
    f = "admissions.csv.gz"
    hadm = _id(row["hadm_id"], f, row_no, "hadm_id")
    sid = _id(row["subject_id"], f, row_no, "subject_id")
    kind = row["admission_type"].strip()
    cls = ENCOUNTER_OBSERVATION if "OBSERVATION" in kind.upper() else ENCOUNTER_INPATIENT
    period = {"start": _dt(row["admittime"], f, row_no, "admittime", required=True)}
    end = _dt(row["dischtime"], f, row_no, "dischtime")
    if end:
        period["end"] = end
    enc: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": f"mimic-enc-{hadm}",
        "meta": {"source": SOURCE},
        "identifier": [{"system": MIMIC_HADM, "value": hadm}],
        "status": "finished" if end else "unknown",
        "class": coding(ACT_CODE, cls, "observation encounter" if cls == ENCOUNTER_OBSERVATION else "inpatient"),
        "subject": {"reference": f"Patient/mimic-p-{sid}"},
        "period": period,
    }
    if kind:
        enc["type"] = [{"text": kind}]
    hosp: dict[str, Any] = {}
    if row["admission_location"].strip():
        hosp["admitSource"] = {"text": row["admission_location"].strip()}
    if row["discharge_location"].strip():
        hosp["dischargeDisposition"] = {"text": row["discharge_location"].strip()}
    if hosp:
        enc["hospitalization"] = hosp
    locations: list[tuple[str, dict[str, Any]]] = []
    for t_no, t in transfers:
        unit = t["careunit"].strip()
        if t["eventtype"].strip().lower() == "discharge" or not unit:
            continue
        start = _dt(t["intime"], "transfers.csv.gz", t_no, "intime", required=True) or ""
        t_period = {"start": start}
        t_end = _dt(t["outtime"], "transfers.csv.gz", t_no, "outtime")
        if t_end:
            t_period["end"] = t_end
        locations.append(
            (
                start,
                {
                    "location": {"display": unit},
                    "status": "completed" if t_end else "active",
                    "physicalType": {"coding": [coding(PHYSICAL_TYPE, "wa", "Ward")]},
                    "period": t_period,
                },
            )
        )
    if locations:
        enc["location"] = [entry for _, entry in sorted(locations, key=lambda x: x[0])]
    return enc


def condition_resource(row: dict[str, str], titles: dict[tuple[str, str], str], row_no: int = 1) -> dict[str, Any]:
    """diagnoses_icd row → Condition (encounter-diagnosis) coded in ICD-9-CM or ICD-10-CM."""
    f = "diagnoses_icd.csv.gz"
    sid, hadm = _id(row["subject_id"], f, row_no, "subject_id"), _id(row["hadm_id"], f, row_no, "hadm_id")
    seq, version, raw = row["seq_num"].strip(), row["icd_version"].strip(), row["icd_code"].strip()
    if not seq.isdigit():
        raise MimicFormatError(f, row_no, "seq_num", f"expected a number, got {seq!r}")
    if version not in ("9", "10") or not raw:
        raise MimicFormatError(f, row_no, "icd_version", f"expected ICD version 9 or 10 and a code, got {version!r}")
    system, code = icd_code(raw, version)
    title = titles.get((raw, version))
    return {
        "resourceType": "Condition",
        "id": f"mimic-cond-{hadm}-{seq}",
        "meta": {"source": SOURCE},
        "category": [{"coding": [coding(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")]}],
        "code": {"coding": [coding(system, code, title)], "text": title or code},
        "subject": {"reference": f"Patient/mimic-p-{sid}"},
        "encounter": {"reference": f"Encounter/mimic-enc-{hadm}"},
    }


def procedure_resource(row: dict[str, str], titles: dict[tuple[str, str], str], row_no: int = 1) -> dict[str, Any]:
    """procedures_icd row → Procedure coded in ICD-9-CM (vol. 3) or ICD-10-PCS."""
    f = "procedures_icd.csv.gz"
    sid, hadm = _id(row["subject_id"], f, row_no, "subject_id"), _id(row["hadm_id"], f, row_no, "hadm_id")
    seq, version, raw = row["seq_num"].strip(), row["icd_version"].strip(), row["icd_code"].strip()
    if not seq.isdigit():
        raise MimicFormatError(f, row_no, "seq_num", f"expected a number, got {seq!r}")
    if version not in ("9", "10") or not raw:
        raise MimicFormatError(f, row_no, "icd_version", f"expected ICD version 9 or 10 and a code, got {version!r}")
    system, code = icd_code(raw, version, procedure=True)
    title = titles.get((raw, version))
    proc: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": f"mimic-proc-{hadm}-{seq}",
        "meta": {"source": SOURCE},
        "status": "completed",
        "code": {"coding": [coding(system, code, title)], "text": title or code},
        "subject": {"reference": f"Patient/mimic-p-{sid}"},
        "encounter": {"reference": f"Encounter/mimic-enc-{hadm}"},
    }
    when = _dt(row["chartdate"], f, row_no, "chartdate")
    if when:
        proc["performedDateTime"] = when
    return proc


def medication_request(row: dict[str, str], encounters: set[str], row_no: int = 1) -> dict[str, Any]:
    """prescriptions row → MedicationRequest (drug text, NDC coding when present; no RxNorm in MIMIC)."""
    f = "prescriptions.csv.gz"
    sid = _id(row["subject_id"], f, row_no, "subject_id")
    drug = row["drug"].strip()
    if not drug:
        raise MimicFormatError(f, row_no, "drug", "missing drug name")
    key = f"{row['pharmacy_id'].strip()}|{drug}|{row['starttime'].strip()}"
    pharmacy = row["pharmacy_id"].strip()
    suffix = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10]
    med: dict[str, Any] = {"text": drug}
    ndc = row["ndc"].strip()
    if ndc and ndc.strip("0"):
        med["coding"] = [coding(NDC, ndc)]
    start = _dt(row["starttime"], f, row_no, "starttime")
    stop = _dt(row["stoptime"], f, row_no, "stoptime")
    req: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"mimic-rx-{pharmacy if pharmacy.isdigit() else 'x'}-{suffix}",
        "meta": {"source": SOURCE},
        "status": "completed" if stop else "unknown",
        "intent": "order",
        "medicationCodeableConcept": med,
        "subject": {"reference": f"Patient/mimic-p-{sid}"},
    }
    hadm = row["hadm_id"].strip()
    if hadm in encounters:
        req["encounter"] = {"reference": f"Encounter/mimic-enc-{hadm}"}
    if start:
        req["authoredOn"] = start
    dose_text, unit, route = row["dose_val_rx"].strip(), row["dose_unit_rx"].strip(), row["route"].strip()
    dosage: dict[str, Any] = {}
    text = " ".join(p for p in (dose_text, unit, route) if p)
    if text:
        dosage["text"] = text
    if route:
        dosage["route"] = {"text": route}
    dose = _float(dose_text)
    if dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": _quantity(dose, unit)}]
    if dosage:
        req["dosageInstruction"] = [dosage]
    if start or stop:
        period = {k: v for k, v in (("start", start), ("end", stop)) if v}
        req["dispenseRequest"] = {"validityPeriod": period}
    return req


def lab_observation(row: dict[str, str], item: dict[str, str], encounters: set[str], row_no: int = 1) -> dict[str, Any]:
    """A mapped labevents row (see :func:`is_mapped_lab`) + its d_labitems row → Observation."""
    f = "labevents.csv.gz"
    lab_id = _id(row["labevent_id"], f, row_no, "labevent_id")
    sid = _id(row["subject_id"], f, row_no, "subject_id")
    itemid = row["itemid"].strip()
    label = item.get("label", "").strip() or f"MIMIC lab item {itemid}"
    fluid = item.get("fluid", "").strip()
    uom = row["valueuom"].strip()
    mapping = lab_mapping().get(itemid)
    loinc = mapping is not None and mapping.source_unit == uom
    codings = [coding(MIMIC_LABITEM, itemid, label)]
    if loinc and mapping is not None:
        codings.insert(0, coding(LOINC, mapping.loinc, mapping.display))
    ucum = mapping.ucum if loinc and mapping is not None else None
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"mimic-lab-{lab_id}",
        "meta": {"source": SOURCE},
        "status": "final",
        "category": [{"coding": [coding(OBSERVATION_CATEGORY, "laboratory", "Laboratory")]}],
        "code": {"coding": codings, "text": f"{label} ({fluid})" if fluid else label},
        "subject": {"reference": f"Patient/mimic-p-{sid}"},
        "effectiveDateTime": _dt(row["charttime"], f, row_no, "charttime", required=True),
    }
    hadm = row["hadm_id"].strip()
    if hadm in encounters:
        obs["encounter"] = {"reference": f"Encounter/mimic-enc-{hadm}"}
    issued = _dt(row["storetime"], f, row_no, "storetime")
    if issued and "T" in issued:
        obs["issued"] = issued
    number = _float(row["valuenum"])
    if number is not None:
        obs["valueQuantity"] = _quantity(number, uom, ucum)
        low, high = _float(row["ref_range_lower"]), _float(row["ref_range_upper"])
        if low is not None or high is not None:
            rng: dict[str, Any] = {}
            if low is not None:
                rng["low"] = _quantity(low, uom, ucum)
            if high is not None:
                rng["high"] = _quantity(high, uom, ucum)
            obs["referenceRange"] = [rng]
    else:
        text = row["value"].strip()
        if not text or DEID_MASK.match(text):
            raise MimicFormatError(f, row_no, "value", "no result (value and valuenum empty): not a mapped row")
        obs["valueString"] = text
    if row["flag"].strip().lower() == "abnormal":
        obs["interpretation"] = [{"coding": [coding(INTERPRETATION, "A", "Abnormal")]}]
    comment = row["comments"].strip()
    if comment and not DEID_MASK.match(comment):
        obs["note"] = [{"text": comment}]
    return obs


# ------------------------------------------------------------------------------------------- bundles

_LAB_COLUMNS = [
    "labevent_id",
    "subject_id",
    "hadm_id",
    "itemid",
    "charttime",
    "storetime",
    "value",
    "valuenum",
    "valueuom",
    "ref_range_lower",
    "ref_range_upper",
    "flag",
    "comments",
]
_RX_COLUMNS = [
    "subject_id",
    "hadm_id",
    "pharmacy_id",
    "starttime",
    "stoptime",
    "drug",
    "ndc",
    "dose_val_rx",
    "dose_unit_rx",
    "route",
]


def mimic_bundles(root: Path, subject_ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
    """One FHIR ``collection`` Bundle per patient of the MIMIC-IV tree at ``root`` (``hosp/`` inside).

    The tables are read once (as compact string columns); bundles are built and yielded one patient
    at a time, so only one patient's resources exist at once. ``subject_ids`` limits the patients.
    Raises :class:`MimicFormatError` (a ``ValueError``) naming file, row and field on bad input.
    """
    hosp = root / "hosp"
    patients = _read(hosp, "patients", ["subject_id", "gender", "anchor_age", "anchor_year", "dod"])
    admissions = _Table(
        hosp,
        "admissions",
        [
            "subject_id",
            "hadm_id",
            "admittime",
            "dischtime",
            "admission_type",
            "admission_location",
            "discharge_location",
            "race",
        ],
    )
    transfers = _Table(hosp, "transfers", ["subject_id", "hadm_id", "eventtype", "careunit", "intime", "outtime"])
    diagnoses = _Table(hosp, "diagnoses_icd", ["subject_id", "hadm_id", "seq_num", "icd_code", "icd_version"])
    procedures = _Table(
        hosp, "procedures_icd", ["subject_id", "hadm_id", "seq_num", "chartdate", "icd_code", "icd_version"]
    )
    prescriptions = _Table(hosp, "prescriptions", _RX_COLUMNS)
    labs = _Table(hosp, "labevents", _LAB_COLUMNS)
    items_frame = _read(hosp, "d_labitems", ["itemid", "label", "fluid"])
    items = {r["itemid"].strip(): r for r in _records(items_frame)}
    dx_titles, proc_titles = _dictionary(hosp, "d_icd_diagnoses"), _dictionary(hosp, "d_icd_procedures")
    wanted = {s.strip() for s in subject_ids} if subject_ids is not None else None

    rows = sorted(_records(patients), key=lambda r: r["subject_id"].strip().zfill(12))
    for p_no, prow in enumerate(rows, start=1):
        sid = _id(prow["subject_id"], "patients.csv.gz", p_no, "subject_id")
        if wanted is not None and sid not in wanted:
            continue
        adm_rows = sorted(admissions.rows(sid), key=lambda x: x[1]["admittime"])
        race = adm_rows[-1][1]["race"] if adm_rows else ""
        resources: list[dict[str, Any]] = [patient_resource(prow, race, p_no)]
        by_hadm: dict[str, list[tuple[int, dict[str, str]]]] = {}
        for t_no, t in transfers.rows(sid):
            by_hadm.setdefault(t["hadm_id"].strip(), []).append((t_no, t))
        encounters: dict[str, dict[str, Any]] = {}
        for a_no, a in adm_rows:
            enc = encounter_resource(a, by_hadm.get(a["hadm_id"].strip(), []), a_no)
            encounters[a["hadm_id"].strip()] = enc
        resources.extend(encounters.values())
        known = set(encounters)
        for d_no, d in sorted(diagnoses.rows(sid), key=lambda x: (x[1]["hadm_id"], x[1]["seq_num"].zfill(6))):
            if d["hadm_id"].strip() not in known:
                raise MimicFormatError("diagnoses_icd.csv.gz", d_no, "hadm_id", "no such admission for this patient")
            cond = condition_resource(d, dx_titles, d_no)
            resources.append(cond)
            encounters[d["hadm_id"].strip()].setdefault("diagnosis", []).append(
                {"condition": {"reference": f"Condition/{cond['id']}"}, "rank": int(d["seq_num"])}
            )
        for r_no, r in procedures.rows(sid):
            if r["hadm_id"].strip() not in known:
                raise MimicFormatError("procedures_icd.csv.gz", r_no, "hadm_id", "no such admission for this patient")
            resources.append(procedure_resource(r, proc_titles, r_no))
        seen: set[str] = set()
        for m_no, m in prescriptions.rows(sid):
            req = medication_request(m, known, m_no)
            if req["id"] in seen:  # exact duplicate order rows collapse into one resource
                continue
            seen.add(req["id"])
            resources.append(req)
        for l_no, lab in labs.rows(sid):
            itemid = lab["itemid"].strip()
            if is_mapped_lab(itemid, lab["value"], lab["valuenum"], items):
                resources.append(lab_observation(lab, items[itemid], known, l_no))
        yield {
            "resourceType": "Bundle",
            "id": f"mimic-bundle-{sid}",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
