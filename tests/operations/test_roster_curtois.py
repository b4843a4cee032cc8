"""Curtois & Qu parser, evaluator and CP-SAT solver on tiny synthetic instances."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.operations.roster import (
    RosterFormatError,
    evaluate_curtois,
    format_roster,
    parse_curtois,
    parse_roster,
    solve_curtois,
)

TINY = """# tiny
SECTION_HORIZON
7

SECTION_SHIFTS
E,480,
L,480,E

SECTION_STAFF
A,E=7|L=7,2880,960,4,2,2,1
B,E=7|L=2,2880,960,4,2,2,1
C,E=7|L=7,2880,960,4,2,1,1

SECTION_DAYS_OFF
A,3
C,0,1

SECTION_SHIFT_ON_REQUESTS
A,0,E,2
B,5,L,3

SECTION_SHIFT_OFF_REQUESTS
C,4,E,1

SECTION_COVER
0,E,1,100,1
1,E,1,100,1
2,E,1,100,1
3,E,1,100,1
4,E,2,100,1
5,E,1,100,1
6,E,1,100,1
0,L,1,100,1
2,L,1,100,1
4,L,1,100,1
6,L,1,100,1
"""


MICRO = """SECTION_HORIZON
4
SECTION_SHIFTS
D,480,N
N,600,
SECTION_STAFF
A,D=4|N=1,2400,960,3,1,1,1
B,D=4|N=0,2400,480,2,1,1,1
SECTION_DAYS_OFF
B,1
SECTION_SHIFT_ON_REQUESTS
A,2,N,5
SECTION_SHIFT_OFF_REQUESTS
B,0,D,2
SECTION_COVER
0,D,2,100,1
1,D,1,100,1
2,D,1,100,1
3,D,1,100,1
2,N,1,50,3
"""


def _brute_force_optimum(text: str) -> int:
    inst = parse_curtois(text, "micro")
    options = ["", *inst.shifts]
    best = None
    for cells in itertools.product(options, repeat=inst.horizon * len(inst.staff)):
        roster = {e: list(cells[i * inst.horizon : (i + 1) * inst.horizon]) for i, e in enumerate(inst.staff)}
        result = evaluate_curtois(inst, roster)
        if result.feasible:
            best = result.objective if best is None else min(best, result.objective)
    assert best is not None
    return best


def test_solver_reaches_brute_force_optimum() -> None:
    inst = parse_curtois(MICRO, "micro")
    plan = solve_curtois(inst, time_limit=5, workers=1)
    assert plan.feasible
    assert plan.objective == _brute_force_optimum(MICRO)


def test_parse_tiny() -> None:
    inst = parse_curtois(TINY, "tiny")
    assert inst.horizon == 7 and list(inst.shifts) == ["E", "L"]
    assert inst.shifts["L"].cannot_follow == frozenset({"E"})
    assert inst.staff["B"].max_shifts == {"E": 7, "L": 2}
    assert inst.days_off["C"] == frozenset({0, 1})
    assert inst.weekends() == [(5, 6)]
    assert len(inst.cover) == 11


def test_solver_objective_equals_evaluator() -> None:
    inst = parse_curtois(TINY, "tiny")
    plan = solve_curtois(inst, time_limit=5, workers=1)
    assert plan.feasible and "proved optimal" in plan.notes
    assert evaluate_curtois(inst, plan.assignments).objective == plan.objective
    assert sum(plan.cost_breakdown.values()) == plan.objective
    again = parse_roster(format_roster(inst, plan.assignments), inst)
    assert again == plan.assignments


def test_evaluator_flags_each_hard_constraint() -> None:
    inst = parse_curtois(TINY, "tiny")
    roster = {
        "A": ["E", "E", "E", "E", "E", "", ""],  # day off 3 worked, 5 consecutive > 4
        "B": ["L", "", "L", "L", "", "L", "L"],  # 5 L shifts > 2; single interior days off
        "C": ["", "", "E", "L", "", "E", "E"],  # E then L is allowed
    }
    result = evaluate_curtois(inst, roster)
    text = " | ".join(result.violations)
    assert "A day 3: works on a required day off" in text
    assert "5 consecutive shifts, maximum 4" in text
    assert "B: 5 L shifts, maximum 2" in text
    assert "B day 1: 1 days off, minimum 2" in text
    assert not any(v.startswith("C") for v in result.violations)
    # L then E is forbidden
    roster["C"] = ["", "", "L", "E", "", "", ""]
    assert any("shift E may not follow L" in v for v in evaluate_curtois(inst, roster).violations)
    # minimum consecutive shifts: an isolated interior shift
    roster["C"] = ["", "", "", "E", "", "", ""]
    assert any("1 consecutive shifts, minimum 2" in v for v in evaluate_curtois(inst, roster).violations)
    # minimum consecutive days off: A has min 2 days off; a single interior day off is forbidden
    roster["A"] = ["E", "E", "", "", "E", "", "E"]
    assert any("A day 5: 1 days off, minimum 2" in v for v in evaluate_curtois(inst, roster).violations)
    # edge blocks are exempt
    roster["A"] = ["E", "", "", "E", "E", "", ""]
    assert not any(v.startswith("A day 0") for v in evaluate_curtois(inst, roster).violations)


def test_evaluator_penalties() -> None:
    inst = parse_curtois(TINY, "tiny")
    empty = {e: [""] * 7 for e in inst.staff}
    result = evaluate_curtois(inst, empty)
    assert result.breakdown == {"shift_on_requests": 5, "shift_off_requests": 0, "under_cover": 1200, "over_cover": 0}
    assert any("minutes" in v for v in result.violations)  # below the minimum minutes


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("7\n\nSECTION_SHIFTS", "seven\n\nSECTION_SHIFTS", "line 3: field 1"),
        ("L,480,E", "L,480,X", "unknown successor"),
        ("A,3\n", "Z,3\n", "unknown employee 'Z'"),
        ("B,5,L,3", "B,9,L,3", "outside the horizon"),
        ("C,4,E,1", "C,4,Q,1", "unknown shift 'Q'"),
        ("A,E=7|L=7,2880", "A,E7|L=7,2880", "MaxShifts"),
        ("0,E,1,100,1", "0,E,1,100", "expected 5"),
        ("SECTION_COVER", "SECTION_COVERS", "unknown section"),
        ("1,E,1,100,1", "0,E,1,100,1", "given twice"),
        ("A,0,E,2", "A,0,E,-2", ">= 0"),
    ],
)
def test_malformed_instances(old: str, new: str, message: str) -> None:
    assert old in TINY
    with pytest.raises(RosterFormatError, match=message):
        parse_curtois(TINY.replace(old, new, 1), "tiny")


def test_missing_sections_and_bad_roster() -> None:
    with pytest.raises(RosterFormatError, match="missing or empty SECTION_COVER"):
        parse_curtois(TINY.split("SECTION_COVER")[0])
    inst = parse_curtois(TINY)
    with pytest.raises(RosterFormatError, match="line 2: expected 8 fields"):
        parse_roster("employee,0\nA,E\n", inst)
    with pytest.raises(RosterFormatError, match="unknown shift 'X'"):
        parse_roster("employee\nA,X,,,,,,\n", inst)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("SECTION_HORIZONSHIFTS,|=#\n0123456789ADEL ")), max_size=200))
def test_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(RosterFormatError):
        parse_curtois(text, "fuzz")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["", "E", "L"]), min_size=21, max_size=21))
def test_evaluator_objective_is_sum_of_breakdown(cells: list[str]) -> None:
    inst = parse_curtois(TINY)
    roster = {e: cells[i * 7 : (i + 1) * 7] for i, e in enumerate(inst.staff)}
    result = evaluate_curtois(inst, roster)
    assert result.objective == sum(result.breakdown.values()) >= 0
