"""Curtois & Qu: Instance1-6 at the best known (Instance2-4 proved optimal), confirmed by the evaluator."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from hygeia.operations.roster import evaluate_curtois, parse_curtois, solve_curtois


def test_instance1_reaches_best_known(reference: Callable[..., Path]) -> None:
    folder = reference("ops", "rostering", "curtois")
    rows = csv.DictReader((folder / "best_known.csv").open())
    best = {r["instance"]: int(r["best_known_ub_wssuite_nrp_yml"]) for r in rows}
    instance = parse_curtois((folder / "Instance1.txt").read_text(), "Instance1")
    plan = solve_curtois(instance, time_limit=15, workers=2, seed=0)
    check = evaluate_curtois(instance, plan.assignments)
    assert check.feasible, check.violations
    assert check.objective == plan.objective == best["Instance1"]


@pytest.mark.parametrize("name", ["Instance2", "Instance3", "Instance4", "Instance5", "Instance6"])
def test_instances2_to_6_reach_best_known(name: str, reference: Callable[..., Path]) -> None:
    """The issue's anchor: plain CP-SAT with 2 workers is at 1002 (best known 1001) on Instance3 after 60 s,
    and needs 53 s for Instance2. The branch and price proves Instance2-4 optimal in under a second and reaches
    Instance5-6 in 2-14 s (docs/operations.md); 60 s leaves room for a loaded CI machine."""
    folder = reference("ops", "rostering", "curtois")
    rows = csv.DictReader((folder / "best_known.csv").open())
    best = {r["instance"]: int(r["best_known_ub_wssuite_nrp_yml"]) for r in rows}
    instance = parse_curtois((folder / f"{name}.txt").read_text(), name)
    plan = solve_curtois(instance, time_limit=60, workers=2, seed=0)
    check = evaluate_curtois(instance, plan.assignments)
    assert check.feasible, check.violations
    assert check.objective == plan.objective == best[name]
    if name in ("Instance2", "Instance3", "Instance4"):
        assert "proved optimal" in plan.notes


def test_every_visible_instance_parses(reference: Callable[..., Path]) -> None:
    folder = reference("ops", "rostering", "curtois")
    rows = list(csv.DictReader((folder / "best_known.csv").open()))
    for row in rows:
        inst = parse_curtois((folder / f"{row['instance']}.txt").read_text(), row["instance"])
        assert inst.horizon == int(row["horizon_days"])
        assert len(inst.staff) == int(row["employees"])
        assert len(inst.shifts) == int(row["shift_types"])
