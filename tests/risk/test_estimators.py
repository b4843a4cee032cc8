from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from hygeia.risk.models import LightGBMRisk, LogisticRisk


@parametrize_with_checks([LogisticRisk(), LightGBMRisk(n_estimators=10, n_jobs=1, min_child_samples=2),
                          LightGBMRisk(n_estimators=10, n_jobs=1, min_child_samples=2, extra_trees=True)])
def test_sklearn_compatible(estimator: object, check: object) -> None:
    check(estimator)  # type: ignore[operator]
