"""Column generation and branch and price for the Curtois problem: bounds, exactness, branch decisions."""

from __future__ import annotations

import itertools
import math
import time

import pytest
from ortools.sat.python import cp_model

from hygeia.operations.roster import colgen, evaluate_curtois, parse_curtois
from hygeia.operations.roster.colgen import ANY, ColumnGeneration, Pattern
from hygeia.operations.roster.curtois import OFF, CurtoisInstance
from hygeia.operations.roster.solve import build_model

from .test_roster_lns import TWINS, _synthetic


def _rows(instance: CurtoisInstance, roster: dict[str, Pattern]) -> dict[str, list[str]]:
    return {e: [next((s for d2, s in roster[e] if d2 == d), OFF) for d in range(instance.horizon)]
            for e in instance.staff}


def _optimum(instance: CurtoisInstance) -> int:
    """The compact model solved to proven optimality (small instances only)."""
    built = build_model(instance)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = 60
    assert solver.solve(built.model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def test_branch_and_price_is_exact_on_a_brute_forced_instance() -> None:
    inst = parse_curtois(TWINS, "twins")
    best = min(
        r.objective
        for cells in itertools.product(["", "D", "N"], repeat=9)
        if (r := evaluate_curtois(inst, {e: list(cells[3 * i : 3 * i + 3]) for i, e in enumerate(inst.staff)})).feasible
    )
    generation = ColumnGeneration(inst)
    try:
        tree = generation.branch_and_price(time.perf_counter() + 30)
    finally:
        generation.close()
    assert tree.bound <= best + 1e-6
    assert tree.complete and tree.objective == best
    assert tree.roster is not None
    check = evaluate_curtois(inst, _rows(inst, tree.roster))
    assert check.feasible and check.objective == best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_root_bound_is_valid_and_the_tree_reaches_the_optimum(seed: int) -> None:
    inst = _synthetic(employees=5, horizon=14, seed=seed)
    optimum = _optimum(inst)
    found: list[float] = []
    generation = ColumnGeneration(inst, workers=2)
    try:
        tree = generation.branch_and_price(time.perf_counter() + 60, lambda o, _: found.append(o))
    finally:
        generation.close()
    assert tree.bound <= optimum + 1e-6  # a lower bound, never above the optimum
    assert tree.objective == optimum and tree.complete
    assert found == sorted(found, reverse=True) and found[-1] == optimum  # reports improvements only
    assert tree.roster is not None
    check = evaluate_curtois(inst, _rows(inst, tree.roster))
    assert check.feasible and check.objective == optimum
    for eid, pattern, cost in generation.columns:  # every generated schedule keeps the hard rules
        row = {e: [OFF] * inst.horizon for e in inst.staff}
        row[eid] = _rows(inst, {e: pattern if e == eid else frozenset() for e in inst.staff})[eid]
        own = [v for v in evaluate_curtois(inst, row).violations if v.startswith(f"{eid}:") or v.startswith(f"{eid} ")]
        assert not own, own
        assert cost == generation.pricers[eid].cost(pattern)


def test_pricing_keeps_branch_decisions_and_reports_an_empty_branch() -> None:
    inst = _synthetic(employees=3, horizon=7, seed=4)
    generation = ColumnGeneration(inst)
    try:
        pricer = generation.pricers["E0"]
        duals = {(d, s): 5.0 for d in range(7) for s in "DN"}  # every slot attractive
        patterns, _, closed = pricer.price(duals, 5.0, {(2, ANY): False, (3, "N"): True})
        assert closed and patterns
        assert all((3, "N") in p and not any(d == 2 for d, _ in p) for p in patterns)
        # working D on day 3 and also N on day 3 is impossible: no schedule, an infinite bound
        patterns, bound, closed = pricer.price(duals, 5.0, {(3, "D"): True, (3, "N"): True})
        assert patterns == [] and bound == float("inf") and closed
        assert generation.generate({"E0": {(3, "D"): True, (3, "N"): True}}, time.perf_counter() + 5) is None
    finally:
        generation.close()


def test_pricing_calls_share_one_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each pricing call gets the time left when it starts, not the time left when the round started: a round
    # of slow CP-SAT pricing calls (horizons beyond the dynamic programme's table) once ran for employees x
    # the remaining time (a 300 s limit was overrun by minutes on a 112-day instance).
    inst = _synthetic(employees=4, horizon=7, seed=0)
    generation = ColumnGeneration(inst, workers=1)
    seen: list[float] = []

    def slow(duals: object, seconds: float, branch: object = None, keep: int = 3) -> tuple[list[Pattern], float, bool]:
        seen.append(seconds)
        time.sleep(0.2)
        return [], 0.0, False

    try:
        for pricer in generation.pricers.values():
            monkeypatch.setattr(pricer, "price", slow)
        deadline = time.perf_counter() + 0.3
        list(generation.pool.map(generation.pricers_for({}, deadline, {}), generation.employees))
    finally:
        generation.close()
    assert len(seen) == 4 and seen[0] <= 0.3
    assert all(later < earlier - 0.15 for earlier, later in itertools.pairwise(seen))
    assert seen[-1] < 0  # past the deadline: the pricer is asked to stop at once


def test_cp_sat_pricing_stopped_early_claims_no_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # CP-SAT reports a best bound of 0 when stopped before it knows anything; taken as a bound, it once made the
    # root "bound" exceed the incumbent on a 364-day instance, which was then reported as proved optimal.
    monkeypatch.setattr(colgen, "_DP_STATES", 0)  # price every employee with CP-SAT
    inst = _synthetic(employees=2, horizon=364, seed=0)
    generation = ColumnGeneration(inst, workers=1)
    try:
        pricer = generation.pricers["E0"]
        assert pricer.dp is None
        duals = {(d, s): 50.0 for d in range(inst.horizon) for s in inst.shifts}
        patterns, least, closed = pricer.price(duals, 0.0)
        if not patterns:  # stopped before a first schedule: no claim at all
            assert least == -math.inf and not closed
        patterns, least, _ = pricer.price(duals, 3.0)
        assert patterns  # given time, schedules, and a bound no higher than the best of them
        assert least <= min(pricer.cost(p) - sum(duals[k] for k in p) for p in patterns) + 1e-6
    finally:
        generation.close()


@pytest.mark.parametrize("rate", [0.0, 1e9])
def test_a_slow_tree_gives_up_after_its_patience_and_a_fast_one_goes_on(rate: float,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # no patience at all: the tree goes on only if it counts as fast (rate 0: always; 1e9: never)
    monkeypatch.setattr(colgen, "_FAST_TREE", rate)
    inst = _synthetic(employees=5, horizon=14, seed=1)
    generation = ColumnGeneration(inst, workers=2)
    try:
        tree = generation.branch_and_price(time.perf_counter() + 60, patience=0.0)
    finally:
        generation.close()
    assert math.isfinite(tree.bound)
    if rate == 0.0:
        assert tree.complete and tree.objective == _optimum(inst)
    else:  # gave up at once: the root's bound only (the first dive is cut off as well)
        assert not tree.complete and tree.nodes <= 2
