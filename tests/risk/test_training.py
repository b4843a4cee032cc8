from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hygeia.findings import to_fhir
from hygeia.risk.data import Dataset
from hygeia.risk.scoring import band, finding_from_features
from hygeia.risk.training import RegistryError, TrainedModel, evaluate_on, load, save, train

from .conftest import SMALL_LGBM, make_dataset


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train("icu-mortality", make_dataset(400), "lightgbm", folds=3, n_boot=20, params=SMALL_LGBM,
                 calibration_folds=3)


def test_train_reports_governance_outputs(trained: TrainedModel) -> None:
    auroc = trained.evaluation.metrics["auroc"]
    assert 0.6 < auroc.value < 1.0 and auroc.low <= auroc.value <= auroc.high
    assert set(trained.evaluation.metrics) == {"auroc", "auprc", "brier", "ece"}
    assert {"sex", "age_band"} == set(trained.audit.by_group["attribute"])
    assert trained.importance["feature"].iloc[-1] == "noise"  # pure noise matters least


def test_task_settings_reach_the_estimator(trained: TrainedModel) -> None:
    # icu-mortality's own LightGBM settings (extremely randomised splits), under train's params (small model)
    fitted = trained.model.calibrated_classifiers_[0].estimator
    assert fitted.extra_trees is True and fitted.n_estimators == SMALL_LGBM["n_estimators"]
    assert trained.metadata["model_params"]["extra_trees"] is True
    assert "extra_trees=True" in trained.metadata["model"]
    other = train("readmission-30d", make_dataset(200), "lightgbm", folds=2, n_boot=5, params=SMALL_LGBM,
                  calibration_folds=2)
    assert other.metadata["model_params"]["extra_trees"] is False  # other tasks keep the defaults
    forced = train("icu-mortality", make_dataset(200), "lightgbm", folds=2, n_boot=5,
                   params={**SMALL_LGBM, "extra_trees": False}, calibration_folds=2)
    assert forced.model.calibrated_classifiers_[0].estimator.extra_trees is False


def test_registry_round_trip_and_tamper_detection(trained: TrainedModel, tmp_path: Path) -> None:
    folder = save(trained, tmp_path)
    names = {p.name for p in folder.iterdir()}
    assert {"model.joblib", "metadata.json", "card.md", "card.html", "evaluation.json", "fairness.json"} <= names
    meta = json.loads((folder / "metadata.json").read_text())
    for key in ("intended_use", "input_schema", "output_schema", "training_data", "metrics", "fairness",
                "code_version", "trained_at", "model_sha256"):
        assert key in meta
    again = load(tmp_path)  # via LATEST
    X = make_dataset(50, seed=3).X
    assert np.allclose(again.predict(X), trained.predict(X))
    html = (folder / "card.html").read_text()
    assert "plotly" in html.lower() and "Decision curve" in html and "Representation" in html
    (folder / "model.joblib").write_bytes(b"tampered")
    with pytest.raises(RegistryError, match="SHA-256"):
        load(folder)
    with pytest.raises(RegistryError, match="not a model folder"):
        load(tmp_path / "nowhere")


def test_evaluate_on_new_data(trained: TrainedModel) -> None:
    result = evaluate_on(trained, make_dataset(300, seed=5), n_boot=20)
    assert result.evaluation.n == 300 and result.evaluation.metrics["auroc"].value > 0.5


def test_finding_is_a_risk_assessment(trained: TrainedModel) -> None:
    d: Dataset = make_dataset(10, seed=9)
    finding = finding_from_features(trained, "p-1", d.X.iloc[0].to_dict(), k=3)
    assert finding.capability == "risk" and finding.kind == "icu-mortality" and len(finding.explanation) <= 3
    fhir = to_fhir(finding)
    assert fhir["resourceType"] == "RiskAssessment"
    assert 0 <= fhir["prediction"][0]["probabilityDecimal"] <= 1
    assert finding.version == trained.metadata.get("version", finding.version)


def test_band() -> None:
    assert band(0.5, 0.1, 0.3) == "high" and band(0.2, 0.1, 0.3) == "moderate" and band(0.05, 0.1, 0.3) == "low"


def test_train_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        train("nope", make_dataset(100))
    with pytest.raises(ValueError, match="unknown model"):
        train("icu-mortality", make_dataset(100), "forest")
    with pytest.raises(ValueError, match="too little data"):
        train("icu-mortality", make_dataset(100).subset(np.arange(100) < 20))
