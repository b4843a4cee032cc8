from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, roc_auc_score

from hygeia.governance.evaluation import (
    CardContent,
    auroc,
    bootstrap,
    brier,
    calibration_table,
    card_html,
    card_markdown,
    ece,
    evaluate,
    net_benefit,
)


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.9, n)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    return y, p


def test_known_values() -> None:
    y = np.array([0, 0, 1, 1])
    assert auroc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert np.isnan(auroc(np.array([1, 1]), np.array([0.2, 0.3])))
    # net benefit at t = 0.5: TP/n - FP/n * 1 = 2/4 - 0
    assert net_benefit(y, np.array([0.1, 0.2, 0.8, 0.9]), 0.5) == pytest.approx(0.5)
    assert net_benefit(y, np.array([0.6, 0.2, 0.8, 0.9]), 0.5) == pytest.approx(0.25)


def test_ece_small_for_calibrated_large_for_shifted() -> None:
    y, p = _data()
    assert ece(y, p) < 0.05
    assert ece(y, np.clip(p + 0.3, 0, 1)) > 0.2


def test_bootstrap_interval_contains_point() -> None:
    y, p = _data(500)
    est = bootstrap(auroc, y, p, n_boot=100)
    assert est.low <= est.value <= est.high and est.high - est.low < 0.2


def test_evaluate_and_decision_curve() -> None:
    y, p = _data()
    ev = evaluate(y, p, n_boot=30)
    assert ev.n == 2000 and ev.events == int(y.sum())
    dc = ev.decision_curve
    assert (dc["treat_none"] == 0).all()
    assert dc["model"].iloc[0] == pytest.approx(dc["treat_all"].iloc[0], abs=0.02)  # low t: model ≈ treat all
    assert (dc["model"] >= dc["treat_all"] - 1e-9).all()  # a calibrated model is never worse than treat-all
    doc = ev.to_dict()
    assert {"auroc", "auprc", "brier", "ece", "auroc_ci", "n", "events"} <= set(doc)
    with pytest.raises(ValueError, match="probabilities"):
        evaluate(y, p * 3)
    with pytest.raises(ValueError, match="labels but"):
        evaluate(y[:5], p)


def test_cards_render() -> None:
    y, p = _data(300)
    card = CardContent("Test model", {"version": "v1", "intended_use": "testing"}, evaluate(y, p, n_boot=10))
    md = card_markdown(card)
    assert "# Model card: Test model" in md and "auroc" in md and "Decision support" in md
    html = card_html(card)
    assert html.startswith("<!DOCTYPE html>") and "Calibration curve" in html and "<script" in html


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.9, 1.0])),
                min_size=2, max_size=40))
def test_fast_metrics_equal_the_reference_definitions(rows: list[tuple[int, float]]) -> None:
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    t = calibration_table(y, p)
    assert ece(y, p) == pytest.approx(float((t["n"] * (t["observed"] - t["predicted"]).abs()).sum() / len(y)))
    if 0 < y.sum() < len(y):
        assert auroc(y, p) == pytest.approx(roc_auc_score(y, p))  # ties (repeated values) count one half
    else:
        assert np.isnan(auroc(y, p))
