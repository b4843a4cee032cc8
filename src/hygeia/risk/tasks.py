"""Task definitions: the contract between data, features, model and the people who use it
(after PyHealth: the task's input/output schema is the contract)."""

from __future__ import annotations

from dataclasses import dataclass

from hygeia.records.record import PatientRecord
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

    def record_features(self, record: PatientRecord) -> dict[str, float]:
        if not self.from_record:
            raise ValueError(f"task {self.name} builds its features from a table, not from a patient record")
        return record_features(record, self.window_hours)

    def describe(self, feature: str, value: float) -> str:
        return describe(feature, value, window=self.window_hours)


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
                  "ventilation, invasive BP monitoring, number of variables measured and measurements/hour."),
        audit_attributes=("sex", "age_band"),
        intended_use=("Support ICU clinicians and quality teams in recognising patients at high risk of death "
                      "after 48 h in ICU, for review and goals-of-care discussions. Not for triage, "
                      "withdrawal of care or use outside adult ICUs without local validation."),
        data="PhysioNet/CinC Challenge 2012 set A (https://physionet.org/content/challenge-2012/)",
        high_risk=0.3, from_record=True),
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
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


__all__ = ["TASKS", "Task", "get_task"]
