"""Plot builders produce the expected traces and self-contained HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.operations.beds import WardStatus
from hygeia.operations.forecast import Forecast
from hygeia.operations.plots import (
    PlotInputError,
    bed_board,
    delay_curve,
    forecast_fan,
    roster_grid,
    save,
    theatre_gantt,
)
from hygeia.operations.theatre.model import Admission, Instance, Patient, Solution


def _forecast() -> Forecast:
    hist = pd.Series(np.arange(30.0), index=pd.date_range("2024-01-01", periods=30), name="W1")
    idx = pd.date_range("2024-01-31", periods=7)
    mean = pd.Series(30.0, index=idx)
    return Forecast("W1", "AutoETS", hist, mean, {80: mean - 2, 95: mean - 4}, {80: mean + 2, 95: mean + 4})


def test_fan_chart_has_bands_history_and_mean(tmp_path: Path) -> None:
    fig = forecast_fan(_forecast())
    names = [t.name for t in fig.data]
    assert names == ["95 % interval", "80 % interval", "observed", "forecast (AutoETS)"]
    files = save(fig, tmp_path / "fan")
    html = files[0].read_text()
    assert files[0].suffix == ".html" and "plotly.js" in html.lower() and len(html) > 1_000_000  # inlined


def test_bed_board_stacks_occupied_and_free() -> None:
    fig = bed_board([WardStatus("W1", 10, 7, 2, 3), WardStatus("W2", None, 4, 0, 1)])
    assert list(fig.data[0].y) == [7, 4] and list(fig.data[1].y) == [3, 0]


def test_theatre_gantt_stacks_surgeries() -> None:
    pts = tuple(Patient(f"p{i}", True, "A", 0, 1, 0, 1, 60 + 30 * i, 0, frozenset(), (1, 1, 1), (0, 0, 0))
                for i in range(3))
    inst = Instance("toy", 2, ("e", "l", "n"), ("a",), 1, {}, pts, (), (), ("r0",), (3,), ("t0",), ((480, 480),),
                    ("s0",), ((480, 480),))
    sol = Solution((Admission(0, 0, 0), Admission(0, 0, 0), None), ())
    fig = theatre_gantt(inst, sol)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [list(b.base) for b in bars] == [[0], [60]] and [list(b.x) for b in bars] == [[60], [90]]


def test_roster_grid_and_errors() -> None:
    fig = roster_grid("employee,0,1,2\nA,D,,L\nB,,D,D\n")
    assert list(fig.data[0].y) == ["A", "B"] and list(fig.data[0].z[0]) == [1, 0, 2]
    with pytest.raises(PlotInputError, match="line 3"):
        roster_grid("employee,0,1\nA,D,\nB,D\n", "r.csv")
    with pytest.raises(PlotInputError, match="line 1"):
        roster_grid("name,0\n")


def test_delay_curve_published_vs_reproduced() -> None:
    fig = delay_curve({9: 0.18, 10: 0.13}, {9: 0.18, 10: 0.13})
    assert [t.name for t in fig.data] == ["reproduced", "published"]
