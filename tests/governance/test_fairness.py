from __future__ import annotations

import numpy as np
import pandas as pd

from hygeia.governance.fairness import audit, representation


def _population(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 5, n)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    groups = pd.DataFrame({"sex": rng.choice(["female", "male"], n),
                           "race": rng.choice(["A", "B", "C"], n, p=[0.6, 0.38, 0.02])})
    return y, p, groups


def test_clean_model_passes_and_small_group_is_marked() -> None:
    y, p, groups = _population()
    report = audit(y, p, groups, threshold=0.3, n_boot=25)
    assert report.passed, report.flags
    small = report.by_group[(report.by_group["attribute"] == "race") & (report.by_group["group"] == "C")]
    assert bool(small["too_small"].iloc[0])
    assert {"auroc", "tpr", "fpr", "ppv", "calibration_gap"} <= set(report.by_group.columns)
    assert {"difference", "ratio", "difference_low", "ratio_high"} <= set(report.gaps.columns)


def test_corrupted_group_is_flagged() -> None:
    y, p, groups = _population()
    rng = np.random.default_rng(1)
    corrupted = y.copy()
    male = (groups["sex"] == "male").to_numpy()
    corrupted[male] = rng.permutation(corrupted[male])  # labels no longer follow the risk in one group
    report = audit(corrupted, p, groups, threshold=0.3, n_boot=25)
    assert not report.passed
    assert any(f.startswith("sex=male: AUROC") for f in report.flags)
    assert not any(f.startswith("sex=female") for f in report.flags)


def test_miscalibrated_group_is_flagged() -> None:
    y, p, groups = _population()
    shifted = p.copy()
    female = (groups["sex"] == "female").to_numpy()
    shifted[female] = np.clip(shifted[female] + 0.15, 0, 1)
    report = audit(y, shifted, groups, threshold=0.3, n_boot=25)
    assert any(f.startswith("sex=female: observed rate") for f in report.flags)


def test_representation() -> None:
    tr = pd.DataFrame({"sex": ["f", "f", "m", "m"]})
    sc = pd.DataFrame({"sex": ["f", "m", "m", "m"]})
    rep = representation(tr, sc).set_index("group")
    assert rep.loc["f", "training_share"] == 0.5 and rep.loc["f", "scored_share"] == 0.25
