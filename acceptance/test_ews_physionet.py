"""PhysioNet/CinC Challenge 2012 set A through the spine: stays scored (NEWS2, qSOFA, SIRS, MEWS) and the
AUROC of the maximum NEWS2 in the first 48 h for in-hospital death, beside the challenge's SAPS-I and
SOFA (Outcomes-a.txt) on the same stays.

The suite scores the first 800 stays (the conversion through FHIR dominates the time); the figures for
all 4,000 stays (NEWS2 0.632, MEWS 0.625, SIRS 0.568, qSOFA 0.542 beside SAPS-I 0.650 and SOFA 0.623)
come from ``score_set`` without a limit and are reported in docs/ews.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from hygeia.ews.physionet import read_outcomes, report, score_set

pytestmark = pytest.mark.slow
SUBSET = 800


def test_saps_and_sofa_baselines_reproduce_on_all_of_set_a(reference: Callable[..., Path]) -> None:
    root = reference("clinical", "physionet-2012")
    outcomes = read_outcomes(root / "Outcomes-a.txt")
    assert len(outcomes) == 4000
    # our reading of the challenge's own SAPS-I and SOFA reproduces the published baselines (-1 = missing)
    for score, published in (("saps_i", 0.650), ("sofa", 0.623)):
        known = [(getattr(o, score), o.death) for o in outcomes.values() if getattr(o, score) is not None]
        assert roc_auc_score([d for _, d in known], [v for v, _ in known]) == pytest.approx(published, abs=0.005)


def test_max_news2_auroc_beside_saps_and_sofa(reference: Callable[..., Path]) -> None:
    root = reference("clinical", "physionet-2012")
    outcomes = read_outcomes(root / "Outcomes-a.txt")
    stays = list(score_set(root / "set-a", limit=SUBSET, workers=2))
    assert len(stays) == SUBSET
    assert all(rid in outcomes for rid, _ in stays)
    rows = {r.score: r for r in report(stays, outcomes)}
    print()
    for r in rows.values():
        print(f"{r.score:<26} n={r.n:>5} deaths={r.deaths:>4} AUROC={r.auroc:.3f}")
    news2 = rows["NEWS2 max (first 48 h)"]
    assert news2.n >= 0.95 * len(stays)  # nearly every stay has something NEWS2 can score
    assert 0.55 < news2.auroc < 1.0  # informative, not inverted
