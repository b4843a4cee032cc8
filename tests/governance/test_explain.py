from __future__ import annotations

import numpy as np
import pandas as pd

from hygeia.governance.explain import global_importance, shap_values, top_drivers
from hygeia.risk.models import LightGBMRisk, LogisticRisk


def _data(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    X[rng.uniform(size=n) < 0.2, 1] = np.nan
    logit = 1.5 * X[:, 0] - np.nan_to_num(X[:, 1]) * 0.8
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_linear_shap_adds_up_to_the_decision_function() -> None:
    X, y = _data()
    model = LogisticRisk(C=1.0).fit(X, y)
    phi = shap_values(model, X)
    intercept = model.pipeline_.named_steps["model"].intercept_[0]
    assert np.allclose(phi.sum(axis=1) + intercept, model.decision_function(X))
    imp = global_importance(phi, ["a", "b", "c"])
    assert imp["feature"].iloc[0] == "a" and imp["feature"].iloc[-1] == "c"


def test_tree_shap_adds_up_to_raw_score() -> None:
    X, y = _data()
    model = LightGBMRisk(n_estimators=30, n_jobs=1).fit(X, y)
    phi = shap_values(model, X)
    spread = phi.sum(axis=1) - model.decision_function(X)
    assert np.allclose(spread, spread[0], atol=1e-4)  # differs by the constant expected value only


def test_top_drivers_in_plain_words() -> None:
    drivers = top_drivers(np.array([0.05, -0.3, 0.12]), [1.0, 2.0, 4.1], ["a", "b", "lactate__max"],
                          lambda f, v: f"{f} {v}", k=2)
    assert [d.description for d in drivers] == ["b 2.0: -0.30", "lactate__max 4.1: +0.12"]
    assert pd.isna(pd.NA) and len(drivers) == 2
