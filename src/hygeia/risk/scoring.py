"""Score one patient: features from the PatientRecord, calibrated probability, band, top drivers,
and a :class:`Finding` that persists as a FHIR RiskAssessment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.findings import Driver, Evidence, Finding, Indicator, Source
from hygeia.governance.explain import shap_values, top_drivers
from hygeia.records.record import PatientRecord
from hygeia.risk.training import TrainedModel


def band(probability: float, prevalence: float, high: float) -> str:
    """``high`` at or above the task's threshold, ``moderate`` above the training prevalence, else ``low``."""
    if probability >= high:
        return "high"
    return "moderate" if probability >= prevalence else "low"


def finding_from_features(trained: TrainedModel, patient_id: str, features: dict[str, float],
                          k: int = 5) -> Finding:
    """The Finding for one row of features (as the task's feature code produced it)."""
    row = pd.DataFrame([{name: features.get(name, np.nan) for name in trained.feature_names}], dtype=float)
    p = float(trained.predict(row)[0])
    contrib = shap_values(trained.model, row.to_numpy(dtype=float))[0]
    values = row.iloc[0].to_numpy(dtype=float)
    drivers = top_drivers(contrib, values, trained.feature_names, trained.task.describe, k)
    prevalence = float(trained.metadata.get("prevalence", 0.0))
    level = band(p, prevalence, trained.task.high_risk)
    indicator = {"high": Indicator.WARNING, "moderate": Indicator.INFO, "low": Indicator.INFO}[level]
    summary = f"{trained.task.title}: {p:.0%} ({level} risk)"
    if len(summary) > 140:
        summary = f"{trained.task.name}: {p:.0%} ({level} risk)"
    detail = "\n".join([
        f"Predicted probability **{p:.1%}** ({level}; high from {trained.task.high_risk:.0%}, training prevalence "
        f"{prevalence:.1%}).", "", "Top drivers (SHAP, log-odds):",
        *[f"- {d.description}" for d in drivers], "",
        f"Model {trained.version}; see its model card for performance, calibration and subgroup audit.",
    ])
    return Finding(
        patient_id=patient_id, capability="risk", kind=trained.task.name, summary=summary, indicator=indicator,
        detail=detail,
        evidence=[Evidence(label="probability", value=round(p, 4)), Evidence(label="band", value=level)],
        explanation=[Driver(description=d.description, contribution=round(d.contribution, 4)) for d in drivers],
        source=Source(label=f"Hygeia risk model {trained.task.name} ({trained.metadata.get('model')}). "
                      f"{DECISION_SUPPORT_NOTICE}"[:200]),
        version=trained.version,
    )


def score_record(trained: TrainedModel, record: PatientRecord, k: int = 5) -> Finding:
    """Score a patient record with a model whose task reads PatientRecords."""
    return finding_from_features(trained, record.id, trained.task.record_features(record), k)


__all__ = ["band", "finding_from_features", "score_record"]
