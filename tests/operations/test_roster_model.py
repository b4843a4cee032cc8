"""The CP-SAT model's hard constraints accept exactly the rosters the independent evaluator accepts."""

from __future__ import annotations

import itertools

import pytest
from ortools.sat.python import cp_model

from hygeia.operations.roster import evaluate_curtois, parse_curtois
from hygeia.operations.roster.solve import build_model

# one employee, 8 days (a weekend on days 5-6): at most 4 shifts in a row, interior blocks of work at
# least 3 long and of rest at least 2 long, one weekend, at most 6 shifts (2880 minutes)
ONE = """SECTION_HORIZON
8
SECTION_SHIFTS
D,480,
SECTION_STAFF
A,D=8,2880,0,4,{min_on},{min_off},1
SECTION_COVER
0,D,1,1,1
"""


@pytest.mark.parametrize(("min_on", "min_off"), [(3, 2), (2, 3), (1, 1)])
def test_model_and_evaluator_agree_on_every_work_pattern(min_on: int, min_off: int) -> None:
    inst = parse_curtois(ONE.format(min_on=min_on, min_off=min_off), "one")
    feasible_patterns = 0
    for pattern in itertools.product([False, True], repeat=inst.horizon):
        built = build_model(inst)
        for d, work in enumerate(pattern):
            built.model.add(built.x["A", d, "D"] == int(work))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        status = solver.solve(built.model)
        expected = evaluate_curtois(inst, {"A": ["D" if w else "" for w in pattern]}).feasible
        assert (status in (cp_model.OPTIMAL, cp_model.FEASIBLE)) == expected, pattern
        feasible_patterns += expected
    assert 0 < feasible_patterns < 2**inst.horizon  # the rules cut some patterns but not all
