"""Model evaluation for governance: discrimination, calibration and decision curves with bootstrap
confidence intervals, and model cards (Markdown and self-contained HTML with plots).

- AUROC (Mann-Whitney U, equal to scikit-learn's ``roc_auc_score``), AUPRC (scikit-learn's average
  precision), Brier score (mean squared error of the probability).
- Expected calibration error: mean |observed − predicted| over equal-width bins weighted by size
  (Naeini et al., AAAI 2015).
- Decision curve analysis: net benefit = TP/n − FP/n · t/(1−t) at threshold probability t, against
  treating all and treating none (Vickers & Elkin, Med Decis Making 2006;26:565-574).
- Percentile bootstrap CIs (Efron & Tibshirani 1993), resampling patients with replacement.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score

from hygeia import DECISION_SUPPORT_NOTICE

MetricFn = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % bootstrap interval."""

    value: float
    low: float
    high: float

    def text(self, digits: int = 3) -> str:
        return f"{self.value:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f})"

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def _safe(fn: MetricFn) -> MetricFn:
    def wrapped(y: np.ndarray, p: np.ndarray) -> float:
        if len(y) == 0 or y.min() == y.max():
            return math.nan
        return float(fn(y, p))

    return wrapped


def _mann_whitney_auroc(y: np.ndarray, p: np.ndarray) -> float:
    """AUROC as the Mann-Whitney U statistic (ties count one half): equal to ``roc_auc_score`` and
    much cheaper inside bootstrap loops (no input validation)."""
    ranks = rankdata(p)
    pos = np.asarray(y) == 1
    n1 = int(pos.sum())
    n0 = len(pos) - n1
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    return _safe(_mann_whitney_auroc)(y, p)


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    return _safe(average_precision_score)(y, p)


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y)) ** 2)) if len(y) else math.nan


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-width bins of predicted risk: n, mean predicted, observed rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append(
                {
                    "bin": b,
                    "low": edges[b],
                    "high": edges[b + 1],
                    "n": int(m.sum()),
                    "predicted": float(p[m].mean()),
                    "observed": float(y[m].mean()),
                }
            )
    return pd.DataFrame(rows, columns=["bin", "low", "high", "n", "predicted", "observed"])


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Size-weighted mean |observed − mean predicted| over equal-width bins (as ``calibration_table``)."""
    if len(y) == 0:
        return math.nan
    idx = np.clip(np.digitize(p, np.linspace(0.0, 1.0, bins + 1)[1:-1]), 0, bins - 1)
    gap = np.bincount(idx, weights=np.asarray(y, dtype=float), minlength=bins) - np.bincount(
        idx, weights=np.asarray(p, dtype=float), minlength=bins)
    return float(np.abs(gap).sum() / len(y))


def net_benefit(y: np.ndarray, p: np.ndarray, threshold: float) -> float:
    n = len(y)
    if n == 0:
        return math.nan
    treat = p >= threshold
    tp = float((treat & (y == 1)).sum())
    fp = float((treat & (y == 0)).sum())
    return tp / n - fp / n * threshold / (1 - threshold)


def bootstrap(
    metric: MetricFn, y: np.ndarray, p: np.ndarray, n_boot: int = 200, seed: int = 0, alpha: float = 0.05
) -> Estimate:
    """``metric`` with a percentile bootstrap CI (resampling rows; NaN replicates dropped)."""
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    point = metric(y, p)
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        reps.append(metric(y[i], p[i]))
    arr = np.asarray([r for r in reps if r == r])
    if len(arr) == 0:
        return Estimate(point, math.nan, math.nan)
    return Estimate(point, float(np.quantile(arr, alpha / 2)), float(np.quantile(arr, 1 - alpha / 2)))


DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(t, 2) for t in np.arange(0.02, 0.62, 0.02))


@dataclass(frozen=True)
class Evaluation:
    """Everything the governance board sees about a model's performance on one data set."""

    n: int
    events: int
    metrics: dict[str, Estimate]
    calibration: pd.DataFrame
    decision_curve: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "events": self.events}
        for name, est in self.metrics.items():
            out[name] = est.value
            out[f"{name}_ci"] = [est.low, est.high]
        out["calibration_curve"] = self.calibration.to_dict(orient="records")
        out["decision_curve"] = self.decision_curve.to_dict(orient="records")
        out.update(self.extra)
        return out


def _net_benefit_at(threshold: float) -> MetricFn:
    def fn(y: np.ndarray, p: np.ndarray) -> float:
        return net_benefit(y, p, threshold)

    return fn


def decision_curve(
    y: np.ndarray, p: np.ndarray, thresholds: Sequence[float] = DEFAULT_THRESHOLDS, n_boot: int = 100, seed: int = 0
) -> pd.DataFrame:
    """Net benefit of the model, treat-all and treat-none at each threshold, model with a bootstrap CI."""
    prevalence = float(np.mean(y)) if len(y) else math.nan
    rows = []
    for t in thresholds:
        est = bootstrap(_net_benefit_at(t), y, p, n_boot, seed)
        rows.append(
            {
                "threshold": t,
                "model": est.value,
                "model_low": est.low,
                "model_high": est.high,
                "treat_all": prevalence - (1 - prevalence) * t / (1 - t),
                "treat_none": 0.0,
            }
        )
    return pd.DataFrame(rows)


def evaluate(y: np.ndarray, p: np.ndarray, n_boot: int = 200, seed: int = 0, bins: int = 10) -> Evaluation:
    """AUROC, AUPRC, Brier, ECE (each with a bootstrap CI), the calibration curve and the decision curve."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    if len(y) and (np.nanmin(p) < 0 or np.nanmax(p) > 1 or np.isnan(p).any()):
        raise ValueError("predictions must be probabilities in [0, 1] without NaN")
    metrics = {
        "auroc": bootstrap(auroc, y, p, n_boot, seed),
        "auprc": bootstrap(auprc, y, p, n_boot, seed),
        "brier": bootstrap(brier, y, p, n_boot, seed),
        "ece": bootstrap(lambda a, b: ece(a, b, bins), y, p, n_boot, seed),
    }
    return Evaluation(
        len(y),
        int(y.sum()),
        metrics,
        calibration_table(y, p, bins),
        decision_curve(y, p, n_boot=max(n_boot // 2, 20), seed=seed),
    )


# -- model cards -------------------------------------------------------------------------------------
def _md_table(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if v != v else format(v, floatfmt))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def metrics_frame(evaluation: Evaluation) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"metric": k, "value": e.value, "95% CI low": e.low, "95% CI high": e.high}
            for k, e in evaluation.metrics.items()
        ]
    )


@dataclass(frozen=True)
class CardContent:
    """What a model card says. Tables are pandas frames; ``sections`` adds free Markdown sections."""

    title: str
    metadata: dict[str, Any]
    evaluation: Evaluation
    fairness: pd.DataFrame | None = None
    fairness_flags: Sequence[str] = ()
    importance: pd.DataFrame | None = None
    representation: pd.DataFrame | None = None
    sections: dict[str, str] = field(default_factory=dict)


def card_markdown(card: CardContent) -> str:
    """The model card as Markdown."""
    m = card.metadata
    parts = [f"# Model card: {card.title}", "", f"_{DECISION_SUPPORT_NOTICE}_", ""]
    facts = [
        ("Model version", m.get("version")),
        ("Task", m.get("task")),
        ("Model", m.get("model")),
        ("Training date", m.get("trained_at")),
        ("Code version", m.get("code_version")),
        ("Training data", m.get("training_data")),
        ("Intended use", m.get("intended_use")),
    ]
    parts += [f"- **{k}**: {v}" for k, v in facts if v is not None]
    for title in ("Cohort", "Features", "Outcome"):
        if m.get(title.lower()):
            parts += ["", f"## {title}", "", str(m[title.lower()])]
    e = card.evaluation
    parts += [
        "",
        "## Performance",
        "",
        f"n = {e.n}, events = {e.events}. 95 % bootstrap intervals.",
        "",
        _md_table(metrics_frame(e)),
        "",
        "### Calibration",
        "",
        _md_table(e.calibration),
        "",
        "### Decision curve (net benefit)",
        "",
        _md_table(
            e.decision_curve[["threshold", "model", "model_low", "model_high", "treat_all", "treat_none"]].iloc[::3]
        ),
    ]
    if card.representation is not None:
        parts += ["", "## Representation: training data vs population scored", "", _md_table(card.representation)]
    if card.fairness is not None:
        parts += ["", "## Subgroup audit", "", _md_table(card.fairness)]
        parts += ["", "**Flags:**" if card.fairness_flags else "No group flagged."]
        parts += [f"- {f}" for f in card.fairness_flags]
    if card.importance is not None:
        parts += ["", "## Global importance (mean |SHAP|)", "", _md_table(card.importance.head(20))]
    for title, text in card.sections.items():
        parts += ["", f"## {title}", "", text]
    return "\n".join(parts) + "\n"


def _figures(card: CardContent) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go

    e = card.evaluation
    figs: list[tuple[str, Any]] = []
    cal = go.Figure()
    cal.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"}))
    cal.add_trace(
        go.Scatter(
            x=e.calibration["predicted"],
            y=e.calibration["observed"],
            mode="lines+markers",
            name="model",
            text=[f"n={n}" for n in e.calibration["n"]],
        )
    )
    cal.update_layout(title="Calibration", xaxis_title="predicted risk", yaxis_title="observed rate", height=380)
    figs.append(("Calibration curve", cal))
    dc = e.decision_curve
    dca = go.Figure()
    dca.add_trace(go.Scatter(x=dc["threshold"], y=dc["model_high"], mode="lines", line={"width": 0}, showlegend=False))
    dca.add_trace(
        go.Scatter(
            x=dc["threshold"], y=dc["model_low"], mode="lines", line={"width": 0}, fill="tonexty", name="model 95% CI"
        )
    )
    dca.add_trace(go.Scatter(x=dc["threshold"], y=dc["model"], mode="lines", name="model"))
    dca.add_trace(go.Scatter(x=dc["threshold"], y=dc["treat_all"], mode="lines", name="treat all"))
    dca.add_trace(go.Scatter(x=dc["threshold"], y=dc["treat_none"], mode="lines", name="treat none"))
    top = float(np.nanmax(dc[["model_high", "treat_all"]].to_numpy())) if len(dc) else 1.0
    dca.update_layout(
        title="Decision curve",
        xaxis_title="threshold probability",
        yaxis_title="net benefit",
        yaxis_range=[-0.05, max(top, 0.05) * 1.1],
        height=380,
    )
    figs.append(("Decision curve", dca))
    if card.representation is not None and len(card.representation):
        r = card.representation
        rep = go.Figure()
        labels = [f"{a}={g}" for a, g in zip(r["attribute"], r["group"], strict=True)]
        rep.add_trace(go.Bar(x=labels, y=r["training_share"], name="training"))
        rep.add_trace(go.Bar(x=labels, y=r["scored_share"], name="population scored"))
        rep.update_layout(title="Representation of groups", yaxis_title="share", barmode="group", height=380)
        figs.append(("Representation", rep))
    if card.fairness is not None and "auroc" in card.fairness:
        f = card.fairness
        fa = go.Figure()
        fa.add_trace(
            go.Bar(
                x=[f"{a}={g}" for a, g in zip(f["attribute"], f["group"], strict=True)],
                y=f["auroc"],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (f["auroc_high"] - f["auroc"]).to_numpy(),
                    "arrayminus": (f["auroc"] - f["auroc_low"]).to_numpy(),
                },
            )
        )
        fa.update_layout(title="AUROC by group (95% CI)", yaxis_range=[0.4, 1.0], height=380)
        figs.append(("AUROC by group", fa))
    if card.importance is not None and len(card.importance):
        imp = card.importance.head(15).iloc[::-1]
        fi = go.Figure(go.Bar(x=imp["importance"], y=imp["feature"], orientation="h"))
        fi.update_layout(title="Global importance (mean |SHAP|)", height=460, margin={"l": 220})
        figs.append(("Global importance", fi))
    return figs


def _html_table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="", border=0, classes="t")


def card_html(card: CardContent) -> str:
    """The model card as one self-contained HTML page (plotly.js embedded: works offline)."""
    m = card.metadata
    figs = _figures(card)
    body = [
        f"<h1>Model card: {html.escape(card.title)}</h1>",
        f"<p class='notice'><em>{html.escape(DECISION_SUPPORT_NOTICE)}</em></p><ul>",
    ]
    for k in ("version", "task", "model", "trained_at", "code_version", "training_data", "intended_use"):
        if m.get(k) is not None:
            body.append(f"<li><b>{html.escape(k.replace('_', ' '))}</b>: {html.escape(str(m[k]))}</li>")
    body.append("</ul>")
    for title in ("cohort", "features", "outcome"):
        if m.get(title):
            body.append(f"<h2>{title.title()}</h2><p>{html.escape(str(m[title]))}</p>")
    e = card.evaluation
    body += [
        f"<h2>Performance</h2><p>n = {e.n}, events = {e.events}; 95 % bootstrap intervals.</p>",
        _html_table(metrics_frame(e)),
    ]
    for i, (title, fig) in enumerate(figs):
        body.append(f"<h3>{html.escape(title)}</h3>")
        body.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    if card.representation is not None:
        body += ["<h2>Representation: training vs population scored</h2>", _html_table(card.representation)]
    if card.fairness is not None:
        body += ["<h2>Subgroup audit</h2>", _html_table(card.fairness)]
        body.append(
            "<ul>" + "".join(f"<li class='flag'>{html.escape(f)}</li>" for f in card.fairness_flags) + "</ul>"
            if card.fairness_flags
            else "<p>No group flagged.</p>"
        )
    if card.importance is not None:
        body += ["<h2>Global importance</h2>", _html_table(card.importance.head(20))]
    for title, text in card.sections.items():
        body.append(f"<h2>{html.escape(title)}</h2><pre>{html.escape(text)}</pre>")
    style = (
        "body{font-family:sans-serif;max-width:1000px;margin:auto}table.t{border-collapse:collapse}"
        "table.t td,table.t th{border:1px solid #ccc;padding:2px 6px}.flag{color:#b00}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(card.title)}</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>"
    )


__all__ = [
    "CardContent",
    "Estimate",
    "Evaluation",
    "auprc",
    "auroc",
    "bootstrap",
    "brier",
    "calibration_table",
    "card_html",
    "card_markdown",
    "decision_curve",
    "ece",
    "evaluate",
    "net_benefit",
]
