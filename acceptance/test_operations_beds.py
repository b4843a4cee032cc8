"""Erlang B/C against the reference table, and the Monks et al. (2016) stroke unit reproduction."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hygeia.operations.queueing import loss_system
from hygeia.operations.simulation import SimulationConfig, parse_stroke_parameters, simulate_stroke_pathway


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_erlang_reference_values(reference: Callable[..., Path]) -> None:
    path = reference("ops", "beds", "erlang_reference_values.csv")
    rows = list(csv.DictReader(path.open()))
    assert rows
    for row in rows:
        got = loss_system(float(row["offered_load_erlang"]), int(row["servers_beds"]))
        where = f"{path.name}: E={row['offered_load_erlang']} m={row['servers_beds']}"
        for column, value in (
            ("erlang_B_blocking", got.blocking),
            ("mean_occupancy_MMcc", got.mean_occupancy),
            ("occupancy_fraction_MMcc", got.occupancy_fraction),
        ):
            assert f"{value:.{_decimals(row[column])}f}" == row[column], f"{where} {column}"
        expected_c = row["erlang_C_prob_wait"]
        if expected_c.startswith("unstable"):
            assert got.prob_wait is None, where
        else:
            assert got.prob_wait is not None, where
            assert f"{got.prob_wait:.{_decimals(expected_c)}f}" == expected_c, where


def test_monks2016_probability_of_delay(reference: Callable[..., Path]) -> None:
    """Published Table 2 (current admissions): P(delay) by ASU beds, within ±0.02.

    Run length as pydesrap_stroke: 3-year warm-up, 5-year collection, 150 seeded replications,
    daily audit (about 25 s on one core).
    """
    folder = reference("ops", "beds", "monks2016_stroke")
    params = parse_stroke_parameters(json.loads((folder / "parameters.json").read_text()))
    result = simulate_stroke_pathway(params, SimulationConfig(replications=150, seed=2016))
    published = [r for r in csv.DictReader((folder / "table2.csv").open()) if r["unit"] == "asu"]
    checked = 0
    for row in published:
        beds = int(row["beds"])
        if 9 <= beds <= 14:
            assert result["asu"].prob_delay(beds) == pytest.approx(float(row["prob_delay_current"]), abs=0.02), beds
            checked += 1
    assert checked == 6
