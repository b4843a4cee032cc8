"""Explanations: SHAP values per prediction, top drivers in plain words, and global importance.

SHAP (Lundberg & Lee, NeurIPS 2017; TreeSHAP: Lundberg et al., Nat Mach Intell 2020) via the
``shap`` package for tree models; for the logistic model the exact linear SHAP values
(coefficient × (standardised value − its mean), the interventional form that ``shap.LinearExplainer``
computes) are summed back from the imputed value and its missing-indicator to the original feature.

Contributions are in the calibrated model's log-odds: each cross-fitted model's SHAP values are
scaled by its Platt calibrator's slope and averaged over the folds, so they add up (with the base
value) to the logit of the calibrated probability for sigmoid calibration.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DriverText:
    description: str
    contribution: float


# TreeExplainer parses every tree of the model; keep one per booster while the booster lives, so that
# scoring patient after patient does not rebuild it (it is not pickled with the model).
_EXPLAINERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _tree_shap(model: Any, X: np.ndarray) -> np.ndarray:
    import shap

    explainer = _EXPLAINERS.get(model)
    if explainer is None:
        explainer = _EXPLAINERS[model] = shap.TreeExplainer(model)
    with warnings.catch_warnings():  # shap's notice that LightGBM's binary output format changed; handled below
        warnings.simplefilter("ignore", UserWarning)
        values = explainer.shap_values(X)
    if isinstance(values, list):
        values = values[-1]
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 3:
        arr = arr[:, :, -1]
    return arr


def _linear_shap(pipeline: Any, X: np.ndarray) -> np.ndarray:
    impute, scale, model = pipeline.named_steps["impute"], pipeline.named_steps["scale"], pipeline.named_steps["model"]
    Z = scale.transform(impute.transform(X))
    coef = model.coef_[0]
    contrib = coef * Z  # StandardScaler centres the training data, so the background mean is 0
    n_features = X.shape[1]
    out = contrib[:, :n_features].copy()
    indicator = impute.indicator_
    if indicator is not None:
        for j, original in enumerate(indicator.features_):
            out[:, original] += contrib[:, n_features + j]
    return np.asarray(out)


def base_shap(estimator: Any, X: np.ndarray) -> np.ndarray:
    """SHAP values (log-odds) of one of Hygeia's risk estimators (LightGBMRisk or LogisticRisk)."""
    if hasattr(estimator, "booster_"):
        return _tree_shap(estimator.booster_, X)
    if hasattr(estimator, "pipeline_"):
        return _linear_shap(estimator.pipeline_, X)
    raise TypeError(f"no SHAP explainer for {type(estimator).__name__}")


def shap_values(model: Any, X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Per-row, per-feature contributions in calibrated log-odds for a CalibratedClassifierCV of a
    Hygeia estimator (or the bare estimator)."""
    arr = np.asarray(X, dtype=float)
    folds = getattr(model, "calibrated_classifiers_", None)
    if not folds:
        return base_shap(model, arr)
    total = np.zeros(arr.shape, dtype=float)
    for fold in folds:
        slope = 1.0
        cal = fold.calibrators[0]
        if hasattr(cal, "a_"):
            slope = -float(cal.a_)  # sklearn's sigmoid: p = 1 / (1 + exp(a·f + b))
        total += slope * base_shap(fold.estimator, arr)
    return total / len(folds)


def top_drivers(
    contributions: np.ndarray,
    values: Sequence[float] | np.ndarray,
    names: Sequence[str],
    describe: Callable[[str, float], str],
    k: int = 5,
) -> list[DriverText]:
    """The ``k`` largest contributions of one prediction, each in plain words with its sign."""
    order = np.argsort(-np.abs(contributions))[:k]
    return [
        DriverText(f"{describe(names[i], float(values[i]))}: {contributions[i]:+.2f}", float(contributions[i]))
        for i in order
        if contributions[i] != 0
    ]


def global_importance(contributions: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Mean |SHAP| per feature, largest first."""
    imp = np.abs(contributions).mean(axis=0)
    df = pd.DataFrame({"feature": list(names), "importance": imp})
    return df.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


__all__ = ["DriverText", "base_shap", "global_importance", "shap_values", "top_drivers"]
