"""Metrics against scikit-learn, bootstrap CIs, calibration; MedMNIST .npz reading and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from hygeia.imaging.metrics import accuracy, apply_temperature, auc, bootstrap_ci, calibration, fit_temperature
from hygeia.imaging.npz_data import DataError, load_split, split_from_arrays


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=4, max_size=60))
def test_binary_auc_matches_sklearn(pairs: list[tuple[int, float]]) -> None:
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs])
    if len(set(y)) < 2:
        assert np.isnan(auc(y, np.column_stack([1 - s, s])))
        return
    assert auc(y, np.column_stack([1 - s, s])) == pytest.approx(roc_auc_score(y, s))


def test_multiclass_auc_is_macro_one_vs_rest_like_medmnist() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 200)
    p = rng.dirichlet(np.ones(5), 200)
    p[np.arange(200), y] += 0.3
    p /= p.sum(1, keepdims=True)
    expected = np.mean([roc_auc_score(y == k, p[:, k]) for k in range(5)])
    assert auc(y, p) == pytest.approx(expected)
    assert accuracy(y, p) == pytest.approx(np.mean(p.argmax(1) == y))


def test_bootstrap_ci_brackets_the_estimate_and_calibration_of_a_perfect_model() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.clip(y * 0.6 + rng.normal(0.2, 0.2, 300), 0, 1)
    p = np.column_stack([1 - s, s])
    lo, hi = bootstrap_ci(y, p, "auc", n_boot=200)
    assert lo <= auc(y, p) <= hi and hi - lo < 0.2
    onehot = np.eye(2)[y]
    cal = calibration(y, onehot)
    assert cal.ece == pytest.approx(0.0) and cal.brier == pytest.approx(0.0)


def test_npz_reading_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    np.savez(good, val_images=np.zeros((3, 28, 28), np.uint8), val_labels=np.array([[0], [1], [1]]))
    split = load_split(good, "val")
    assert split.images.shape == (3, 28, 28) and split.labels.tolist() == [0, 1, 1]
    with pytest.raises(DataError, match=r"missing key.*test_images.*splits present: val"):
        load_split(good, "test")
    with pytest.raises(DataError, match="no such file"):
        load_split(tmp_path / "absent.npz", "val")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_split(junk, "val")


@pytest.mark.parametrize(("images", "labels", "message"), [
    (np.zeros((3, 28)), np.zeros(3, int), "must be"),
    (np.zeros((3, 28, 28, 2)), np.zeros(3, int), "1 or 3 channels"),
    (np.zeros((3, 28, 28)), np.zeros(2, int), "3 images but 2 labels"),
    (np.zeros((3, 28, 28)), np.zeros((3, 2), int), "multi-label"),
    (np.full((3, 28, 28), 300.0), np.zeros(3, int), "uint8"),
    (np.zeros((3, 28, 28)), np.array([0.5, 1, 0]), "non-negative integers"),
])
def test_malformed_arrays_are_refused(images: np.ndarray, labels: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        split_from_arrays(images, labels, "x.npz[val]")


def test_temperature_fit_recovers_the_generating_temperature() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (4000, 5))
    true_p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(5, p=p) for p in true_p])
    softened = apply_temperature(true_p, 2.0)  # an under-confident model
    assert fit_temperature(y, softened) == pytest.approx(0.5, rel=0.1)
    assert np.allclose(apply_temperature(true_p, 1.0), true_p)
    assert (apply_temperature(true_p, 3.0).argmax(1) == true_p.argmax(1)).all()
