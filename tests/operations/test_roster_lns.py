"""Curtois solver internals: symmetry breaking between twins, neighbourhoods, and the LNS on its own."""

from __future__ import annotations

import itertools
import random
import time

import pytest
from ortools.sat.python import cp_model

from hygeia.operations.roster import colgen, evaluate_curtois, parse_curtois, solve_curtois
from hygeia.operations.roster.curtois import CurtoisInstance
from hygeia.operations.roster.solve import _Lns, _neighbourhood, _Size, _twins, build_model

TWINS = """SECTION_HORIZON
3
SECTION_SHIFTS
D,480,N
N,480,
SECTION_STAFF
A,D=3|N=3,1440,480,2,1,1,1
B,D=3|N=3,1440,480,2,1,1,1
C,D=3|N=1,1440,0,3,1,1,1
SECTION_SHIFT_ON_REQUESTS
C,1,N,4
SECTION_COVER
0,D,2,100,1
1,D,1,100,1
2,D,2,100,1
1,N,1,100,1
2,N,1,30,5
"""


def _synthetic(employees: int, horizon: int, seed: int) -> CurtoisInstance:
    """A random instance in the Curtois format: two shifts, contracts with run-length rules, requests."""
    rng = random.Random(seed)
    staff = [f"E{i},D={horizon}|N={horizon // 3},{480 * horizon * 5 // 7},{480 * horizon // 3},5,2,2,"
             f"{horizon // 14 + 1}" for i in range(employees)]
    days_off = [f"E{i},{rng.randrange(horizon)}" for i in range(employees)]
    on = [f"E{rng.randrange(employees)},{rng.randrange(horizon)},{rng.choice('DN')},{rng.randint(1, 3)}"
          for _ in range(employees)]
    cover = [f"{d},{s},{rng.randint(1, employees // 2)},100,1" for d in range(horizon) for s in "DN"]
    text = "\n".join(["SECTION_HORIZON", str(horizon), "SECTION_SHIFTS", "D,480,", "N,480,D", "SECTION_STAFF",
                      *staff, "SECTION_DAYS_OFF", *days_off, "SECTION_SHIFT_ON_REQUESTS", *on,
                      "SECTION_COVER", *cover])
    return parse_curtois(text, f"synthetic{seed}")


def test_twins_are_found_and_symmetry_breaking_keeps_the_optimum() -> None:
    inst = parse_curtois(TWINS, "twins")
    assert _twins(inst) == [["A", "B"]]  # C has a request, so it is not interchangeable
    best = None
    for cells in itertools.product(["", "D", "N"], repeat=9):
        roster = {e: list(cells[3 * i : 3 * i + 3]) for i, e in enumerate(inst.staff)}
        result = evaluate_curtois(inst, roster)
        if result.feasible:
            best = result.objective if best is None else min(best, result.objective)
    plan = solve_curtois(inst, time_limit=5, workers=1)
    assert plan.feasible and plan.objective == best


def test_neighbourhoods_stay_inside_the_instance() -> None:
    inst = _synthetic(8, 14, 1)
    values = dict.fromkeys(build_model(inst).x, 0)
    sizes = {"rows": _Size(3, 2, 8), "window": _Size(5, 1, 14), "block": _Size(4, 2, 8)}
    rng = random.Random(0)
    seen = set()
    for _ in range(200):
        kind, employees, days = _neighbourhood(inst, values, sizes, rng)
        seen.add(kind)
        assert employees and employees <= set(inst.staff)
        assert 0 <= days.start < days.stop <= inst.horizon
        if kind == "rows":
            assert len(days) == inst.horizon and len(employees) <= 3
        if kind == "window":
            assert employees == set(inst.staff) and len(days) == 5
    assert seen == {"rows", "window", "block"}
    size = _Size(2, 2, 4)
    for _ in range(20):
        size.adapt(True)
    assert size.value == 4
    for _ in range(20):
        size.adapt(False)
    assert size.value == 2


def test_lns_improves_a_first_solution_and_agrees_with_the_evaluator() -> None:
    inst = _synthetic(8, 14, 2)
    built = build_model(inst)
    first = cp_model.CpSolver()
    first.parameters.stop_after_first_solution = True
    first.parameters.num_workers = 1
    assert first.solve(built.model) in (cp_model.FEASIBLE, cp_model.OPTIMAL)
    values = {k: int(first.value(v)) for k, v in built.x.items()}
    start_value = round(first.objective_value)
    trace: list[int] = []
    search = _Lns(inst, built, values, start_value, start=time.perf_counter(), time_limit=3.0,
                  progress=lambda _t, objective: trace.append(objective))
    search.run(seed=0)
    assert search.iterations > 0 and search.best <= start_value
    assert trace == sorted(trace, reverse=True) and (not trace or trace[-1] == search.best)
    roster = {e: [next((s for s in inst.shifts if search.values[e, d, s]), "") for d in range(inst.horizon)]
              for e in inst.staff}
    check = evaluate_curtois(inst, roster)
    assert check.feasible, check.violations
    assert check.objective == search.best


def test_solve_with_lns_matches_the_evaluator_on_a_synthetic_instance() -> None:
    inst = _synthetic(10, 14, 3)
    plan = solve_curtois(inst, time_limit=4, workers=2, seed=1, first_fraction=0.25)
    check = evaluate_curtois(inst, plan.assignments)
    assert plan.feasible and check.feasible
    assert check.objective == plan.objective
    assert not any("disagrees" in note for note in plan.notes)


def test_branch_and_price_is_skipped_when_cp_sat_would_price_most_staff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the dynamic programme's table is too large for half the staff or more, the root LP never
    # converged in time on the instances tried, and the LNS alone did better: the LNS gets all the time.
    inst = _synthetic(20, 28, 3)  # large enough that the compact model proves nothing in its second
    normal = solve_curtois(inst, time_limit=4, workers=2, seed=1, first_fraction=0.25)
    monkeypatch.setattr(colgen, "_DP_STATES", 0)
    plan = solve_curtois(inst, time_limit=4, workers=2, seed=1, first_fraction=0.25)
    assert any(note.startswith("branch and price skipped: 20 of 20") for note in plan.notes)
    assert not any(note.startswith("branch and price skipped") for note in normal.notes)
    check = evaluate_curtois(inst, plan.assignments)
    assert plan.feasible and check.feasible and check.objective == plan.objective


def test_compact_model_gives_the_roster_when_branch_and_price_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. a root LP that does not converge in half of the time: the compact model then finds the first roster
    # and the LNS improves it
    monkeypatch.setattr(colgen.ColumnGeneration, "branch_and_price", lambda self, *a, **k: colgen.Search())
    inst = _synthetic(10, 14, 3)
    plan = solve_curtois(inst, time_limit=4, workers=2, seed=1, first_fraction=0.25)
    check = evaluate_curtois(inst, plan.assignments)
    assert plan.feasible and check.feasible and check.objective == plan.objective
    assert any(n.startswith("branch and price: root bound -inf") for n in plan.notes)


def test_branch_and_price_needs_no_roster_from_the_compact_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # the compact model's roster only cost time where the branch and price applies (its first dive is better
    # within seconds): CP-SAT is not called at all when the tree ends with a proof
    from hygeia.operations.roster import solve as solve_module

    calls: list[object] = []
    real = solve_module._solver
    monkeypatch.setattr(solve_module, "_solver", lambda *a: calls.append(a) or real(*a))
    inst = _synthetic(8, 14, 5)
    plan = solve_curtois(inst, time_limit=30, workers=2, seed=2)
    assert "proved optimal" in plan.notes and calls == []
    assert evaluate_curtois(inst, plan.assignments).objective == plan.objective
