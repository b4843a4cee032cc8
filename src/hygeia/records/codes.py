"""Code systems and the codes Hygeia reads and writes, in one place.

Sources: LOINC (loinc.org, Regenstrief), SNOMED CT (International and UK editions), RxNorm (NLM),
ICD-10-CM/ICD-9-CM (CDC/CMS), UCUM (unitsofmeasure.org), HL7 FHIR R4 terminology.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OMB_RACE_ETHNICITY = "urn:oid:2.16.840.1.113883.6.238"
US_CORE_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
US_CORE_ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
US_CORE_BIRTHSEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
# Hygeia's own code system for local codes that have no standard equivalent (e.g. MIMIC itemids).
HYGEIA_LOCAL = "https://hygeia.example.org/fhir/CodeSystem/local"
MIMIC_LABITEM = "https://hygeia.example.org/fhir/CodeSystem/mimic-iv-labitem"
PHYSIONET2012 = "https://hygeia.example.org/fhir/CodeSystem/physionet-2012-variable"

# Encounter classes (v3 ActCode)
ENCOUNTER_INPATIENT = "IMP"
ENCOUNTER_EMERGENCY = "EMER"
ENCOUNTER_AMBULATORY = "AMB"

# ACVPU consciousness (NEWS2): SNOMED CT UK edition observable, values as the letters.
ACVPU_CODE = "1104441000000107"  # "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score"
ACVPU_VALUES = ("A", "C", "V", "P", "U")
NEWS2_TOTAL_SNOMED = "1104051000000101"  # RCP NEWS2 total score (SNOMED CT UK edition)


@dataclass(frozen=True)
class VitalSign:
    """A canonical vital sign: the LOINC codes that carry it and its canonical UCUM unit."""

    name: str
    codes: tuple[str, ...]  # LOINC codes; the first is what Hygeia writes
    unit: str  # canonical UCUM unit ("" for coded values)
    display: str


# The vitals PatientRecord.vitals() returns. Invasive and non-invasive blood pressures both count.
VITALS: tuple[VitalSign, ...] = (
    VitalSign("heart_rate", ("8867-4",), "/min", "Heart rate"),
    VitalSign("respiratory_rate", ("9279-1",), "/min", "Respiratory rate"),
    VitalSign("spo2", ("59408-5", "2708-6", "59417-6"), "%", "Oxygen saturation (SpO2)"),
    VitalSign("temperature", ("8310-5", "8331-1", "8332-9", "8333-7"), "Cel", "Body temperature"),
    VitalSign("systolic_bp", ("8480-6", "76215-3", "8459-0", "8460-8"), "mm[Hg]", "Systolic blood pressure"),
    VitalSign("diastolic_bp", ("8462-4", "76213-8", "8453-3", "8454-1"), "mm[Hg]", "Diastolic blood pressure"),
    VitalSign("mean_bp", ("8478-0", "76214-6"), "mm[Hg]", "Mean blood pressure"),
    VitalSign("consciousness", (ACVPU_CODE, "67775-7"), "", "Consciousness (ACVPU)"),
    VitalSign("supplemental_oxygen", ("3151-8", "3150-0", "19996-8"), "", "Supplemental oxygen"),
    VitalSign("gcs", ("9269-2",), "{score}", "Glasgow coma score total"),
    VitalSign("weight", ("29463-7", "3141-9"), "kg", "Body weight"),
    VitalSign("height", ("8302-2", "8306-3"), "cm", "Body height"),
)
VITAL_BY_NAME = {v.name: v for v in VITALS}
VITAL_BY_CODE = {code: v for v in VITALS for code in v.codes}
BP_PANEL = "85354-9"  # Blood pressure panel: systolic and diastolic as components
FIO2 = "3150-0"
O2_FLOW = "3151-8"



def to_canonical(value: float, unit: str | None, canonical: str) -> float:
    """Convert ``value`` in ``unit`` to ``canonical``; unknown units pass through unchanged."""
    u = (unit or "").strip()
    if canonical == "Cel" and u in ("[degF]", "degF", "°F", "F"):
        return (value - 32.0) * 5.0 / 9.0
    if canonical == "kg" and u in ("[lb_av]", "lb", "lbs"):
        return value * 0.45359237
    if canonical == "kg" and u == "g":
        return value / 1000.0
    if canonical == "cm" and u in ("[in_i]", "in"):
        return value * 2.54
    if canonical == "cm" and u == "m":
        return value * 100.0
    if canonical == "%" and u in ("1", "{fraction}") and value <= 1.0:
        return value * 100.0
    return value


@dataclass(frozen=True)
class Lab:
    """A laboratory test with its LOINC code and its canonical UCUM unit."""

    name: str
    loinc: str
    unit: str
    display: str


# Common labs, keyed by a short name (used by converters and by risk features).
LABS: tuple[Lab, ...] = (
    Lab("albumin", "1751-7", "g/dL", "Albumin [Mass/volume] in Serum or Plasma"),
    Lab("alp", "6768-6", "U/L", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma"),
    Lab("alt", "1742-6", "U/L", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    Lab("ast", "1920-8", "U/L", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    Lab("bilirubin", "1975-2", "mg/dL", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    Lab("bun", "3094-0", "mg/dL", "Urea nitrogen [Mass/volume] in Serum or Plasma"),
    Lab("cholesterol", "2093-3", "mg/dL", "Cholesterol [Mass/volume] in Serum or Plasma"),
    Lab("creatinine", "2160-0", "mg/dL", "Creatinine [Mass/volume] in Serum or Plasma"),
    Lab("fio2", "3150-0", "%", "Inhaled oxygen concentration"),
    Lab("glucose", "2345-7", "mg/dL", "Glucose [Mass/volume] in Serum or Plasma"),
    Lab("bicarbonate", "1963-8", "mmol/L", "Bicarbonate [Moles/volume] in Serum or Plasma"),
    Lab("hematocrit", "4544-3", "%", "Hematocrit [Volume Fraction] of Blood by Automated count"),
    Lab("hemoglobin", "718-7", "g/dL", "Hemoglobin [Mass/volume] in Blood"),
    Lab("potassium", "2823-3", "mmol/L", "Potassium [Moles/volume] in Serum or Plasma"),
    Lab("lactate", "2524-7", "mmol/L", "Lactate [Moles/volume] in Serum or Plasma"),
    Lab("magnesium", "19123-9", "mg/dL", "Magnesium [Mass/volume] in Serum or Plasma"),
    Lab("sodium", "2951-2", "mmol/L", "Sodium [Moles/volume] in Serum or Plasma"),
    Lab("paco2", "2019-8", "mm[Hg]", "Carbon dioxide [Partial pressure] in Arterial blood"),
    Lab("pao2", "2703-7", "mm[Hg]", "Oxygen [Partial pressure] in Arterial blood"),
    Lab("ph", "2744-1", "[pH]", "pH of Arterial blood"),
    Lab("platelets", "777-3", "10*3/uL", "Platelets [#/volume] in Blood by Automated count"),
    Lab("sao2", "2708-6", "%", "Oxygen saturation in Arterial blood"),
    Lab("troponin_i", "10839-9", "ug/L", "Troponin I.cardiac [Mass/volume] in Serum or Plasma"),
    Lab("troponin_t", "6598-7", "ug/L", "Troponin T.cardiac [Mass/volume] in Serum or Plasma"),
    Lab("wbc", "6690-2", "10*3/uL", "Leukocytes [#/volume] in Blood by Automated count"),
    Lab("chloride", "2075-0", "mmol/L", "Chloride [Moles/volume] in Serum or Plasma"),
    Lab("calcium", "17861-6", "mg/dL", "Calcium [Mass/volume] in Serum or Plasma"),
    Lab("inr", "6301-6", "{INR}", "INR in Platelet poor plasma by Coagulation assay"),
    Lab("crp", "1988-5", "mg/L", "C reactive protein [Mass/volume] in Serum or Plasma"),
    Lab("urine_output", "9187-6", "mL", "Urine output"),
)
LAB_BY_NAME = {lab.name: lab for lab in LABS}
LAB_BY_LOINC = {lab.loinc: lab for lab in LABS}

# Genomics Reporting IG (HL7): observation codes for genotype/phenotype results.
GENOTYPE_LOINC = "84413-4"  # Genotype display name
PHENOTYPE_LOINC = "53040-2"  # Genetic variation's effect on drug metabolism (Genomics Reporting IG)
GENE_STUDIED_LOINC = "48018-6"  # Gene studied [ID]
HGNC = "http://www.genenames.org/geneId"


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A FHIR Coding as a dict."""
    c = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def concept(system: str, code: str, display: str | None = None) -> dict[str, object]:
    """A FHIR CodeableConcept with one coding (and its display as text)."""
    cc: dict[str, object] = {"coding": [coding(system, code, display)]}
    if display:
        cc["text"] = display
    return cc
