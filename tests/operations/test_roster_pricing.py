"""The pricing dynamic programme against brute force: every schedule of one employee enumerated and judged by
the independent evaluator, under random contracts, costs and branch decisions."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.operations.roster import evaluate_curtois, parse_curtois
from hygeia.operations.roster.curtois import OFF, CurtoisInstance
from hygeia.operations.roster.pricing import ANY, ScheduleDP


@st.composite
def contracts(draw: st.DrawFn, horizon: int, shifts: tuple[str, ...]) -> CurtoisInstance:
    """One employee with random limits: shift lengths 480 (D) and 600 (N, which D may not follow), per-type
    maxima, minutes, run lengths, rest, weekends and days off."""
    max_d, max_n = draw(st.integers(0, horizon)), draw(st.integers(0, 4))
    low = draw(st.integers(0, 4)) * 480
    high = low + draw(st.integers(0, 5)) * 600
    max_run, min_run = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    min_rest, weekends = draw(st.integers(1, 3)), draw(st.integers(0, len(range(5, horizon, 7))))
    off = sorted(draw(st.sets(st.integers(0, horizon - 1), max_size=2)))
    lines = {"D": "D,480,", "N": "N,600,D"}
    maxima = "|".join(f"{s}={max_d if s == 'D' else max_n}" for s in shifts)
    text = "\n".join([
        "SECTION_HORIZON", str(horizon), "SECTION_SHIFTS", *(lines[s] for s in shifts), "SECTION_STAFF",
        f"E,{maxima},{high},{low},{max_run},{min_run},{min_rest},{weekends}",
        "SECTION_DAYS_OFF", ",".join(["E", *map(str, off)]) if off else "", "SECTION_COVER", "0,D,0,1,1",
    ])
    return parse_curtois(text, "one")


def _branches(horizon: int, shifts: tuple[str, ...]) -> st.SearchStrategy[list[tuple[int, str, bool]]]:
    return st.lists(st.tuples(st.integers(0, horizon - 1), st.sampled_from((*shifts, ANY)), st.booleans()),
                    max_size=3)


def _check(instance: CurtoisInstance, seed: int, decisions: list[tuple[int, str, bool]]) -> None:
    """The DP's cheapest schedules against every schedule the evaluator accepts (and the branch allows)."""
    horizon, shifts = instance.horizon, tuple(instance.shifts)
    cost = np.random.default_rng(seed).uniform(-50, 50, size=(horizon, len(shifts)))
    branch = {(d, s): works for d, s, works in decisions}

    def obeys(cells: tuple[str, ...]) -> bool:
        return all((cells[d] != OFF if s == ANY else cells[d] == s) == works for (d, s), works in branch.items())

    def total(cells: tuple[str, ...]) -> float:
        return sum(cost[d, shifts.index(s)] for d, s in enumerate(cells) if s != OFF)

    allowed = [cells for cells in itertools.product((OFF, *shifts), repeat=horizon)
               if obeys(cells) and evaluate_curtois(instance, {"E": list(cells)}).feasible]
    paths, values = ScheduleDP(instance, "E").cheapest(cost, branch, keep=3)
    if not allowed:
        assert paths == [] and values == []
        return
    assert values[0] == min(total(cells) for cells in allowed)
    assert values == sorted(values) and len(set(map(tuple, paths))) == len(paths)
    for path, value in zip(paths, values, strict=True):
        cells = tuple(OFF if i == len(shifts) else shifts[i] for i in path)
        assert cells in allowed  # feasible by the evaluator and within the branch
        assert abs(total(cells) - value) < 1e-9


@settings(max_examples=40, deadline=None)
@given(contracts(7, ("D", "N")), st.integers(0, 2**32 - 1), _branches(7, ("D", "N")))
def test_two_shifts_one_week(instance: CurtoisInstance, seed: int, decisions: list[tuple[int, str, bool]]) -> None:
    _check(instance, seed, decisions)


@settings(max_examples=25, deadline=None)
@given(contracts(14, ("D",)), st.integers(0, 2**32 - 1), _branches(14, ("D",)))
def test_one_shift_two_weekends(instance: CurtoisInstance, seed: int, decisions: list[tuple[int, str, bool]]) -> None:
    _check(instance, seed, decisions)


def test_table_size_is_reported_for_the_fallback() -> None:
    """The dense table grows with the minutes range and the counted shift types; callers compare ``states``."""
    text = "\n".join(["SECTION_HORIZON", "28", "SECTION_SHIFTS", "D,480,", "N,485,", "SECTION_STAFF",
                      "E,D=28|N=5,9000,0,6,1,1,4", "SECTION_COVER", "0,D,1,1,1"])
    dp = ScheduleDP(parse_curtois(text, "odd"), "E")
    assert dp.states == 28 * 3 * 6 * (9000 // 5 + 1) * 1 * 6  # gcd(480, 485) = 5 minutes; N counted 0..5
