"""Risk models as scikit-learn estimators: a regularised logistic regression baseline and LightGBM,
and probability calibration fitted on held-out folds (``CalibratedClassifierCV``, cross-fitted).

Conventions (scikit-learn): ``__init__`` stores parameters, ``fit`` returns self, fitted state ends
in ``_``. Both accept NaN ("not measured"): the logistic model imputes the median and adds a
missing-indicator per feature; LightGBM handles NaN natively.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


class _NanTolerant(ClassifierMixin, BaseEstimator):
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _check(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray(validate_data(self, X, reset=False, ensure_all_finite="allow-nan"), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])


class LogisticRisk(_NanTolerant):
    """L2-regularised logistic regression on standardised features, median imputation + missing indicators.

    ``C``: inverse regularisation strength (small = strong; 0.05 is conservative for hundreds of features).
    """

    def __init__(self, C: float = 0.05, max_iter: int = 3000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> LogisticRisk:
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self.pipeline_ = Pipeline([
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=self.C, max_iter=self.max_iter)),
        ]).fit(np.asarray(X, dtype=float), y)
        self.n_iter_ = self.pipeline_.named_steps["model"].n_iter_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        Xc = self._check(X)
        return np.asarray(self.pipeline_.predict_proba(Xc))

    def decision_function(self, X: Any) -> np.ndarray:
        Xc = self._check(X)
        return np.asarray(self.pipeline_.decision_function(Xc))


class LightGBMRisk(_NanTolerant):
    """Gradient-boosted trees (LightGBM) with conservative, hand-set defaults (no search):
    small trees, slow learning rate, row and column subsampling, L2 penalty.

    ``extra_trees``: LightGBM's extremely randomised trees (each split's threshold drawn at random for every
    feature considered, the best of those kept; Geurts et al., Mach Learn 2006) — more regularisation for wide,
    redundant tables (icu-mortality turns it on, see ``risk.tasks``).

    ``n_jobs`` defaults to 1: on tables of a few thousand rows threads gain little, and OpenMP threads
    that spin-wait on a busy machine cost many times the CPU (measured: 15x on a loaded 2-core box)."""

    def __init__(self, n_estimators: int = 600, learning_rate: float = 0.02, num_leaves: int = 15,
                 min_child_samples: int = 30, subsample: float = 0.8, colsample_bytree: float = 0.4,
                 reg_lambda: float = 2.0, extra_trees: bool = False, n_jobs: int = 1, random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.extra_trees = extra_trees
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LightGBMRisk:
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self.booster_ = LGBMClassifier(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples, subsample=self.subsample, subsample_freq=1,
            colsample_bytree=self.colsample_bytree, reg_lambda=self.reg_lambda, extra_trees=self.extra_trees,
            n_jobs=self.n_jobs, random_state=self.random_state, verbose=-1,
        ).fit(np.asarray(X, dtype=float), y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        Xc = self._check(X)
        return np.asarray(self.booster_.predict_proba(Xc))

    def decision_function(self, X: Any) -> np.ndarray:
        Xc = self._check(X)
        return np.asarray(self.booster_.predict(Xc, raw_score=True))


MODELS: dict[str, type[_NanTolerant]] = {"logistic": LogisticRisk, "lightgbm": LightGBMRisk}


def calibrated(estimator: BaseEstimator, folds: int = 5, method: str = "sigmoid",
               random_state: int = 0) -> CalibratedClassifierCV:
    """Cross-fitted calibration: each fold's model is calibrated on the fold it did not see, and the
    folds' calibrated models are averaged (Platt scaling by default: monotone, keeps the ranking)."""
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return CalibratedClassifierCV(clone(estimator), method=method, cv=cv, ensemble=True)


__all__ = ["MODELS", "LightGBMRisk", "LogisticRisk", "calibrated"]
