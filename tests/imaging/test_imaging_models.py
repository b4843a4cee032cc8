"""Shipped ONNX models (inference without torch), occlusion saliency, second opinion, Findings, radiomics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hygeia.imaging import (
    TASKS,
    ImageModel,
    ModelError,
    first_order,
    get_task,
    occlusion_saliency,
    overlay,
    prediction_finding,
    second_opinion,
    shape_3d,
)
from hygeia.imaging.model import MODELS_DIR, to_nchw

SHIPPED = sorted(p.name for p in MODELS_DIR.iterdir() if (p / "model.onnx").is_file())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_runs_and_has_a_complete_card(name: str) -> None:
    model = ImageModel.load(name)
    card = model.card
    for key in ("intended_use", "training_data", "metrics", "limitations", "input", "output", "version"):
        assert key in card
    assert {"auc", "auc_ci95", "acc", "ece", "n"} <= set(card["metrics"])
    shape = (5, 28, 28) if model.task.channels == 1 else (5, 28, 28, 3)
    proba = model.predict_proba(np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8))
    assert proba.shape == (5, len(model.task.classes))
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    big = model.predict_proba(np.zeros((2, 64, 64), np.uint8))  # resized to the model's input
    assert big.shape == (2, len(model.task.classes))


def test_every_task_is_shipped() -> None:
    assert set(SHIPPED) == set(TASKS)


def test_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a model folder"):
        ImageModel.load(tmp_path / "nothing")
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelError, match=r"missing model\.onnx"):
        ImageModel.load(tmp_path / "m")
    (tmp_path / "m" / "model.onnx").write_bytes((MODELS_DIR / SHIPPED[0] / "model.onnx").read_bytes())
    (tmp_path / "m" / "card.json").write_text(json.dumps({"task": "nope"}))
    with pytest.raises(ModelError, match="malformed model card"):
        ImageModel.load(tmp_path / "m")


def test_to_nchw_converts_grey_and_colour() -> None:
    grey = np.full((2, 4, 4), 255, np.uint8)
    assert to_nchw(grey, 3).shape == (2, 3, 4, 4) and to_nchw(grey, 3).max() == 1.0
    colour = np.zeros((2, 4, 4, 3), np.uint8)
    assert to_nchw(colour, 1).shape == (2, 1, 4, 4)
    with pytest.raises(ValueError, match="images must be"):
        to_nchw(np.zeros((4, 4)), 1)


def test_occlusion_finds_the_region_the_predictor_looks_at() -> None:
    def predict(batch: np.ndarray) -> np.ndarray:  # "positive" = brightness of the top-left quadrant
        s = batch[:, :14, :14].reshape(len(batch), -1).mean(axis=1) / 255.0
        return np.column_stack([1 - s, s]).astype(np.float32)

    image = np.zeros((28, 28), np.uint8)
    image[:14, :14] = 250
    heat, cls = occlusion_saliency(predict, image)
    assert cls == 1
    assert heat[:10, :10].mean() > 5 * max(heat[18:, 18:].mean(), 1e-6)
    rgb = overlay(image, heat, size=112)
    assert rgb.shape == (112, 112, 3) and rgb.dtype == np.uint8
    with pytest.raises(ValueError, match="image must be"):
        occlusion_saliency(predict, np.zeros((1, 2, 3, 4), np.uint8))


def test_second_opinion_flags_confident_disagreements_only() -> None:
    proba = np.array([[0.95, 0.05], [0.6, 0.4], [0.02, 0.98], [0.99, 0.01]])
    flags = second_opinion(proba, np.array([1, 1, 1, 0]), threshold=0.9, class_names=("normal", "pneumonia"))
    assert [f.index for f in flags] == [0]
    assert "reader pneumonia, model normal" in flags[0].reason
    grades = np.eye(5)[[1, 3, 0]] * 0.96 + 0.01
    # ordinal: 1 vs 0 (both non-referable) not flagged; 3 vs 1 and 0 vs 2 are
    flags = second_opinion(grades, np.array([0, 1, 2]), ordinal=True)
    assert [f.index for f in flags] == [1, 2]
    with pytest.raises(ValueError, match="do not line up"):
        second_opinion(proba, np.array([0, 1]))
    with pytest.raises(ValueError, match="reader labels must be"):
        second_opinion(proba, np.array([0, 1, 2, 0]))


def test_prediction_finding_carries_report_and_study() -> None:
    task = get_task("breast")
    finding = prediction_finding(task, np.array([0.8, 0.2]), "p1", "1.0.0")
    assert finding.capability == "imaging" and "P(malignant) = 0.80" in finding.summary
    kinds = [r["resourceType"] for r in finding.resources]
    assert kinds == ["DiagnosticReport", "ImagingStudy"]
    assert finding.resources[0]["imagingStudy"][0]["reference"] == f"ImagingStudy/{finding.resources[1]['id']}"
    retina = prediction_finding(get_task("retina"), np.array([0.1, 0.1, 0.6, 0.1, 0.1]), "p1", "1.0.0")
    assert "grade 2" in retina.summary and retina.indicator == "warning"
    with pytest.raises(ValueError, match="expected 5 probabilities"):
        prediction_finding(get_task("retina"), np.array([0.5, 0.5]), "p1", "1")


def test_radiomics_on_a_sphere() -> None:
    r = 10
    zz, yy, xx = np.mgrid[-14:15, -14:15, -14:15]
    mask = (xx**2 + yy**2 + zz**2 <= r**2).astype(np.uint8)
    shape = shape_3d(mask, (1.0, 1.0, 1.0))
    assert shape["MeshVolume"] == pytest.approx(4 / 3 * np.pi * r**3, rel=0.03)
    assert shape["VoxelVolume"] == mask.sum()
    assert shape["Sphericity"] > 0.85
    assert shape["Maximum3DDiameter"] == pytest.approx(2 * r, abs=1.5)
    assert shape["Elongation"] == pytest.approx(1, abs=0.02) and shape["Flatness"] == pytest.approx(1, abs=0.02)
    image = np.random.default_rng(0).normal(100, 10, mask.shape)
    fo = first_order(image, mask, (1.0, 1.0, 2.0))
    roi = image[mask == 1]
    assert fo["Mean"] == pytest.approx(roi.mean()) and fo["Variance"] == pytest.approx(roi.var())
    assert fo["TotalEnergy"] == pytest.approx(2 * np.sum((roi + 2000) ** 2))
    assert 0 < fo["Uniformity"] <= 1
    with pytest.raises(ValueError, match="no voxels with label 2"):
        shape_3d(mask, (1.0, 1.0, 1.0), label=2)
    with pytest.raises(ValueError, match="differ in shape"):
        first_order(image[:-1], mask, (1.0, 1.0, 1.0))
