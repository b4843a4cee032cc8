"""Training smoke run (skipped without torch) and the `hygeia imaging` / `hygeia pathology` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.imaging import ImageModel, get_task
from hygeia.imaging.npz_data import Split
from hygeia.pathology.synthetic import synthetic_ihc

runner = CliRunner()


def toy_npz(path: Path, n: int = 64, split: str = "val") -> Path:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    images[labels == 1, 8:20, 8:20] += 150  # class 1: a bright blob
    np.savez(path, **{f"{split}_images": images, f"{split}_labels": labels[:, None]})
    return path


@pytest.mark.parametrize("task", ["pneumonia", "retina"])
def test_training_smoke_run_exports_a_working_onnx(tmp_path: Path, task: str) -> None:
    pytest.importorskip("torch")
    from hygeia.imaging.train import TrainConfig, train

    spec = get_task(task)
    rng = np.random.default_rng(0)
    shape = (48, 28, 28) if spec.channels == 1 else (48, 28, 28, 3)
    labels = rng.integers(0, len(spec.classes), 48)
    split = Split(images=rng.integers(0, 255, shape).astype(np.uint8), labels=labels.astype(np.int64))
    cfg = TrainConfig(epochs=1, width=4, batch_size=24)
    result = train(spec, split, split, tmp_path / "model", cfg)
    model = ImageModel.load(tmp_path / "model")
    proba = model.predict_proba(split.images[:3])
    assert proba.shape == (3, len(spec.classes)) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert result.card["metrics"]["n"] == 48 and "auc_ci95" in result.card["metrics"]
    assert (result.card["calibration"]["temperature"] != 1.0) == spec.ordinal
    assert (tmp_path / "model" / "card.md").read_text().startswith("# Model card")


def test_evaluate_prints_auc_acc_n_as_json(tmp_path: Path) -> None:
    npz = toy_npz(tmp_path / "toy.npz")
    result = runner.invoke(app, ["imaging", "evaluate", "pneumonia", "--npz", str(npz), "--split", "val", "--json",
                                 "--bootstrap", "20"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["n"] == 64 and 0 <= data["auc"] <= 1 and 0 <= data["acc"] <= 1


def test_evaluate_errors_are_clear(tmp_path: Path) -> None:
    npz = toy_npz(tmp_path / "toy.npz")
    result = runner.invoke(app, ["imaging", "evaluate", "pneumonia", "--npz", str(npz), "--split", "test"])
    assert result.exit_code != 0 and "missing key" in result.output
    result = runner.invoke(app, ["imaging", "evaluate", "nosuchmodel", "--npz", str(npz)])
    assert result.exit_code != 0 and "not a model folder" in result.output


def test_explain_writes_an_overlay_png(tmp_path: Path) -> None:
    img = tmp_path / "cxr.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64), dtype=np.uint8)).save(img)
    out = tmp_path / "heat.png"
    result = runner.invoke(app, ["imaging", "explain", "pneumonia", str(img), "--out", str(out), "--size", "96"])
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (96, 96)


def test_pathology_ihc_cli(tmp_path: Path) -> None:
    truth = synthetic_ihc(0.4, seed=3)
    path = tmp_path / "ki67.png"
    Image.fromarray(truth.image).save(path)
    result = runner.invoke(app, ["pathology", "ihc", str(path), "--json"])
    assert result.exit_code == 0, result.output
    finding = json.loads(result.output)
    assert finding["capability"] == "pathology" and finding["resources"][0]["resourceType"] == "DiagnosticReport"
    bad = runner.invoke(app, ["pathology", "ihc", str(tmp_path / "missing.png")])
    assert bad.exit_code != 0 and "not a readable RGB image" in " ".join(bad.output.split())
