"""Plotly figures as plain dicts (``{"data": [...], "layout": {...}}``), rendered in the browser by the
plotly.js that ships in plotly's wheel. Building dicts rather than ``go.Figure`` keeps pages fast.

NEWS2 bands (RCP 2017, chart 3): 0-4 low, 5-6 medium, 7+ high clinical risk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.web.clinical import News2Point

Figure = dict[str, Any]

NEWS2_BANDS = ((0, 4.5, "rgba(46,160,67,0.12)", "low"), (4.5, 6.5, "rgba(255,165,0,0.18)", "medium"),
               (6.5, 20, "rgba(220,53,69,0.16)", "high"))
VITAL_PANELS = (("heart_rate", "Pulse /min"), ("respiratory_rate", "Resp. rate /min"),
                ("systolic_bp", "Systolic BP mmHg"), ("spo2", "SpO₂ %"), ("temperature", "Temp °C"))


def _iso(t: Any) -> str:
    return pd.Timestamp(t).isoformat() if t is not None else ""


def _base(title: str, height: int) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": 14}}, "height": height, "margin": {"l": 60, "r": 20, "t": 40,
            "b": 40}, "template": "plotly_white", "showlegend": False, "hovermode": "closest",
            "paper_bgcolor": "white", "plot_bgcolor": "white"}


def vitals_timeline(news2: Sequence[News2Point], vitals: pd.DataFrame, start: datetime, end: datetime) -> Figure:
    """Stacked panels sharing the time axis: NEWS2 with its risk bands, then each vital sign."""
    panels = 1 + len(VITAL_PANELS)
    gap = 0.02
    height = (1 - gap * (panels - 1)) / panels
    layout = _base("NEWS2 and vital signs", 120 * panels + 80)
    data: list[dict[str, Any]] = []
    shapes = []
    for i in range(panels):
        top = 1 - i * (height + gap)
        axis = "yaxis" if i == 0 else f"yaxis{i + 1}"
        layout[axis] = {"domain": [top - height, top], "zeroline": False, "title": {"font": {"size": 10}}}
    layout["xaxis"] = {"anchor": f"y{panels}", "type": "date", "range": [_iso(start), _iso(end)]}
    for i in range(2, panels + 1):
        data.append({"type": "scatter", "x": [], "y": [], "xaxis": "x", "yaxis": f"y{i}", "hoverinfo": "skip"})
    layout["yaxis"]["title"]["text"] = "NEWS2"
    layout["yaxis"]["range"] = [0, max(10, max((p.total for p in news2), default=0) + 1)]
    for lo, hi, colour, _ in NEWS2_BANDS:
        shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": lo, "y1": hi,
                       "fillcolor": colour, "line": {"width": 0}, "layer": "below"})
    data.append({"type": "scatter", "mode": "lines+markers", "name": "NEWS2", "x": [_iso(p.time) for p in news2],
                 "y": [p.total for p in news2], "line": {"shape": "hv", "color": "#222"},
                 "marker": {"size": 5, "color": ["#222" if p.complete else "#999" for p in news2]},
                 "hovertemplate": "NEWS2 %{y}<br>%{x}<extra></extra>", "xaxis": "x", "yaxis": "y"})
    for i, (name, label) in enumerate(VITAL_PANELS, start=2):
        axis = f"yaxis{i}"
        layout[axis]["title"]["text"] = label
        rows = vitals[vitals["name"] == name]
        data.append({"type": "scatter", "mode": "lines+markers", "name": label,
                     "x": [_iso(t) for t in rows["time"]],
                     "y": [None if pd.isna(v) else float(v) for v in rows["value"]],
                     "marker": {"size": 4}, "line": {"width": 1.5}, "xaxis": "x", "yaxis": f"y{i}",
                     "hovertemplate": f"{label} %{{y}}<br>%{{x}}<extra></extra>"})
    layout["shapes"] = shapes
    return {"data": data, "layout": layout}


def labs_timeline(labs: pd.DataFrame, start: datetime, end: datetime, limit: int = 6) -> Figure | None:
    numeric = labs[labs["value"].notna()]
    if numeric.empty:
        return None
    names = list(numeric["name"].value_counts().index[:limit])
    n = len(names)
    gap = 0.04
    height = (1 - gap * (n - 1)) / n
    layout = _base("Laboratory results", 110 * n + 80)
    data = []
    for i, name in enumerate(names):
        rows = numeric[numeric["name"] == name]
        unit = next((u for u in rows["unit"] if isinstance(u, str)), "")
        display = next((d for d in rows["display"] if isinstance(d, str)), str(name))
        top = 1 - i * (height + gap)
        short = str(name).replace("_", " ") if str(name) != str(display) else str(display)[:12]
        layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = {
            "domain": [top - height, top], "title": {"text": f"{short}<br>{unit}", "font": {"size": 10}}}
        data.append({"type": "scatter", "mode": "lines+markers", "x": [_iso(t) for t in rows["time"]],
                     "y": [float(v) for v in rows["value"]], "xaxis": "x", "yaxis": "y" if i == 0 else f"y{i + 1}",
                     "hovertemplate": f"{display} %{{y}} {unit}<br>%{{x}}<extra></extra>"})
    layout["xaxis"] = {"anchor": f"y{n}" if n > 1 else "y", "type": "date", "range": [_iso(start), _iso(end)]}
    return {"data": data, "layout": layout}


def reliability(bins: Sequence[dict[str, Any]], title: str) -> Figure:
    """Reliability diagram (confidence vs accuracy per bin) from an imaging model card."""
    data = [
        {"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "line": {"dash": "dot", "color": "#999"},
         "name": "perfect calibration"},
        {"type": "scatter", "mode": "lines+markers", "name": "model", "x": [b.get("confidence") for b in bins],
         "y": [b.get("accuracy") for b in bins], "text": [f"n = {b.get('n')}" for b in bins],
         "marker": {"size": [6 + 2 * math.sqrt(float(b.get("n") or 0)) for b in bins]}},
    ]
    layout = _base(title, 360)
    layout.update(showlegend=True, xaxis={"title": {"text": "confidence"}, "range": [0, 1]},
                  yaxis={"title": {"text": "accuracy"}, "range": [0, 1.05]})
    return {"data": data, "layout": layout}


def metric_bars(rows: Sequence[tuple[str, float, float, float]], title: str, axis: str) -> Figure:
    """One bar per (name, value, low, high) with its 95 % CI."""
    data = [{"type": "bar", "x": [r[0] for r in rows], "y": [r[1] for r in rows],
             "error_y": {"type": "data", "symmetric": False, "array": [r[3] - r[1] for r in rows],
                         "arrayminus": [r[1] - r[2] for r in rows]}, "marker": {"color": "#3b6ea5"}}]
    layout = _base(title, 320)
    layout.update(yaxis={"title": {"text": axis}, "range": [0, 1]})
    return {"data": data, "layout": layout}


def decision_curve(rows: Sequence[dict[str, Any]], title: str) -> Figure:
    x = [r.get("threshold") for r in rows]
    data = [{"type": "scatter", "mode": "lines", "name": name, "x": x, "y": [r.get(key) for r in rows]}
            for key, name in (("model", "model"), ("treat_all", "treat all"), ("treat_none", "treat none"))]
    layout = _base(title, 340)
    layout.update(showlegend=True, xaxis={"title": {"text": "threshold probability"}},
                  yaxis={"title": {"text": "net benefit"}})
    return {"data": data, "layout": layout}


def subgroup_chart(groups: Sequence[dict[str, Any]], title: str, metric: str = "auroc") -> Figure:
    names = [f"{g.get('attribute', '')}: {g.get('group', '')}" for g in groups]
    vals = [g.get(metric) for g in groups]
    lows = [g.get(f"{metric}_low", v) for g, v in zip(groups, vals, strict=True)]
    highs = [g.get(f"{metric}_high", v) for g, v in zip(groups, vals, strict=True)]
    rows = [(n, float(v), float(lo if lo is not None else v), float(hi if hi is not None else v))
            for n, v, lo, hi in zip(names, vals, lows, highs, strict=True) if isinstance(v, int | float)]
    return metric_bars(rows, title, metric.upper())


def feedback_bars(counts: Sequence[tuple[str, int, int]]) -> Figure:
    """CDS card feedback per service: accepted vs overridden."""
    data = [{"type": "bar", "name": "accepted", "x": [c[0] for c in counts], "y": [c[1] for c in counts],
             "marker": {"color": "#2e8b57"}},
            {"type": "bar", "name": "overridden", "x": [c[0] for c in counts], "y": [c[2] for c in counts],
             "marker": {"color": "#c0392b"}}]
    layout = _base("CDS card feedback", 300)
    layout.update(barmode="stack", showlegend=True)
    return {"data": data, "layout": layout}


def note() -> str:
    return DECISION_SUPPORT_NOTICE
