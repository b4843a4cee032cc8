"""IHTC-2024 local search: the incremental cost equals the evaluator's after any sequence of moves and undos,
the construction respects every hard constraint, and a seeded iteration budget is reproducible."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.operations.theatre import evaluate, parse_instance, parse_solution
from hygeia.operations.theatre.search import MANDATORY_PENALTY, State, _Annealer, anneal, construct
from hygeia.operations.theatre.solve import solve_ihtc
from tests.operations.test_theatre import WEIGHTS, _instance

SHIFTS = ["early", "late", "night"]


def _random_instance(seed: int) -> dict[str, Any]:
    """A small random but well-formed instance (every shift staffed, generous theatre time)."""
    rng = random.Random(seed)
    days, rooms = rng.randint(3, 6), rng.randint(2, 4)
    ages = ["young", "adult", "old"]

    def person(pid: str, los: int) -> dict[str, Any]:
        return {"id": pid, "gender": rng.choice("AB"), "age_group": rng.choice(ages), "length_of_stay": los,
                "workload_produced": [rng.randint(0, 4) for _ in range(3 * los)],
                "skill_level_required": [rng.randint(0, 3) for _ in range(3 * los)]}

    patients = []
    for i in range(rng.randint(3, 12)):
        p = person(f"p{i}", rng.randint(1, 4)) | {
            "mandatory": rng.random() < 0.3, "surgery_release_day": rng.randrange(days),
            "surgery_duration": rng.choice([30, 60, 90]), "surgeon_id": f"s{rng.randrange(2)}",
            "incompatible_room_ids": [f"r{rng.randrange(rooms)}"] if rng.random() < 0.3 else []}
        if p["mandatory"]:
            p["surgery_due_day"] = min(days - 1, p["surgery_release_day"] + rng.randint(0, 3))
        patients.append(p)
    occupants = [person(f"a{i}", rng.randint(1, 3)) | {"room_id": f"r{i}"} for i in range(rng.randint(0, rooms))]
    nurses = [{"id": f"n{i}", "skill_level": rng.randint(0, 3), "working_shifts": [
        {"day": d, "shift": sh, "max_load": rng.randint(2, 12)} for d in range(days) for sh in SHIFTS
        if i < 2 or rng.random() < 0.5]} for i in range(rng.randint(2, 6))]
    return {"days": days, "skill_levels": 4, "shift_types": SHIFTS, "age_groups": ages,
            "weights": {k: rng.randint(1, 50) for k in WEIGHTS}, "occupants": occupants, "patients": patients,
            "surgeons": [{"id": f"s{i}", "max_surgery_time": [rng.choice([0, 240, 480]) for _ in range(days)]}
                         for i in range(2)],
            "operating_theaters": [{"id": f"t{i}", "availability": [rng.choice([0, 240, 480]) for _ in range(days)]}
                                   for i in range(2)],
            "rooms": [{"id": f"r{i}", "capacity": rng.randint(1, 3)} for i in range(rooms)], "nurses": nurses}


def _check(state: State) -> None:
    inst = state.inst
    ev = evaluate(inst, state.solution())
    missing = len(state.missing)
    assert ev.total_cost + MANDATORY_PENALTY * missing == state.cost
    # the search never breaks a hard constraint; only mandatory patients it could not place yet
    assert ev.total_violations == ev.violations["MandatoryUnscheduledPatients"] == missing


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6))
def test_incremental_cost_equals_the_evaluator_after_moves_and_undos(seed: int) -> None:
    inst = parse_instance(_random_instance(seed), "random")
    rng = random.Random(seed)
    state = construct(inst, rng)
    _check(state)
    annealer = _Annealer(state, rng)
    for step in range(300):
        log: list[tuple[int, int, int, int, int]] = []
        annealer.move(log)
        if rng.random() < 0.5:
            state.undo(log)
        if step % 50 == 0:
            _check(state)
    _check(state)


def test_construction_places_every_mandatory_patient_of_the_toy_instance() -> None:
    inst = parse_instance(_instance(), "toy")
    state = construct(inst, random.Random(0))
    assert not state.missing
    _check(state)


def test_annealing_never_returns_worse_than_its_start() -> None:
    inst = parse_instance(_random_instance(7), "random")
    rng = random.Random(1)
    state = construct(inst, rng)
    start = state.cost
    result = anneal(state, 20.0, rng, iterations=3000)
    assert result.cost <= start
    ev = evaluate(inst, result.solution)
    assert ev.total_cost + MANDATORY_PENALTY * ev.violations["MandatoryUnscheduledPatients"] == result.cost


def test_seeded_iteration_budget_is_reproducible() -> None:
    inst = parse_instance(_random_instance(11), "random")
    a = solve_ihtc(inst, time_limit=60.0, workers=1, seed=5, iterations=2000)
    b = solve_ihtc(inst, time_limit=60.0, workers=1, seed=5, iterations=2000)
    assert a.assignments == b.assignments and a.objective == b.objective
    assert evaluate(inst, parse_solution(a.assignments, inst)).total_cost == a.objective


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6))
def test_fits_moved_agrees_with_taking_the_patient_out_first(seed: int) -> None:
    inst = parse_instance(_random_instance(seed), "random")
    rng = random.Random(seed)
    state = construct(inst, rng)
    for _ in range(200):
        p = rng.randrange(state.P)
        d, r, t = rng.randrange(state.D), rng.randrange(state.R), rng.randrange(state.T)
        predicted = state.fits_moved(p, d, r, t)
        before = (state.start[p], state.room[p], state.theatre[p])
        if before[0] >= 0:
            state.remove(p)
        assert state.fits(p, d, r, t) == predicted
        if before[0] >= 0:
            state.insert(p, *before)
    _check(state)
