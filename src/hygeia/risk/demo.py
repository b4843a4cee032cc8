"""Risk models for the demo hospital, trained in well under a minute of CPU from the FHIR store.

:func:`train_demo_models` reads every patient record once, trains and registers ``deterioration`` (and,
when asked, ``ed-admission``) with quick settings (3-fold cross-validation, 3-fold cross-fitted calibration, 200
trees, 100 bootstrap resamples: the full governance outputs, smaller), and stores a RiskAssessment
Finding for every current inpatient on a ward, scored at their latest vital-sign set. Synthetic data,
demo only; decision support for a clinician, not a substitute for clinical judgement.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hygeia.findings import to_fhir
from hygeia.records.store import Store
from hygeia.risk import acute
from hygeia.risk.data import store_records, timeline_dataset
from hygeia.risk.scoring import finding_from_features
from hygeia.risk.training import TrainedModel, save, train

QUICK_PARAMS: dict[str, Any] = {"n_estimators": 200, "learning_rate": 0.05}


@dataclass
class DemoModels:
    """What :func:`train_demo_models` did."""

    folders: dict[str, Path] = field(default_factory=dict)  # task -> registered version folder
    auroc: dict[str, float] = field(default_factory=dict)  # task -> cross-validated AUROC
    scored: int = 0  # RiskAssessments written (current ward inpatients)
    skipped: dict[str, str] = field(default_factory=dict)  # patient -> why not scored (ICU, no vitals yet)
    cpu_seconds: float = 0.0

    def summary(self) -> str:
        models = ", ".join(f"{t} AUROC {a:.2f}" for t, a in self.auroc.items())
        return (f"{models}; {self.scored} inpatients scored, {len(self.skipped)} not scored "
                f"(ICU or no vital signs yet); {self.cpu_seconds:.0f} s CPU")


def train_demo_models(store: Store, models_dir: Path, *, ed_admission: bool = False,
                      progress: Callable[[str], None] | None = None) -> DemoModels:
    """Train and register the deterioration model under ``models_dir/deterioration/`` from the store's records
    (and ``ed-admission`` when asked: it is not scored here, inpatients have left the ED), then write a
    RiskAssessment (hygeia.risk Finding) for each current inpatient on a ward, at their latest vital-sign set."""
    began = time.process_time()
    say = progress or (lambda _msg: None)
    out = DemoModels()
    say("risk: reading patient records")
    timelines = [acute.timeline(record) for record in store_records(store)]
    tasks = ("deterioration", "ed-admission") if ed_admission else ("deterioration",)
    trained: dict[str, TrainedModel] = {}
    for task in tasks:
        say(f"risk: training {task}")
        dataset = timeline_dataset(task, timelines, source="demo FHIR store (synthetic hospital)")
        model = train(task, dataset, "lightgbm", folds=3, n_boot=100, params=QUICK_PARAMS, calibration_folds=3)
        out.folders[task] = save(model, models_dir / task)
        out.auroc[task] = model.evaluation.metrics["auroc"].value
        trained[task] = model
    say("risk: scoring current inpatients")
    model = trained["deterioration"]
    batch = []
    for tl in timelines:
        if not any(e.cls == "IMP" and e.ongoing for e in tl.encounters):
            continue
        try:
            _, features = acute.deterioration_index(tl)
        except acute.NoIndexTime as exc:
            out.skipped[tl.patient_id] = str(exc)
            continue
        batch.append(to_fhir(finding_from_features(model, tl.patient_id, features)))
    if batch:
        store.write(batch)
    out.scored = len(batch)
    out.cpu_seconds = time.process_time() - began
    return out


__all__ = ["DemoModels", "train_demo_models"]
