"""icu-mortality on PhysioNet 2012 set A (the challenge's other sets are held back and judge the model).

To stay within the acceptance time budget on a fresh 2-core machine (no feature cache), the test
converts the first 800 stays by RecordID (two processes; taken from the cached table of the whole
set when a full run made one) and cross-validates a small, fixed LightGBM on them. The reported
figures (docs/risk.md) come from the full `hygeia risk train` run on all 4,000 stays, not from this test.

Bound: on this subset the 3-fold CV AUROC measured 0.845 (95 % CI 0.804–0.882) with the 515-feature
set, 0.846 (0.808–0.880) with the 603-feature set of issue 5 and 0.837 (0.791–0.873) once icu-mortality's
LightGBM uses extremely randomised splits (the task's ``model_params``; docs/risk.md). With
~110 deaths among 800 stays the standard error of an AUROC near 0.84 is about 0.024 (Hanley & McNeil,
Radiology 1982), so 0.77 is three standard errors below it, and still far above SAPS-I (0.67 on the
held-back sets): a broken feature or training path fails it, chance does not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hygeia.config import get_settings
from hygeia.risk.data import physionet2012_dataset, physionet2012_features, read_outcomes
from hygeia.risk.training import train

STAYS = 800
FAST_LGBM = {"n_estimators": 150, "learning_rate": 0.05, "n_jobs": 2}


def test_icu_mortality_cross_validated(reference: Callable[..., Path]) -> None:
    root = reference("clinical", "physionet-2012")
    cache = get_settings().data_dir / "cache" / "risk"
    table = physionet2012_features(root / "set-a", cache, limit=STAYS, n_jobs=2)
    data = physionet2012_dataset(table, read_outcomes(root / "Outcomes-a.txt"), "set-a")
    assert data.n == STAYS and 80 <= data.events <= 150
    trained = train("icu-mortality", data, "lightgbm", folds=3, n_boot=50, params=FAST_LGBM, calibration_folds=3)
    auroc = trained.evaluation.metrics["auroc"]
    print(f"icu-mortality, first {STAYS} set-A stays, 3-fold CV: AUROC {auroc.text()}, "
          f"ECE {trained.evaluation.metrics['ece'].text()}")
    assert auroc.value > 0.77, auroc.text()
    assert trained.evaluation.metrics["ece"].value < 0.08, trained.evaluation.metrics["ece"].text()
    assert {"sex", "age_band"} == set(trained.audit.by_group["attribute"])
    assert not trained.importance.empty and trained.importance["importance"].iloc[0] > 0
