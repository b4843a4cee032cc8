"""Plots an operations manager reads at a glance (plotly): forecast fan chart, bed board, theatre Gantt
chart, roster grid, and the simulation's probability-of-delay-versus-beds curve.

Builders are pure (data in, ``plotly.graph_objects.Figure`` out); :func:`save` writes a self-contained
HTML file (plotly.js inlined) and, when a static-image engine (kaleido + Chrome) works, a PNG.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import plotly.graph_objects as go

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.operations.beds import WardStatus
from hygeia.operations.forecast import Forecast
from hygeia.operations.theatre.model import Instance, Solution


class PlotInputError(ValueError):
    """Input that cannot be drawn (names the file/line/field)."""


def _layout(fig: go.Figure, title: str, **kwargs: object) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", **kwargs)
    fig.add_annotation(text=DECISION_SUPPORT_NOTICE, xref="paper", yref="paper", x=0, y=-0.18, showarrow=False,
                       font={"size": 9, "color": "grey"}, align="left")
    return fig


def forecast_fan(fc: Forecast, history_days: int = 56) -> go.Figure:
    """History, forecast mean and 80 %/95 % prediction bands."""
    fig = go.Figure()
    hist = fc.history.iloc[-history_days:]
    for level, colour in ((95, "rgba(31,119,180,0.15)"), (80, "rgba(31,119,180,0.3)")):
        x = list(fc.mean.index) + list(fc.mean.index[::-1])
        y = list(fc.upper[level]) + list(fc.lower[level][::-1])
        fig.add_trace(go.Scatter(x=x, y=y, fill="toself", fillcolor=colour, line={"width": 0},
                                 name=f"{level} % interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=hist.index, y=hist.values, mode="lines", name="observed", line={"color": "black"}))
    fig.add_trace(go.Scatter(x=fc.mean.index, y=fc.mean.values, mode="lines", name=f"forecast ({fc.model})",
                             line={"color": "rgb(31,119,180)"}))
    return _layout(fig, f"{fc.series}: forecast", xaxis_title="date", yaxis_title="count per day")


def bed_board(board: Sequence[WardStatus]) -> go.Figure:
    """Occupied and free beds per ward, with pending admissions and expected discharges."""
    wards = [w.ward for w in board]
    fig = go.Figure([
        go.Bar(x=wards, y=[w.occupied for w in board], name="occupied", marker_color="indianred"),
        go.Bar(x=wards, y=[max(0, w.free or 0) for w in board], name="free", marker_color="seagreen"),
        go.Scatter(x=wards, y=[w.pending_admissions for w in board], mode="markers", name="pending admissions",
                   marker={"symbol": "triangle-up", "size": 12, "color": "darkorange"}),
        go.Scatter(x=wards, y=[w.expected_discharges for w in board], mode="markers", name="expected discharges",
                   marker={"symbol": "triangle-down", "size": 12, "color": "royalblue"}),
    ])
    return _layout(fig, "Bed board", barmode="stack", yaxis_title="beds")


def theatre_gantt(inst: Instance, sol: Solution) -> go.Figure:
    """One row per theatre-day; each admitted patient's surgery as a bar (minutes, in list order),
    coloured by surgeon, with the theatre's capacity marked."""
    fig = go.Figure()
    used: dict[tuple[int, int], int] = {}
    shown: set[int] = set()
    for p, a in zip(inst.patients, sol.admissions, strict=True):
        if a is None:
            continue
        row = f"{inst.theatre_ids[a.theatre]} · day {a.day}"
        base = used.get((a.theatre, a.day), 0)
        used[(a.theatre, a.day)] = base + p.duration
        fig.add_trace(go.Bar(y=[row], x=[p.duration], base=[base], orientation="h",
                             name=inst.surgeon_ids[p.surgeon], legendgroup=inst.surgeon_ids[p.surgeon],
                             showlegend=p.surgeon not in shown, hovertext=f"{p.id} ({p.duration} min)",
                             marker_color=f"hsl({(p.surgeon * 67) % 360},60%,55%)"))
        shown.add(p.surgeon)
    for (t, d), _ in sorted(used.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row = f"{inst.theatre_ids[t]} · day {d}"
        fig.add_trace(go.Scatter(y=[row], x=[inst.theatre_availability[t][d]], mode="markers", showlegend=False,
                                 marker={"symbol": "line-ns-open", "size": 16, "color": "black"},
                                 hovertext="capacity"))
    rows = [f"{inst.theatre_ids[t]} · day {d}" for (t, d) in sorted(used, key=lambda k: (k[1], k[0]))]
    return _layout(fig, f"{inst.name}: theatre schedule", xaxis_title="minutes",
                   yaxis={"categoryorder": "array", "categoryarray": rows[::-1]}, barmode="overlay")


def roster_grid(roster_csv: str, source: str = "roster") -> go.Figure:
    """Employees × days grid of shift ids from the roster CSV (``employee,0,1,…``; empty = off)."""
    rows = list(csv.reader(io.StringIO(roster_csv)))
    if len(rows) < 2 or not rows[0] or rows[0][0] != "employee":
        raise PlotInputError(f"{source}: line 1 must be the header 'employee,0,1,…'")
    days = rows[0][1:]
    names, grid = [], []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(days) + 1:
            raise PlotInputError(f"{source}: line {i} has {len(row) - 1} days, header has {len(days)}")
        names.append(row[0])
        grid.append(row[1:])
    shifts = sorted({s for r in grid for s in r if s})
    code = {s: i + 1 for i, s in enumerate(shifts)}
    fig = go.Figure(go.Heatmap(z=[[code.get(s, 0) for s in r] for r in grid], x=days, y=names,
                               text=grid, texttemplate="%{text}", showscale=False, colorscale="Viridis"))
    return _layout(fig, f"{source}: roster ({', '.join(shifts) or 'no shifts'}; blank = off)",
                   xaxis_title="day", yaxis={"autorange": "reversed"})


def delay_curve(reproduced: Mapping[int, float], published: Mapping[int, float] | None = None,
                unit: str = "ASU") -> go.Figure:
    """Probability of delay by number of beds: simulation vs published (Monks et al. 2016)."""
    beds = sorted(reproduced)
    fig = go.Figure(go.Scatter(x=beds, y=[reproduced[b] for b in beds], mode="lines+markers", name="reproduced"))
    if published:
        pb = sorted(published)
        fig.add_trace(go.Scatter(x=pb, y=[published[b] for b in pb], mode="markers", name="published",
                                 marker={"symbol": "x", "size": 10}))
    return _layout(fig, f"{unit}: probability of delay vs beds", xaxis_title="beds", yaxis_title="P(delay)")


def save(fig: go.Figure, stem: Path, png: bool = True) -> list[Path]:
    """Write ``stem.html`` (plotly.js inlined) and, if possible, ``stem.png``; returns the files written."""
    html = stem.with_suffix(".html")
    fig.write_html(html, include_plotlyjs=True, full_html=True)
    written = [html]
    if png:
        try:
            fig.write_image(stem.with_suffix(".png"))
            written.append(stem.with_suffix(".png"))
        except Exception:  # kaleido missing or without Chrome: HTML is the guaranteed output
            pass
    return written
