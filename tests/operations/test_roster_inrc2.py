"""INRC-II parsers and evaluator on a tiny synthetic one-week scenario."""

from __future__ import annotations

import pytest

from hygeia.operations.roster import RosterFormatError
from hygeia.operations.roster.inrc2 import evaluate_inrc2, parse_history, parse_scenario, parse_solution, parse_week

SCENARIO = """SCENARIO = tiny
WEEKS = 1
SKILLS = 1
Nurse
SHIFT_TYPES = 2
Early (1,3)
Night (2,4)
FORBIDDEN_SHIFT_TYPES_SUCCESSIONS
Early 0
Night 1 Early
CONTRACTS = 1
Full (4,5) (2,4) (1,3) 0 1
NURSES = 1
Ann Full 1 Nurse
"""
HISTORY = "HISTORY\n0 tiny\nNURSE_HISTORY\nAnn 0 0 None 0 0 2\n"
WEEK = """WEEK_DATA
tiny
REQUIREMENTS
Early Nurse (1,1) (0,1) (0,0) (0,0) (0,0) (0,0) (0,0)
Night Nurse (0,0) (0,0) (0,0) (0,0) (0,0) (0,0) (0,0)
SHIFT_OFF_REQUESTS = 1
Ann Any Sat
"""
SOLUTION = """SOLUTION
0 tiny
ASSIGNMENTS = 3
Ann Mon Early Nurse
Ann Sat Night Nurse
Ann Sun Early Nurse
"""


def test_evaluate_tiny() -> None:
    sc = parse_scenario(SCENARIO)
    result = evaluate_inrc2(sc, parse_history(HISTORY, sc), [parse_week(WEEK, sc)], [parse_solution(SOLUTION, sc)])
    assert result.hard["succession"] == 1  # Night then Early
    costs = result.costs
    assert costs["optimal_coverage"] == 30  # Tuesday early optimal 1, nobody
    assert costs["preferences"] == 10  # works Saturday
    assert costs["total_assignments"] == 20  # 3 < 4
    assert costs["working_weekends"] == 30  # 1 > 0
    assert costs["complete_weekends"] == 0  # works both days
    # working days: Mon alone (min 2): 1 day at 30; Sat-Sun stretch of 2 is at the end: exempt
    assert costs["consecutive_work"] == 30
    # same shift: Mon Early (min 1) fine; Sat Night alone (min 2): 1 at 15; Sun Early at the end: exempt
    assert costs["consecutive_shift"] == 15
    assert result.official()["Consecutive constraints"] == 45
    # off Tue–Fri: 4 days > max 3: 1
    assert costs["days_off"] == 30
    assert result.total == sum(costs.values())


@pytest.mark.parametrize(
    ("text", "old", "new", "message"),
    [
        (SCENARIO, "Night (2,4)", "Night 2,4", r"\(a,b\)"),
        (SCENARIO, "Ann Full 1 Nurse", "Ann Part 1 Nurse", "known contract"),
        (SCENARIO, "WEEKS = 1", "WEEKS = x", "WEEKS = N"),
        (SOLUTION, "Ann Sun Early Nurse", "Ann Sun Late Nurse", "known names"),
        (SOLUTION, "ASSIGNMENTS = 3", "ASSIGNMENTS = 4", "end of file"),
        (WEEK, "Ann Any Sat", "Ann Any Someday", "known names"),
        (HISTORY, "Ann 0 0 None 0 0 2", "Ann 0 0 None 0 2", "history line"),
    ],
)
def test_malformed(text: str, old: str, new: str, message: str) -> None:
    sc = parse_scenario(SCENARIO)
    bad = text.replace(old, new)
    parser = {SCENARIO: lambda t: parse_scenario(t), SOLUTION: lambda t: parse_solution(t, sc),
              WEEK: lambda t: parse_week(t, sc), HISTORY: lambda t: parse_history(t, sc)}[text]
    with pytest.raises(RosterFormatError, match=message):
        parser(bad)


BORDER_SCENARIO = SCENARIO.replace("NURSES = 1\nAnn Full 1 Nurse\n", "NURSES = 2\nAnn Full 1 Nurse\nBob Full 1 Nurse\n")
BORDER_HISTORY = "HISTORY\n0 tiny\nNURSE_HISTORY\nAnn 0 0 Night 3 6 0\nBob 0 0 Early 1 1 0\n"
BORDER_WEEK = WEEK.replace("(1,1) (0,1)", "(0,0) (0,0)").replace("SHIFT_OFF_REQUESTS = 1\nAnn Any Sat",
                                                               "SHIFT_OFF_REQUESTS = 0")
BORDER_SOLUTION = """SOLUTION
0 tiny
ASSIGNMENTS = 5
Ann Mon Night Nurse
Ann Sun Early Nurse
Bob Wed Early Nurse
Bob Thu Early Nurse
Bob Fri Early Nurse
"""


def test_border_rules_with_history() -> None:
    sc = parse_scenario(BORDER_SCENARIO)
    result = evaluate_inrc2(sc, parse_history(BORDER_HISTORY, sc), [parse_week(BORDER_WEEK, sc)],
                            [parse_solution(BORDER_SOLUTION, sc)])
    costs = result.costs
    # Ann: 6 worked days in the history + Monday = 7 > max 4, but only Monday is charged (30);
    # Bob: the history's 1-day working stretch ends before Monday, short of min 2 (30)
    assert costs["consecutive_work"] == 60
    # Ann's Monday Night continues 3 history Nights: 4 <= max 4; Bob's Early stretches are within (1,3)
    assert costs["consecutive_shift"] == 0
    # Ann off Tuesday-Saturday: 5 > max 3 (2 days, 60); Sunday's 1-day stretch ends the horizon: no minimum
    assert costs["days_off"] == 60
    assert result.official()["Consecutive constraints"] == 60
    assert sum(result.hard.values()) == 0
