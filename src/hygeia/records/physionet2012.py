"""PhysioNet/CinC Challenge 2012 ICU stay files → FHIR R4 resources (plain JSON dicts).

A stay file (``set-a/<RecordID>.txt``) is ``Time,Parameter,Value`` lines: ``Time`` is ``HH:MM``
since ICU admission (up to 48 h), ``-1`` means missing. The general descriptors (RecordID, Age,
Gender, Height, ICUType, Weight) come first at ``00:00``; the other 37 variables are time series.

Source of the variables and their units: "Predicting Mortality of ICU Patients: the
PhysioNet/Computing in Cardiology Challenge 2012", https://physionet.org/content/challenge-2012/
(Silva et al., Comput Cardiol 2012;39:245-248). LOINC codes from loinc.org; UCUM units from
unitsofmeasure.org. Mapping table and choices: docs/ingestion-sources.md.

Choices (documented there too):
* the files carry no dates: times become ``anchor + Time`` with ``DEFAULT_ANCHOR`` (2000-01-01
  00:00 UTC) unless another anchor is given — the dates are not real;
* the Patient has no birthDate (unknown); the age (years, top-coded at 90) is an Observation
  (LOINC 30525-0) at admission;
* a value outside the variable's plausibility range (``Variable.plausible``, in the stored unit)
  is kept as an Observation without a value, ``dataAbsentReason`` = ``error`` and the raw value in
  a note, so that no impossible value (e.g. Temp 0 °C, pH 735) reaches a score.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hygeia.records.codes import (
    ACT_CODE,
    ENCOUNTER_INPATIENT,
    LOINC,
    OBSERVATION_CATEGORY,
    PHYSIONET2012,
    SNOMED,
    UCUM,
    coding,
)

DEFAULT_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
SOURCE = "PhysioNet/CinC Challenge 2012 (https://physionet.org/content/challenge-2012/)"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# SNOMED CT methods telling invasive from non-invasive arterial pressure (HL7 Vital Signs IG bpMeasMethodVS).
INVASIVE = coding(SNOMED, "77938009", "Arterial pressure monitoring, invasive method")
NON_INVASIVE = coding(SNOMED, "17146006", "Arterial pressure monitoring, non-invasive method")
AGE_LOINC = "30525-0"  # Age (not in hygeia.records.codes)
ICU_TYPES = {1: "Coronary Care Unit", 2: "Cardiac Surgery Recovery Unit", 3: "Medical ICU", 4: "Surgical ICU"}
DESCRIPTORS = ("RecordID", "Age", "Gender", "Height", "ICUType")


class StayFormatError(ValueError):
    """A malformed stay file: names the file, the line number and the field."""

    def __init__(self, file: str, line: int, field: str, reason: str) -> None:
        super().__init__(f"{file}, line {line}, field {field}: {reason}")
        self.file, self.line, self.field, self.reason = file, line, field, reason


@dataclass(frozen=True)
class Variable:
    """One challenge variable: how it is coded and in which unit it is stored."""

    name: str  # the challenge's Parameter name
    loinc: str | None  # None: no LOINC code (only the local PHYSIONET2012 code)
    display: str
    source_unit: str  # the unit the challenge's description gives
    ucum: str  # the stored UCUM unit ("" for a boolean)
    category: str  # observation-category code
    plausible: tuple[float, float]  # inclusive, in the stored unit
    factor: float = 1.0  # stored = source × factor
    method: dict[str, str] | None = None
    boolean: bool = False


def _v(
    name: str,
    loinc: str | None,
    display: str,
    src: str,
    ucum: str,
    cat: str,
    lo: float,
    hi: float,
    factor: float = 1.0,
    method: dict[str, str] | None = None,
    boolean: bool = False,
) -> Variable:
    return Variable(name, loinc, display, src, ucum, cat, (lo, hi), factor, method, boolean)


LAB, VITAL = "laboratory", "vital-signs"
# Units: the challenge's variable list. Plausibility ranges: Hygeia's, wide (beyond them a value is
# incompatible with life or a unit/entry error); zeros of HR/BP/RespRate are kept as recorded.
VARIABLES: tuple[Variable, ...] = (
    _v("Age", AGE_LOINC, "Age", "years", "a", "", 0, 120),
    _v("Height", "8302-2", "Body height", "cm", "cm", VITAL, 30, 250),
    _v("Weight", "29463-7", "Body weight", "kg", "kg", VITAL, 1, 500),
    _v("Albumin", "1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", "g/dL", LAB, 0.2, 10),
    _v(
        "ALP",
        "6768-6",
        "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
        "IU/L",
        "U/L",
        LAB,
        0,
        20000,
    ),
    _v(
        "ALT",
        "1742-6",
        "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "IU/L",
        "U/L",
        LAB,
        0,
        50000,
    ),
    _v(
        "AST",
        "1920-8",
        "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "IU/L",
        "U/L",
        LAB,
        0,
        50000,
    ),
    _v(
        "Bilirubin",
        "1975-2",
        "Bilirubin.total [Mass/volume] in Serum or Plasma",
        "mg/dL",
        "mg/dL",
        LAB,
        0,
        100,
    ),
    _v("BUN", "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", LAB, 0, 400),
    _v(
        "Cholesterol",
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        "mg/dL",
        "mg/dL",
        LAB,
        0,
        2000,
    ),
    _v("Creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", LAB, 0, 40),
    _v(
        "DiasABP",
        "76213-8",
        "Invasive Diastolic blood pressure",
        "mmHg",
        "mm[Hg]",
        VITAL,
        0,
        300,
        method=INVASIVE,
    ),
    _v("FiO2", "3150-0", "Inhaled oxygen concentration", "fraction 0-1", "%", VITAL, 10, 100, factor=100.0),
    _v("GCS", "9269-2", "Glasgow coma score total", "score 3-15", "{score}", "survey", 3, 15),
    _v("Glucose", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", LAB, 1, 3000),
    _v("HCO3", "1963-8", "Bicarbonate [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", LAB, 1, 70),
    _v("HCT", "4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", "%", LAB, 5, 80),
    _v("HR", "8867-4", "Heart rate", "bpm", "/min", VITAL, 0, 350),
    _v("K", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mEq/L", "mmol/L", LAB, 1, 15),
    _v("Lactate", "2524-7", "Lactate [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", LAB, 0, 40),
    # The challenge's description says mmol/L, but the values (median 2.0, as MIMIC-II reports
    # magnesium) are mg/dL: 2.0 mmol/L would be severe hypermagnesaemia in half the cohort. Stored as
    # mg/dL under LOINC 19123-9 (Magnesium [Mass/volume]); see docs/ingestion-sources.md.
    _v(
        "Mg",
        "19123-9",
        "Magnesium [Mass/volume] in Serum or Plasma",
        "mmol/L (stated; values are mg/dL)",
        "mg/dL",
        LAB,
        0.1,
        20,
    ),
    _v("MAP", "76214-6", "Invasive Mean blood pressure", "mmHg", "mm[Hg]", VITAL, 0, 300, method=INVASIVE),
    # No LOINC code for "on mechanical ventilation (yes/no)" could be verified: local code only.
    _v("MechVent", None, "Mechanical ventilation", "0: false, 1: true", "", "procedure", 0, 1, boolean=True),
    _v("Na", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mEq/L", "mmol/L", LAB, 80, 220),
    _v(
        "NIDiasABP",
        "8462-4",
        "Diastolic blood pressure",
        "mmHg",
        "mm[Hg]",
        VITAL,
        0,
        300,
        method=NON_INVASIVE,
    ),
    _v("NIMAP", "8478-0", "Mean blood pressure", "mmHg", "mm[Hg]", VITAL, 0, 300, method=NON_INVASIVE),
    _v("NISysABP", "8480-6", "Systolic blood pressure", "mmHg", "mm[Hg]", VITAL, 0, 350, method=NON_INVASIVE),
    _v(
        "PaCO2",
        "2019-8",
        "Carbon dioxide [Partial pressure] in Arterial blood",
        "mmHg",
        "mm[Hg]",
        LAB,
        5,
        250,
    ),
    _v("PaO2", "2703-7", "Oxygen [Partial pressure] in Arterial blood", "mmHg", "mm[Hg]", LAB, 10, 800),
    _v("pH", "2744-1", "pH of Arterial blood", "pH 0-14", "[pH]", LAB, 6.3, 8.0),
    _v(
        "Platelets",
        "777-3",
        "Platelets [#/volume] in Blood by Automated count",
        "cells/nL",
        "10*3/uL",
        LAB,
        0,
        3000,
    ),
    _v("RespRate", "9279-1", "Respiratory rate", "bpm", "/min", VITAL, 0, 120),
    _v("SaO2", "2708-6", "Oxygen saturation in Arterial blood", "%", "%", LAB, 10, 100),
    _v(
        "SysABP",
        "76215-3",
        "Invasive Systolic blood pressure",
        "mmHg",
        "mm[Hg]",
        VITAL,
        0,
        350,
        method=INVASIVE,
    ),
    _v("Temp", "8310-5", "Body temperature", "°C", "Cel", VITAL, 20, 45),
    _v(
        "TroponinI",
        "10839-9",
        "Troponin I.cardiac [Mass/volume] in Serum or Plasma",
        "μg/L",
        "ug/L",
        LAB,
        0,
        1000,
    ),
    _v(
        "TroponinT",
        "6598-7",
        "Troponin T.cardiac [Mass/volume] in Serum or Plasma",
        "μg/L",
        "ug/L",
        LAB,
        0,
        1000,
    ),
    _v("Urine", "9187-6", "Urine output", "mL", "mL", "exam", 0, 20000),
    _v(
        "WBC",
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        "cells/nL",
        "10*3/uL",
        LAB,
        0,
        1000,
    ),
)
VARIABLE_BY_NAME = {v.name: v for v in VARIABLES}
TIME_RE = re.compile(r"^(\d{1,3}):([0-5]\d)$")


def _fhir_time(anchor: datetime, minutes: int) -> str:
    return (anchor + timedelta(minutes=minutes)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(text: str, file: str, line: int, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise StayFormatError(file, line, field, f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise StayFormatError(file, line, field, f"not a finite number: {text!r}")
    return value


def _observation(var: Variable, raw: float, obs_id: str, when: str, patient: str, encounter: str) -> dict[str, Any]:
    codings = [coding(PHYSIONET2012, var.name, var.display)]
    if var.loinc:
        codings.insert(0, coding(LOINC, var.loinc, var.display))
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": codings, "text": var.display},
        "subject": {"reference": patient},
        "encounter": {"reference": encounter},
        "effectiveDateTime": when,
    }
    if var.category:
        obs["category"] = [{"coding": [coding(OBSERVATION_CATEGORY, var.category)]}]
    if var.method:
        obs["method"] = {"coding": [var.method], "text": var.method["display"]}
    value = raw * var.factor
    lo, hi = var.plausible
    if not lo <= value <= hi or (var.boolean and value not in (0.0, 1.0)):
        obs["dataAbsentReason"] = {"coding": [coding(DATA_ABSENT, "error", "Error")]}
        obs["note"] = [
            {
                "text": f"Implausible source value {raw:g} {var.source_unit} (accepted range "
                f"{lo:g}-{hi:g} {var.ucum or 'boolean'}); not stored as a value. Source: {SOURCE}"
            }
        ]
    elif var.boolean:
        obs["valueBoolean"] = value == 1.0
    else:
        obs["valueQuantity"] = {"value": round(value, 6), "unit": var.ucum, "system": UCUM, "code": var.ucum}
    return obs


def stay_bundle(path: Path, anchor: datetime = DEFAULT_ANCHOR) -> dict[str, Any]:
    """One stay file → a FHIR ``collection`` Bundle (Patient, Encounter, Observations).

    Raises :class:`StayFormatError` (a ``ValueError``) naming file, line and field on bad input.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StayFormatError(name, 0, "file", f"cannot read: {exc}") from None
    lines = text.splitlines()
    if not lines or lines[0].strip().replace(" ", "") != "Time,Parameter,Value":
        raise StayFormatError(name, 1, "header", "expected 'Time,Parameter,Value'")
    rows: list[tuple[int, int, str, float]] = []  # line, minutes, parameter, value
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            raise StayFormatError(name, number, "line", f"expected 3 comma-separated fields, got {len(parts)}")
        time_text, parameter, value_text = parts
        match = TIME_RE.match(time_text)
        if not match:
            raise StayFormatError(name, number, "Time", f"expected HH:MM, got {time_text!r}")
        minutes = int(match.group(1)) * 60 + int(match.group(2))
        if parameter not in VARIABLE_BY_NAME and parameter not in DESCRIPTORS:
            raise StayFormatError(name, number, "Parameter", f"unknown variable {parameter!r}")
        rows.append((number, minutes, parameter, _number(value_text, name, number, "Value")))

    record_id = path.stem
    descriptors: dict[str, float] = {}
    for number, _, parameter, value in rows:
        if parameter == "RecordID":
            if value != int(value) or value < 0:
                raise StayFormatError(name, number, "Value", f"RecordID must be a whole number, got {value:g}")
            record_id = str(int(value))
        elif parameter in ("Gender", "ICUType") and value != -1:
            descriptors[parameter] = value
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,50}", record_id):
        raise StayFormatError(name, 0, "RecordID", f"cannot make a FHIR id from {record_id!r}")

    patient_id, encounter_id = f"p2012-p-{record_id}", f"p2012-enc-{record_id}"
    patient_ref, encounter_ref = f"Patient/{patient_id}", f"Encounter/{encounter_id}"
    gender = {0.0: "female", 1.0: "male"}.get(descriptors.get("Gender", -1.0), "unknown")
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": f"{PHYSIONET2012}/record-id", "value": record_id}],
        "gender": gender,
        "meta": {"source": SOURCE},
    }
    icu = descriptors.get("ICUType")
    icu_name = ICU_TYPES.get(int(icu)) if icu is not None and icu == int(icu) else None
    if icu is not None and icu_name is None:
        line_no = next(n for n, _, p, _ in rows if p == "ICUType")
        raise StayFormatError(name, line_no, "Value", f"ICUType must be 1-4, got {icu:g}")
    last = max((m for _, m, _, _ in rows), default=0)
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished",
        "class": coding(ACT_CODE, ENCOUNTER_INPATIENT, "inpatient encounter"),
        "type": [{"text": f"ICU stay ({icu_name or 'ICU type unknown'})"}],
        "subject": {"reference": patient_ref},
        # The files cover the first 48 h of the stay only: the end of the record, not discharge.
        "period": {"start": _fhir_time(anchor, 0)},
        "location": [
            {
                "location": {"display": icu_name or "ICU (type unknown)"},
                "status": "completed",
                "period": {"start": _fhir_time(anchor, 0), "end": _fhir_time(anchor, last)},
            }
        ],
        "meta": {"source": SOURCE},
    }
    entries: list[dict[str, Any]] = [patient, encounter]
    for number, minutes, parameter, value in rows:
        if parameter in DESCRIPTORS and parameter != "Age" and parameter != "Height":
            continue
        if value == -1:  # the challenge's marker for "missing"
            continue
        var = VARIABLE_BY_NAME[parameter]
        obs_id = f"p2012-obs-{record_id}-{number}"
        entries.append(_observation(var, value, obs_id, _fhir_time(anchor, minutes), patient_ref, encounter_ref))
    return {
        "resourceType": "Bundle",
        "id": f"p2012-bundle-{record_id}",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }


def stay_bundles(
    directory: Path, limit: int | None = None, anchor: datetime = DEFAULT_ANCHOR
) -> Iterator[dict[str, Any]]:
    """The ``*.txt`` stay files in ``directory``, sorted by name (first ``limit``), one Bundle at a time."""
    if not directory.is_dir():
        raise StayFormatError(str(directory), 0, "directory", "not a directory")
    files = sorted(p for p in directory.glob("*.txt") if p.is_file())
    for path in files[:limit] if limit is not None else files:
        yield stay_bundle(path, anchor)
