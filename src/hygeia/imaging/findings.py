"""Image-model predictions as Findings (capability ``imaging``) with ImagingStudy and DiagnosticReport."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hygeia.findings import Driver, Evidence, Finding, Indicator, Source, Suggestion
from hygeia.imaging.explain import Disagreement
from hygeia.imaging.fhir import diagnostic_report, imaging_study
from hygeia.imaging.tasks import TaskSpec

DICOM_MODALITY = {"pneumonia": "CR", "breast": "US", "retina": "OP"}


def prediction_finding(task: TaskSpec, proba: NDArray[np.floating], patient_id: str, model_version: str,
                       image_source: str = "", study_uid: str | None = None,
                       disagreement: Disagreement | None = None) -> Finding:
    """One image's prediction. Binary tasks report P(positive class); retina reports the grade distribution."""
    p = np.asarray(proba, dtype=float).ravel()
    if len(p) != len(task.classes):
        raise ValueError(f"expected {len(task.classes)} probabilities for {task.name}, got {len(p)}")
    top = int(p.argmax())
    if task.binary:
        pos = float(p[task.positive_index])
        label = task.classes[task.positive_index]
        summary = f"{task.name}: P({label}) = {pos:.2f} — {'suggestive' if pos >= 0.5 else 'not suggestive'}"
        indicator = Indicator.WARNING if pos >= 0.5 else Indicator.INFO
    else:
        expected = float(np.dot(p, np.arange(len(p))))
        summary = f"{task.name}: most likely {task.classes[top]} (p={p[top]:.2f}), expected grade {expected:.1f}"
        indicator = Indicator.WARNING if top >= 2 else Indicator.INFO  # referable DR: grade ≥ 2 (moderate NPDR)
    suggestions = []
    if disagreement is not None:
        indicator = Indicator.WARNING
        summary = f"Second opinion: {disagreement.reason}"
        suggestions.append(Suggestion(label="Re-review the image (model disagrees confidently with the read)"))
    study = imaging_study(patient_id, DICOM_MODALITY.get(task.name, "OT"), task.modality, study_uid=study_uid)
    observations: list[tuple[str, float | str, str | None]] = [
        (f"P({c})", round(float(v), 4), "1") for c, v in zip(task.classes, p, strict=True)]
    report = diagnostic_report(patient_id, "imaging", f"AI {task.name} assessment of {task.modality}", summary,
                               observations, imaging_study_id=study["id"], method=f"hygeia-{task.name} {model_version}")
    return Finding(
        patient_id=patient_id, capability="imaging", kind=task.name, summary=summary[:140], indicator=indicator,
        detail=(f"{task.intended_use} Model output on a 28 px downsampled image; see the model card for its "
                "validation metrics and limitations."),
        evidence=[Evidence(label=label, value=value, unit=unit) for label, value, unit in observations]
        + ([Evidence(label="image", value=image_source)] if image_source else []),
        explanation=[Driver(description="occlusion saliency map available (`hygeia imaging explain`)")],
        suggestions=suggestions, source=Source(label=f"Hygeia {task.name} model (MedMNIST v2 training data)"),
        version=model_version, resources=[report, study],
    )
