"""Train a task's model with its governance outputs, and keep it in a versioned registry folder.

A registry folder (``MODEL_DIR``) holds one sub-folder per version (``<task>-<UTC date>-<hash>``) and a
``LATEST`` file naming the newest. A version folder is a specified artifact, after MONAI's bundle:
``model.joblib`` (its SHA-256 in the metadata), ``metadata.json`` (intended use, cohort, outcome,
input/output schema, training data, metrics, fairness report, code version, training date),
``evaluation.json``, ``fairness.json``, ``card.md`` and ``card.html``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from hygeia import DECISION_SUPPORT_NOTICE, __version__
from hygeia.governance.evaluation import CardContent, Evaluation, card_html, card_markdown, evaluate
from hygeia.governance.explain import global_importance, shap_values
from hygeia.governance.fairness import AuditReport, audit, representation
from hygeia.risk.data import Dataset, feature_code_version
from hygeia.risk.models import MODELS, calibrated
from hygeia.risk.tasks import Task, get_task

Progress = Callable[[str, int, int], None]


class RegistryError(ValueError):
    """A model folder that cannot be used (missing files, hash mismatch)."""


@dataclass
class TrainedModel:
    """A fitted, calibrated model with everything the registry stores about it."""

    task: Task
    model: Any
    feature_names: list[str]
    metadata: dict[str, Any]
    evaluation: Evaluation
    audit: AuditReport
    importance: pd.DataFrame
    training_groups: pd.DataFrame

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.feature_names if c not in X.columns]
        if missing:
            raise ValueError(f"input lacks {len(missing)} feature(s) the model needs, e.g. {missing[:3]}")
        return np.asarray(self.model.predict_proba(X[self.feature_names].to_numpy(dtype=float))[:, 1])

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", f"{self.task.name}-unsaved"))


def out_of_fold(estimator: Any, dataset: Dataset, folds: int = 5, seed: int = 0,
                progress: Progress | None = None, calibration_folds: int = 5) -> np.ndarray:
    """Calibrated out-of-fold probabilities (folds split by patient, stratified by outcome)."""
    X = dataset.X.to_numpy(dtype=float)
    oof = np.full(dataset.n, np.nan)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (tr, te) in enumerate(splitter.split(X, dataset.y, dataset.split_groups)):
        model = calibrated(estimator, calibration_folds).fit(X[tr], dataset.y[tr])
        oof[te] = model.predict_proba(X[te])[:, 1]
        if progress:
            progress("cross-validation", k + 1, folds)
    return oof


def _card(trained: TrainedModel, evaluation: Evaluation, report: AuditReport, scored: pd.DataFrame | None,
          title_suffix: str = "") -> CardContent:
    fairness_cols = ["attribute", "group", "n", "events", "too_small", "auroc", "auroc_low", "auroc_high", "tpr",
                     "fpr", "ppv", "observed", "predicted", "calibration_gap"]
    fairness = report.by_group[[c for c in fairness_cols if c in report.by_group]]
    rep = representation(trained.training_groups, scored if scored is not None else trained.training_groups)
    m = trained.metadata
    limitations = (
        f"- {m['limitations']}\n- Probabilities are calibrated on the training population (cross-fitted "
        "Platt scaling); recalibrate before use in another population.\n- Groups marked too small "
        f"(fewer than 50 patients or 10 events) cannot be judged.\n- {DECISION_SUPPORT_NOTICE}")
    gaps = report.gaps.copy()
    return CardContent(
        title=f"{trained.task.title}{title_suffix}", metadata=m, evaluation=evaluation, fairness=fairness,
        fairness_flags=report.flags, importance=trained.importance, representation=rep,
        sections={"Largest differences and ratios between groups": gaps.to_string(index=False, float_format="%.3f"),
                  "Limitations": limitations})


def _feature_version(task: Task) -> str:
    if task.featurizer is None:
        return feature_code_version()
    from hygeia.risk import acute

    return f"{feature_code_version(acute)} (risk.acute)"


def train(task_name: str, dataset: Dataset, model_kind: str = "lightgbm", folds: int = 5, n_boot: int = 200,
          seed: int = 0, progress: Progress | None = None, params: dict[str, Any] | None = None,
          calibration_folds: int = 5) -> TrainedModel:
    """Cross-validate (out-of-fold governance outputs), then fit the final calibrated model on all data.

    The estimator takes the task's own settings (``Task.model_params``) over its defaults; ``params`` overrides
    both (e.g. fewer trees in tests); ``calibration_folds``: the
    cross-fitted calibration's folds inside each fit (each fold's model calibrated on the fold it did not see)."""
    task = get_task(task_name)
    if model_kind not in MODELS:
        raise ValueError(f"unknown model {model_kind!r}; choose one of {', '.join(MODELS)}")
    if dataset.n < 50 or dataset.events < 10:
        raise ValueError(f"too little data to train: {dataset.n} rows, {dataset.events} events (need ≥50 and ≥10)")
    estimator = MODELS[model_kind](**{**task.model_params.get(model_kind, {}), **(params or {})})
    oof = out_of_fold(estimator, dataset, folds, seed, progress, calibration_folds)
    if progress:
        progress("final model", 0, 1)
    final = calibrated(estimator, calibration_folds).fit(dataset.X.to_numpy(dtype=float), dataset.y)
    if progress:
        progress("final model", 1, 1)
    evaluation = evaluate(dataset.y, oof, n_boot=n_boot, seed=seed)
    report = audit(dataset.y, oof, dataset.groups, task.high_risk, n_boot=max(n_boot // 2, 20), seed=seed)
    sample = dataset.X.sample(n=min(2000, dataset.n), random_state=seed)
    importance = global_importance(shap_values(final, sample.to_numpy(dtype=float)), list(dataset.X.columns))
    if progress:
        progress("explanations", 1, 1)
    now = datetime.now(UTC)
    own = {**task.model_params.get(model_kind, {}), **(params or {})}
    settings = f" ({', '.join(f'{k}={v}' for k, v in own.items())})" if own else ""
    metadata: dict[str, Any] = {
        "task": task.name, "title": task.title, "model": f"{model_kind}{settings} + cross-fitted Platt calibration",
        "model_params": estimator.get_params(),
        "intended_use": task.intended_use, "cohort": task.cohort, "index_time": task.index_time,
        "outcome": task.outcome, "features": task.features, "training_data": f"{task.data}; {dataset.source}",
        "n": dataset.n, "events": dataset.events, "prevalence": dataset.events / dataset.n,
        "high_risk_threshold": task.high_risk, "trained_at": now.isoformat(timespec="seconds"),
        "code_version": f"hygeia {__version__}, features {_feature_version(task)}",
        "input_schema": {"type": "table", "columns": [{"name": c, "dtype": "float64", "nan": "not measured"}
                                                      for c in dataset.X.columns]},
        "output_schema": {"probability": "float in [0, 1]", "band": "low | moderate | high",
                          "drivers": "top SHAP contributions in log-odds"},
        "metrics": {"cross_validated": {k: v.to_dict() for k, v in evaluation.metrics.items()},
                    "folds": folds, "split": "stratified, grouped by patient"},
        "fairness": {"passed": report.passed, "flags": report.flags, "threshold": report.threshold},
        "limitations": task.limitations or "Trained on one data source; performance elsewhere must be checked locally.",
        "notice": DECISION_SUPPORT_NOTICE,
    }
    return TrainedModel(task, final, list(dataset.X.columns), metadata, evaluation, report, importance,
                        dataset.groups)


def _json(obj: Any) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, np.integer | np.floating):
            return o.item()
        if isinstance(o, np.bool_):
            return bool(o)
        return str(o)

    def clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        if isinstance(o, np.floating):
            return clean(float(o))
        return o

    return json.dumps(clean(obj), indent=2, default=default)


def save(trained: TrainedModel, registry: Path) -> Path:
    """Write a new version folder under ``registry`` and point ``LATEST`` at it; returns the folder."""
    registry.mkdir(parents=True, exist_ok=True)
    tmp = registry / ".model.joblib.tmp"
    joblib.dump({"model": trained.model, "feature_names": trained.feature_names,
                 "training_groups": trained.training_groups, "importance": trained.importance}, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    stamp = datetime.fromisoformat(trained.metadata["trained_at"]).strftime("%Y%m%dT%H%M%SZ")
    version = f"{trained.task.name}-{stamp}-{digest[:8]}"
    folder = registry / version
    folder.mkdir(parents=True, exist_ok=False)
    tmp.replace(folder / "model.joblib")
    trained.metadata.update({"version": version, "model_file": "model.joblib", "model_sha256": digest})
    (folder / "metadata.json").write_text(_json(trained.metadata))
    (folder / "evaluation.json").write_text(_json(trained.evaluation.to_dict()))
    (folder / "fairness.json").write_text(_json(trained.audit.to_dict()))
    card = _card(trained, trained.evaluation, trained.audit, None, " (cross-validated on the training data)")
    (folder / "card.md").write_text(card_markdown(card))
    (folder / "card.html").write_text(card_html(card))
    (registry / "LATEST").write_text(version + "\n")
    return folder


def resolve(path: Path) -> Path:
    """A version folder: ``path`` itself, or the version ``path/LATEST`` names."""
    if (path / "metadata.json").exists():
        return path
    latest = path / "LATEST"
    if latest.exists():
        folder = path / latest.read_text().strip()
        if (folder / "metadata.json").exists():
            return folder
    raise RegistryError(f"{path}: not a model folder (no metadata.json, no LATEST); train one with "
                        "`hygeia risk train TASK --out DIR`")


def load(path: Path) -> TrainedModel:
    """Load a version (verifying the model file's SHA-256 against the metadata)."""
    folder = resolve(path)
    try:
        metadata = json.loads((folder / "metadata.json").read_text())
        model_file = folder / metadata.get("model_file", "model.joblib")
        digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
    except (OSError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{folder}: unreadable model folder: {exc}") from None
    if digest != metadata.get("model_sha256"):
        raise RegistryError(f"{model_file}: SHA-256 {digest[:12]}… does not match metadata.json "
                            f"({str(metadata.get('model_sha256'))[:12]}…): the file was changed or corrupted")
    blob = joblib.load(model_file)
    evaluation_doc = json.loads((folder / "evaluation.json").read_text())
    from hygeia.governance.evaluation import Estimate

    metrics = {k: Estimate(v["value"] if v["value"] is not None else math.nan, *(
        x if x is not None else math.nan for x in (v["low"], v["high"])))
        for k, v in metadata["metrics"]["cross_validated"].items()}
    evaluation = Evaluation(int(evaluation_doc["n"]), int(evaluation_doc["events"]), metrics,
                            pd.DataFrame(evaluation_doc["calibration_curve"]),
                            pd.DataFrame(evaluation_doc["decision_curve"]))
    fairness_doc = json.loads((folder / "fairness.json").read_text())
    report = AuditReport(pd.DataFrame(fairness_doc["by_group"]), pd.DataFrame(fairness_doc["gaps"]),
                         list(fairness_doc["flags"]), float(fairness_doc["threshold"]))
    return TrainedModel(get_task(metadata["task"]), blob["model"], list(blob["feature_names"]), metadata,
                        evaluation, report, blob["importance"], blob["training_groups"])


@dataclass(frozen=True)
class ExternalEvaluation:
    evaluation: Evaluation
    audit: AuditReport
    card: CardContent


def evaluate_on(trained: TrainedModel, dataset: Dataset, n_boot: int = 200, seed: int = 0) -> ExternalEvaluation:
    """Evaluate a trained model on another data set (held-out), with the subgroup audit and a card."""
    p = trained.predict(dataset.X)
    evaluation = evaluate(dataset.y, p, n_boot=n_boot, seed=seed)
    report = audit(dataset.y, p, dataset.groups, trained.task.high_risk, n_boot=max(n_boot // 2, 20), seed=seed)
    card = _card(trained, evaluation, report, dataset.groups, f" (evaluated on {dataset.source or 'new data'})")
    return ExternalEvaluation(evaluation, report, card)


__all__ = ["ExternalEvaluation", "RegistryError", "TrainedModel", "evaluate_on", "load", "out_of_fold", "resolve",
           "save", "train"]
