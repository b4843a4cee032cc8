"""Classification metrics as MedMNIST computes them, bootstrap CIs and calibration (pure numpy).

AUC: binary ROC AUC (Mann-Whitney U); for more than two classes the one-vs-rest macro average,
as MedMNIST's ``getAUC`` does. ACC: argmax accuracy (binary: probability of class 1 > 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata


def binary_auc(y_true: NDArray[np.integer], score: NDArray[np.floating]) -> float:
    """ROC AUC of ``score`` for ``y_true`` in {0, 1}; ties count one half (rank formulation)."""
    y = np.asarray(y_true).ravel().astype(bool)
    s = np.asarray(score, dtype=float).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc(y_true: NDArray[np.integer], proba: NDArray[np.floating]) -> float:
    """MedMNIST AUC: binary AUC of the class-1 probability, or the macro one-vs-rest AUC."""
    y = np.asarray(y_true).ravel().astype(int)
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"proba must be (n, classes), got shape {p.shape}")
    if p.shape[1] == 2:
        return binary_auc(y, p[:, 1])
    values = [binary_auc(y == k, p[:, k]) for k in range(p.shape[1])]
    return float(np.nanmean(values))


def accuracy(y_true: NDArray[np.integer], proba: NDArray[np.floating]) -> float:
    y = np.asarray(y_true).ravel().astype(int)
    return float(np.mean(np.asarray(proba).argmax(axis=1) == y))


def bootstrap_ci(
    y_true: NDArray[np.integer], proba: NDArray[np.floating], metric: str = "auc", n_boot: int = 500,
    seed: int = 0, level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``metric`` ("auc" or "acc")."""
    fn = auc if metric == "auc" else accuracy
    y = np.asarray(y_true).ravel().astype(int)
    p = np.asarray(proba, dtype=float)
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        value = fn(y[idx], p[idx])
        if not np.isnan(value):
            stats.append(value)
    if not stats:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    return (float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha)))


@dataclass(frozen=True)
class Calibration:
    """Expected calibration error (top-label, equal-width bins), Brier score and reliability table."""

    ece: float
    brier: float
    bins: list[dict[str, float]]


def calibration(y_true: NDArray[np.integer], proba: NDArray[np.floating], n_bins: int = 10) -> Calibration:
    y = np.asarray(y_true).ravel().astype(int)
    p = np.asarray(proba, dtype=float)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    onehot = np.eye(p.shape[1])[y]
    brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    rows = []
    for lo, hi in pairwise(edges):
        sel = (conf > lo) & (conf <= hi)
        if not sel.any():
            continue
        gap = abs(conf[sel].mean() - correct[sel].mean())
        ece += sel.mean() * gap
        rows.append({"lower": float(lo), "upper": float(hi), "n": int(sel.sum()),
                     "confidence": float(conf[sel].mean()), "accuracy": float(correct[sel].mean())})
    return Calibration(ece=float(ece), brier=brier, bins=rows)


def apply_temperature(proba: NDArray[np.floating], temperature: float) -> NDArray[np.float64]:
    """Temperature-scale probabilities: p_k ∝ p_k^(1/T) (T > 1 softens, T < 1 sharpens)."""
    logp = np.log(np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=np.float64)


def fit_temperature(y_true: NDArray[np.integer], proba: NDArray[np.floating]) -> float:
    """Temperature minimising the negative log-likelihood (Guo et al., "On calibration of modern neural
    networks", ICML 2017), by grid then golden-section search over log T in [-3, 3]."""
    y = np.asarray(y_true).ravel().astype(int)

    def nll(log_t: float) -> float:
        p = apply_temperature(proba, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))

    grid = np.linspace(-3, 3, 61)
    best = float(grid[int(np.argmin([nll(g) for g in grid]))])
    lo, hi = best - 0.1, best + 0.1
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))
