"""Task definitions: the contract between data, features, model and the people who use it
(after PyHealth: the task's input/output schema is the contract)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hygeia.records.record import PatientRecord
from hygeia.risk import acute
from hygeia.risk.features import describe, record_features


@dataclass(frozen=True)
class Task:
    """A prediction task: who is in it, when it predicts, from what, and what it predicts."""

    name: str
    title: str
    cohort: str
    index_time: str
    window_hours: float
    outcome: str
    features: str
    audit_attributes: tuple[str, ...]
    intended_use: str
    data: str
    high_risk: float  # probability at or above which the band is "high" (operating point of the audit)
    from_record: bool  # True: features come from a PatientRecord (scorable from the store)
    # features of a live record at its index time (default: the ICU window features of risk.features)
    featurizer: Callable[[PatientRecord], dict[str, float]] | None = None
    describer: Callable[[str, float], str] | None = None
    from_store: bool = False  # True: training data (features and labels) come from the FHIR store
    limitations: str = ""  # the task's own limitations for the model card (default: a generic line)
    # the task's own estimator settings per model kind (``train``'s ``params`` override them)
    model_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def record_features(self, record: PatientRecord) -> dict[str, float]:
        if not self.from_record:
            raise ValueError(f"task {self.name} builds its features from a table, not from a patient record")
        if self.featurizer is not None:
            return self.featurizer(record)
        return record_features(record, self.window_hours)

    def describe(self, feature: str, value: float) -> str:
        if self.describer is not None:
            return self.describer(feature, value)
        return describe(feature, value, window=self.window_hours)


SYNTHETIC_LIMITS = ("Trained and evaluated on the synthetic hospital (hygeia synth): it shows the pipeline and what "
                    "the model can learn from the generator's mechanisms, not performance on real patients; retrain "
                    "and validate on local data before any use. Several rows per patient (grouped in the splits), "
                    "but the bootstrap CIs resample rows, so they are somewhat too narrow.")


TASKS: dict[str, Task] = {
    "icu-mortality": Task(
        name="icu-mortality", title="In-hospital mortality from the first 48 h of an ICU stay",
        cohort="Adult ICU stays of at least 48 h (PhysioNet/CinC Challenge 2012 inclusion).",
        index_time="ICU admission + 48 h (prediction made at the end of the observation window).",
        window_hours=48.0, outcome="Death in hospital (In-hospital_death = 1).",
        features=("Per variable over 0-48 h: count, first, last, min, max, mean, SD, slope (whole window and "
                  "last 12 h), latest minus first, hours since last measured, mean of the last 12 h; urine "
                  "totals; SAPS-like and SOFA-like components for the first and last 24 h; PaO2/FiO2, "
                  "BUN/creatinine, shock index, pulse pressure; age, sex, BMI, ICU type, mechanical "
                  "ventilation, invasive BP monitoring, number of variables measured and measurements/hour; "
                  "SAPS II and APACHE II points (48 h; first and last 24 h), urine mL/kg/h, last-12 h minus "
                  "first-12 h means and time-weighted means, lactate clearance."),
        audit_attributes=("sex", "age_band"),
        intended_use=("Support ICU clinicians and quality teams in recognising patients at high risk of death "
                      "after 48 h in ICU, for review and goals-of-care discussions. Not for triage, "
                      "withdrawal of care or use outside adult ICUs without local validation."),
        data="PhysioNet/CinC Challenge 2012 set A (https://physionet.org/content/challenge-2012/)",
        high_risk=0.3, from_record=True,
        # extremely randomised splits: +0.003 AUROC on set A, 3 x 5-fold grouped CV (docs/risk.md)
        model_params={"lightgbm": {"extra_trees": True}}),
    "readmission-30d": Task(
        name="readmission-30d", title="Readmission within 30 days of discharge (diabetic inpatients)",
        cohort="Inpatient encounters of patients with diabetes, 130 US hospitals 1999-2008, all encounters kept.",
        index_time="Hospital discharge.", window_hours=0.0,
        outcome="Readmitted within 30 days (readmitted = '<30').",
        features=("The encounter's columns (demographics, admission type/source, discharge disposition, length "
                  "of stay, procedures, medications, diagnoses grouped by ICD-9 chapter and as code values, "
                  "comorbidity groups (after Quan et al. 2005), HbA1c, glucose, drug changes) plus the patient's "
                  "history before this encounter: prior encounters, prior 30-day and later readmissions, prior "
                  "days in hospital, the previous encounter's outcome, discharge disposition and diagnosis."),
        audit_attributes=("race", "sex", "age_band", "payer"),
        intended_use=("Support discharge planning teams in choosing patients for transitional-care follow-up. "
                      "Not for denying care or coverage."),
        data="Diabetes 130-US hospitals 1999-2008 (UCI, CC BY 4.0; Strack et al. 2014)",
        high_risk=0.2, from_record=False),
    "deterioration": Task(
        name="deterioration", title="Deterioration on the ward within 24 h (NEWS2 ≥ 7, ICU transfer or death)",
        cohort=("Inpatient encounters, at vital-sign sets taken on a ward (not ICU/HDU) with NEWS2 below 7; at most "
                "one index time every 4 h of a stay; ongoing stays only where the 24 h have passed."),
        index_time=("A vital-sign observation set on a ward (scoring: the latest set of the current stay). Features "
                    "use only data timed at or before it."),
        window_hours=24.0,
        outcome=("Within 24 h after the index time: NEWS2 ≥ 7 (RCP 2017 high band, each parameter carried forward "
                 "≤ 12 h), an ICU/HDU location, or death in hospital."),
        features=("Age, sex, hours since admission, admitted via ED, hours since ICU step-down; vital signs and NEWS2 "
                  "at the index set; NEWS2 max/mean/slope/change and per-vital min/max/slope over the last 24 h; "
                  "observation sets in 24 h and hours since the previous set; latest lab values, change since "
                  "admission and number of tests this stay (lactate, creatinine, WBC, CRP, haemoglobin, sodium, "
                  "potassium, urea, platelets, bilirubin); condition groups (ICD-10/SNOMED); active medications; "
                  "prior ED visits, admissions, clinic visits and ICU stays."),
        audit_attributes=("sex", "age_band", "race"),
        intended_use=("Support ward nurses and outreach teams in recognising adult ward patients likely to deteriorate "
                      "in the next 24 h, alongside (not instead of) NEWS2 and clinical judgement. Not for ICU "
                      "patients, children, or triage of ICU beds without local validation."),
        data="Hygeia synthetic hospital (hygeia synth) loaded into the FHIR store; synthetic data only",
        high_risk=0.3, from_record=True, featurizer=acute.deterioration_record_features,
        describer=acute.describe, from_store=True, limitations=SYNTHETIC_LIMITS),
    "ed-admission": Task(
        name="ed-admission", title="Admission to hospital from the emergency department",
        cohort="Finished emergency-department encounters (all ages).",
        index_time="ED arrival, with the triage vital signs (the first set within 1 h of arrival).",
        window_hours=0.0,
        outcome=("Admitted: an inpatient encounter starting between ED arrival and 1 h after the ED visit ends, or "
                 "the ED encounter's discharge disposition 'hosp'."),
        features=("Age, sex, triage vital signs, NEWS2 and shock index; before arrival: ED visits, admissions and "
                  "clinic visits in the past year, prior ICU stays, days since the last discharge, chronic condition "
                  "groups (ICD-10/SNOMED), active medications. Not the ED diagnosis (known only at the end)."),
        audit_attributes=("sex", "age_band", "race"),
        intended_use=("Support ED flow coordinators in anticipating bed requests early in an ED visit. Not for "
                      "deciding whether a patient is admitted, nor for prioritising clinical assessment."),
        data="Hygeia synthetic hospital (hygeia synth) loaded into the FHIR store; synthetic data only",
        high_risk=0.5, from_record=True, featurizer=acute.ed_record_features, describer=acute.describe,
        from_store=True, limitations=SYNTHETIC_LIMITS),
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


__all__ = ["TASKS", "Task", "get_task"]
