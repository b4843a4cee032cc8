"""Subgroup audit of a risk model with Fairlearn's ``MetricFrame``: disaggregation kept apart from
the metric, so any metric becomes a subgroup audit.

Per group of each attribute (sex, age band, race/ethnicity, payer...): n, events, AUROC, TPR, FPR,
PPV at the operating threshold, mean predicted vs observed rate (calibration in the large) and ECE,
each with a bootstrap interval (Fairlearn's ``n_boot``/``ci_quantiles``), plus the largest
difference and ratio between groups. A group is flagged when its AUROC is below the other groups'
or its calibration is off, beyond a tolerance *and* beyond chance (the bootstrap interval of the
gap excludes the tolerance); groups with too few patients or events are reported as too small
to judge instead of being flagged or passed (Fairlearn user guide: https://fairlearn.org).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from hygeia.governance.evaluation import auroc, ece

MIN_GROUP_N = 50
MIN_GROUP_EVENTS = 10
AUROC_TOLERANCE = 0.05  # a group's AUROC this far below the population's is a concern
CALIBRATION_TOLERANCE = 0.05  # |observed − mean predicted| in a group beyond this is a concern


def _rate(num: np.ndarray, den: np.ndarray) -> float:
    d = float(den.sum())
    return float(num.sum()) / d if d else math.nan


def _metrics(threshold: float) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    def tpr(y: np.ndarray, p: np.ndarray) -> float:
        return _rate((p >= threshold) & (y == 1), y == 1)

    def fpr(y: np.ndarray, p: np.ndarray) -> float:
        return _rate((p >= threshold) & (y == 0), y == 0)

    def ppv(y: np.ndarray, p: np.ndarray) -> float:
        return _rate((p >= threshold) & (y == 1), p >= threshold)

    def observed(y: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(y)) if len(y) else math.nan

    def predicted(y: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(p)) if len(p) else math.nan

    def calibration_gap(y: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(y) - np.mean(p)) if len(y) else math.nan

    return {
        "auroc": auroc,
        "tpr": tpr,
        "fpr": fpr,
        "ppv": ppv,
        "observed": observed,
        "predicted": predicted,
        "calibration_gap": calibration_gap,
        "ece": lambda y, p: ece(y, p, 5),
    }


@dataclass(frozen=True)
class AuditReport:
    """The audit: one row per (attribute, group), the largest gaps per attribute, and the flags."""

    by_group: pd.DataFrame
    gaps: pd.DataFrame
    flags: list[str] = field(default_factory=list)
    threshold: float = 0.5

    @property
    def passed(self) -> bool:
        return not self.flags

    def to_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "passed": self.passed,
            "flags": list(self.flags),
            "by_group": self.by_group.to_dict(orient="records"),
            "gaps": self.gaps.to_dict(orient="records"),
        }


def _bootstrap(metrics: dict[str, Callable[[np.ndarray, np.ndarray], float]], y: np.ndarray, p: np.ndarray,
               sensitive: np.ndarray, group_names: list[Any], n_boot: int, rng: np.random.Generator) -> _Boot:
    """Replicates (rows) × (group, metric) columns: resampling patients with replacement."""
    reps: list[dict[tuple[Any, str], float]] = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        yb, pb, sb = y[i], p[i], sensitive[i]
        rep: dict[tuple[Any, str], float] = {}
        for g in group_names:
            m = sb == g
            for name, fn in metrics.items():
                rep[(g, name)] = fn(yb[m], pb[m]) if m.any() else np.nan
        reps.append(rep)
    cols = pd.MultiIndex.from_tuples([(g, n) for g in group_names for n in metrics])
    frame = pd.DataFrame(reps, columns=cols)
    return _Boot(frame)


class _Boot:
    """Bootstrap replicates with per-(group, metric) quantiles shaped like MetricFrame.by_group."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def quantile(self, q: float) -> pd.DataFrame:
        return self.frame.quantile(q).unstack()

    def xs(self, name: str, axis: int, level: int) -> pd.DataFrame:
        return pd.DataFrame(self.frame.xs(name, axis="columns", level=level))


def _judge(attribute: str, row: dict[str, Any], attr_rows: list[dict[str, Any]], flags: list[str]) -> None:
    """Flag one group. Discrimination is compared with the other groups of the same attribute: an
    attribute that predicts the outcome (age) lowers every within-group AUROC, so the population's
    AUROC is not the reference."""
    group = row["group"]
    others = [r for r in attr_rows if r["group"] != group and not r["too_small"] and r["auroc"] == r["auroc"]]
    if others:
        weight = sum(int(r["n"]) for r in others)
        reference = sum(float(r["auroc"]) * int(r["n"]) for r in others) / weight
        if float(row["auroc_high"]) < reference - AUROC_TOLERANCE:
            flags.append(f"{attribute}={group}: AUROC {row['auroc']:.3f} (95% CI {row['auroc_low']:.3f}–"
                         f"{row['auroc_high']:.3f}) below the other groups' {reference:.3f}")
    gap_lo, gap_hi = float(row["calibration_gap_low"]), float(row["calibration_gap_high"])
    if gap_lo > CALIBRATION_TOLERANCE or gap_hi < -CALIBRATION_TOLERANCE:
        flags.append(f"{attribute}={group}: observed rate {row['observed']:.3f} vs predicted "
                     f"{row['predicted']:.3f} (gap 95% CI {gap_lo:+.3f} to {gap_hi:+.3f})")


def audit(
    y: np.ndarray, p: np.ndarray, groups: pd.DataFrame, threshold: float, n_boot: int = 100, seed: int = 0
) -> AuditReport:
    """Audit probabilities ``p`` against outcomes ``y`` across each column of ``groups``."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    if len(groups) != len(y):
        raise ValueError(f"groups has {len(groups)} rows but there are {len(y)} outcomes")
    rows: list[dict[str, Any]] = []
    gaps: list[dict[str, object]] = []
    flags: list[str] = []
    metrics = _metrics(threshold)
    rng = np.random.default_rng(seed)
    for attribute in groups.columns:
        sensitive = groups[attribute].astype(str).to_numpy()
        mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=sensitive)
        boot = _bootstrap(metrics, y, p, sensitive, list(mf.by_group.index), n_boot, rng)
        point = mf.by_group
        low, high = boot.quantile(0.025), boot.quantile(0.975)
        for group in point.index:
            mask = sensitive == group
            n, events = int(mask.sum()), int(y[mask].sum())
            small = n < MIN_GROUP_N or events < MIN_GROUP_EVENTS or events == n
            row: dict[str, Any] = {
                "attribute": attribute,
                "group": group,
                "n": n,
                "events": events,
                "share": n / len(y),
                "too_small": small,
            }
            for name in metrics:
                row[name] = float(point.loc[group, name])
                row[f"{name}_low"] = float(low.loc[group, name])
                row[f"{name}_high"] = float(high.loc[group, name])
            rows.append(row)
        attr_rows = [r for r in rows if r["attribute"] == attribute]
        for row in attr_rows:
            if row["too_small"]:
                continue
            _judge(attribute, row, attr_rows, flags)
        judged = [
            g
            for g in point.index
            if not next(r["too_small"] for r in rows if r["attribute"] == attribute and r["group"] == g)
        ]
        for name in ("auroc", "tpr", "fpr", "ppv"):
            per_rep = boot.xs(name, axis=1, level=1)
            diffs = (per_rep.max(axis=1) - per_rep.min(axis=1)).dropna()
            ratios = (per_rep.min(axis=1) / per_rep.max(axis=1)).replace([np.inf, -np.inf], np.nan).dropna()
            diff_lo, diff_hi = (diffs.quantile(0.025), diffs.quantile(0.975)) if len(diffs) else (np.nan, np.nan)
            ratio_lo, ratio_hi = (ratios.quantile(0.025), ratios.quantile(0.975)) if len(ratios) else (np.nan, np.nan)
            gaps.append(
                {
                    "attribute": attribute,
                    "metric": name,
                    "difference": float(mf.difference()[name]),
                    "difference_low": float(diff_lo),
                    "difference_high": float(diff_hi),
                    "ratio": float(mf.ratio()[name]),
                    "ratio_low": float(ratio_lo),
                    "ratio_high": float(ratio_hi),
                    "groups_judged": len(judged),
                }
            )
    return AuditReport(pd.DataFrame(rows), pd.DataFrame(gaps), flags, threshold)


def representation(training: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Share of each group in the training data beside its share in the population scored."""
    rows = []
    for attribute in training.columns:
        tr = training[attribute].astype(str).value_counts(normalize=True)
        sc = (
            scored[attribute].astype(str).value_counts(normalize=True)
            if attribute in scored
            else pd.Series(dtype=float)
        )
        for group in sorted(set(tr.index) | set(sc.index)):
            rows.append(
                {
                    "attribute": attribute,
                    "group": group,
                    "training_share": float(tr.get(group, 0.0)),
                    "scored_share": float(sc.get(group, 0.0)),
                }
            )
    return pd.DataFrame(rows, columns=["attribute", "group", "training_share", "scored_share"])


__all__ = ["AuditReport", "audit", "representation"]
