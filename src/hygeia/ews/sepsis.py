"""qSOFA and SIRS: criteria counts, scalar and vectorised.

- qSOFA — Singer M, et al. The Third International Consensus Definitions for Sepsis and Septic
  Shock (Sepsis-3). JAMA 2016;315(8):801-810; Seymour CW, et al. JAMA 2016;315(8):762-774.
  One point each: respiratory rate >= 22/min, altered mentation, systolic BP <= 100 mmHg;
  positive at >= 2. Altered mentation is taken as GCS < 15 (the Sepsis-3 qSOFA box); Seymour's
  derivation used GCS <= 13, which a site can choose with ``QsofaConfig(gcs_below=14)``.
- SIRS — Bone RC, et al. ACCP/SCCM Consensus Conference. Chest 1992;101(6):1644-55.
  One point each: temperature > 38 °C or < 36 °C; heart rate > 90/min; respiratory rate > 20/min
  or PaCO2 < 32 mmHg; WBC > 12 or < 4 x10^9/L or > 10 % bands. SIRS at >= 2 criteria.

A criterion whose inputs are all absent is *missing* — reported, not counted as normal; the score
is then the count of criteria met among those assessed (a lower bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

QSOFA_SOURCE = "Singer M, et al. Sepsis-3. JAMA 2016;315(8):801-810 (qSOFA)"
SIRS_SOURCE = "Bone RC, et al. ACCP/SCCM Consensus Conference. Chest 1992;101(6):1644-55 (SIRS)"


@dataclass(frozen=True)
class CriteriaResult:
    """A count of criteria met, which were met, and which could not be assessed."""

    name: str
    score: int
    positive: bool
    met: dict[str, bool]
    missing: tuple[str, ...]
    source: str

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class QsofaConfig:
    rr_at_least: float = 22.0
    sbp_at_most: float = 100.0
    gcs_below: float = 15.0  # altered mentation: GCS < 15 (Sepsis-3); Seymour derivation: GCS <= 13
    positive_at: int = 2


def _present(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def _result(name: str, met: dict[str, bool | None], positive_at: int, source: str) -> CriteriaResult:
    assessed = {k: bool(v) for k, v in met.items() if v is not None}
    score = sum(assessed.values())
    missing = tuple(k for k, v in met.items() if v is None)
    return CriteriaResult(name, score, score >= positive_at, assessed, missing, source)


def score_qsofa(
    rr: float | None = None,
    sbp: float | None = None,
    altered_mentation: bool | None = None,
    gcs: float | None = None,
    config: QsofaConfig = QsofaConfig(),
) -> CriteriaResult:
    """qSOFA from respiratory rate, systolic BP and altered mentation (or GCS when mentation is not given)."""
    mentation = altered_mentation
    if mentation is None and gcs is not None and _present(gcs):
        mentation = gcs < config.gcs_below
    met: dict[str, bool | None] = {
        "respiratory_rate": rr >= config.rr_at_least if rr is not None and _present(rr) else None,
        "altered_mentation": mentation,
        "systolic_bp": sbp <= config.sbp_at_most if sbp is not None and _present(sbp) else None,
    }
    return _result("qSOFA", met, config.positive_at, QSOFA_SOURCE)


def score_sirs(
    temp_c: float | None = None,
    heart_rate: float | None = None,
    rr: float | None = None,
    paco2_mmhg: float | None = None,
    wbc_10e9_l: float | None = None,
    bands_pct: float | None = None,
) -> CriteriaResult:
    """SIRS criteria (Bone 1992), strict inequalities as published."""

    def any_of(*tests: bool | None) -> bool | None:
        known = [t for t in tests if t is not None]
        return any(known) if known else None

    def cmp(x: float | None, test: bool) -> bool | None:
        return test if x is not None and _present(x) else None

    t, h, r, p, w, b = temp_c, heart_rate, rr, paco2_mmhg, wbc_10e9_l, bands_pct
    met: dict[str, bool | None] = {
        "temperature": cmp(t, t is not None and (t > 38 or t < 36)),
        "heart_rate": cmp(h, h is not None and h > 90),
        "respiratory": any_of(cmp(r, r is not None and r > 20), cmp(p, p is not None and p < 32)),
        "white_cells": any_of(cmp(w, w is not None and (w > 12 or w < 4)), cmp(b, b is not None and b > 10)),
    }
    return _result("SIRS", met, 2, SIRS_SOURCE)


def qsofa_arrays(
    rr: npt.ArrayLike,
    sbp: npt.ArrayLike,
    altered_mentation: npt.ArrayLike,
    config: QsofaConfig = QsofaConfig(),
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Vectorised qSOFA: (score, number of criteria missing). Inputs float, NaN for missing; mentation 1/0."""
    r = np.asarray(rr, dtype=np.float64)
    s = np.asarray(sbp, dtype=np.float64)
    m = np.asarray(altered_mentation, dtype=np.float64)
    score = (r >= config.rr_at_least).astype(np.int8) + (s <= config.sbp_at_most) + (m == 1)
    missing = np.isnan(r).astype(np.int8) + np.isnan(s) + np.isnan(m)
    return score.astype(np.int8), missing.astype(np.int8)
