"""IHTC-2024 parser, evaluator and solver on small synthetic instances."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.operations.theatre import (
    IhtcFormatError,
    evaluate,
    parse_instance,
    parse_solution,
    solution_to_json,
)
from hygeia.operations.theatre.solve import solve_ihtc

WEIGHTS = {"room_mixed_age": 5, "room_nurse_skill": 1, "continuity_of_care": 1, "nurse_eccessive_workload": 1,
           "open_operating_theater": 50, "surgeon_transfer": 5, "patient_delay": 10, "unscheduled_optional": 300}


def _patient(pid: str, gender: str, age: str, los: int, release: int, due: int | None, dur: int = 60,
             incompatible: list[str] | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"id": pid, "mandatory": due is not None, "gender": gender, "age_group": age,
                         "length_of_stay": los, "surgery_release_day": release, "surgery_duration": dur,
                         "surgeon_id": "s0", "incompatible_room_ids": incompatible or [],
                         "workload_produced": [2] * (3 * los), "skill_level_required": [1] * (3 * los)}
    if due is not None:
        p["surgery_due_day"] = due
    return p


def _instance() -> dict[str, Any]:
    shifts = ["early", "late", "night"]
    nurses = [{"id": f"n{i}", "skill_level": i % 3,
               "working_shifts": [{"day": d, "shift": sh, "max_load": 6} for d in range(4) for sh in shifts
                                  if (d + shifts.index(sh) + i) % 2 == 0]} for i in range(4)]
    return {
        "days": 4, "skill_levels": 3, "shift_types": shifts, "age_groups": ["young", "adult", "old"],
        "weights": dict(WEIGHTS),
        "occupants": [{"id": "a0", "gender": "A", "age_group": "old", "length_of_stay": 2, "room_id": "r0",
                       "workload_produced": [1] * 6, "skill_level_required": [2] * 6}],
        "patients": [_patient("p0", "A", "old", 2, 0, 2), _patient("p1", "B", "young", 3, 1, 3, incompatible=["r0"]),
                     _patient("p2", "A", "adult", 1, 0, None), _patient("p3", "B", "adult", 2, 2, None)],
        "surgeons": [{"id": "s0", "max_surgery_time": [240, 240, 0, 240]}],
        "operating_theaters": [{"id": "t0", "availability": [240, 240, 240, 240]},
                               {"id": "t1", "availability": [120, 0, 120, 120]}],
        "rooms": [{"id": "r0", "capacity": 2}, {"id": "r1", "capacity": 2}],
        "nurses": nurses,
    }



def test_hand_counted_costs_and_violations() -> None:
    data = _instance()
    inst = parse_instance(data, "toy")
    sol = parse_solution({"patients": [
        {"id": "p0", "admission_day": 1, "room": "r0", "operating_theater": "t0"},  # delay 1, with occupant
        {"id": "p1", "admission_day": 0, "room": "r0", "operating_theater": "t1"},  # before release, incompatible
        {"id": "p2", "admission_day": "none"},
        {"id": "p3", "admission_day": 3, "room": "r1", "operating_theater": "t0"},
    ], "nurses": []}, inst)
    ev = evaluate(inst, sol)
    # r0 day0: a0(A,old) + p1(B,young); day1: a0, p0(A,old), p1 -> 3 > capacity 2; day2: p0, p1.
    assert ev.violations["RoomGenderMix"] == 3
    assert ev.violations["RoomCapacity"] == 1
    assert ev.violations["PatientRoomCompatibility"] == 1
    assert ev.violations["AdmissionDay"] == 1
    assert ev.violations["MandatoryUnscheduledPatients"] == 0
    assert ev.costs["ElectiveUnscheduledPatients"] == 1
    assert ev.costs["PatientDelay"] == 1 + 1
    assert ev.costs["RoomAgeMix"] == 2 + 2 + 2
    assert ev.costs["OpenOperatingTheater"] == 3  # t1 day0, t0 day1, t0 day3
    assert ev.costs["SurgeonTransfer"] == 0
    # no nurses: every occupied room-shift is uncovered; r0 days 0-2 and r1 day 3 -> 12 shifts
    assert ev.violations["UncoveredRoom"] == 12
    assert ev.costs["ContinuityOfCare"] == 0
    assert ev.total_cost == sum(ev.weighted.values())
    assert not ev.feasible


def test_nurse_costs_last_listed_nurse_owns_the_room() -> None:
    data = _instance()
    inst = parse_instance(data, "toy")
    working = {n["id"]: {(w["day"], w["shift"]) for w in n["working_shifts"]} for n in data["nurses"]}
    n_early0 = [n for n, ws in working.items() if (0, "early") in ws]
    assert len(n_early0) >= 2
    first, second = n_early0[:2]
    sol = parse_solution({"patients": [], "nurses": [
        {"id": first, "assignments": [{"day": 0, "shift": "early", "rooms": ["r0"]}]},
        {"id": second, "assignments": [{"day": 0, "shift": "early", "rooms": ["r0"]}]}]}, inst)
    ev = evaluate(inst, sol)
    skill = {n["id"]: n["skill_level"] for n in data["nurses"]}
    assert ev.costs["RoomSkillLevel"] >= max(0, 2 - skill[second])  # occupant needs level 2 in that shift
    assert ev.costs["ContinuityOfCare"] == 1  # only the last nurse counts for the patient
    assert ev.costs["ElectiveUnscheduledPatients"] == 2
    assert ev.violations["MandatoryUnscheduledPatients"] == 2


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda d: d.pop("days"), "toy.days: missing"),
    (lambda d: d["patients"][1].update(length_of_stay="x"), "toy.patients[1].length_of_stay"),
    (lambda d: d["patients"][0].update(surgeon_id="nobody"), "toy.patients[0].surgeon_id: unknown surgeon"),
    (lambda d: d["patients"][0].update(workload_produced=[1]), "toy.patients[0].workload_produced"),
    (lambda d: d["occupants"][0].update(room_id="r9"), "toy.occupants[0].room_id: unknown room"),
    (lambda d: d["nurses"][0]["working_shifts"].append({"day": 9, "shift": "early", "max_load": 1}), "outside"),
    (lambda d: d["weights"].pop("patient_delay"), "toy.weights.patient_delay: missing"),
])
def test_malformed_instance_names_the_field(mutate: Any, needle: str) -> None:
    data = copy.deepcopy(_instance())
    mutate(data)
    with pytest.raises(IhtcFormatError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        parse_instance(data, "toy")


@pytest.mark.parametrize(("sol", "needle"), [
    ({"patients": [{"id": "zz", "admission_day": 0}], "nurses": []}, "unknown patient"),
    ({"patients": [{"id": "p0", "admission_day": 9, "room": "r0", "operating_theater": "t0"}], "nurses": []},
     "admission_day"),
    ({"patients": [{"id": "p0", "admission_day": 0, "room": "rX", "operating_theater": "t0"}], "nurses": []},
     "unknown room"),
    ({"patients": [{"id": "p2", "admission_day": "none"}, {"id": "p2", "admission_day": "none"}], "nurses": []},
     "twice"),
    ({"patients": [], "nurses": [{"id": "n0", "assignments": [{"day": 0, "shift": "dusk", "rooms": []}]}]},
     "unknown shift"),
    ({"nurses": []}, "patients: missing"),
])
def test_malformed_solution(sol: dict[str, Any], needle: str) -> None:
    inst = parse_instance(_instance(), "toy")
    with pytest.raises(IhtcFormatError, match=needle):
        parse_solution(sol, inst, "sol.json")


@settings(max_examples=40, deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(max_size=4) | st.booleans(),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                    max_leaves=12))
def test_parser_never_crashes_on_arbitrary_json(data: Any) -> None:
    with contextlib.suppress(IhtcFormatError):
        parse_instance(data, "fuzz")


def test_solver_is_feasible_and_round_trips_through_the_evaluator() -> None:
    inst = parse_instance(_instance(), "toy")
    plan = solve_ihtc(inst, time_limit=3.0, workers=1)
    assert plan.feasible
    again = evaluate(inst, parse_solution(plan.assignments, inst))
    assert again.feasible
    assert again.total_cost == plan.objective
    assert plan.assignments == solution_to_json(inst, parse_solution(plan.assignments, inst))
    # the mandatory patients are admitted within their windows
    days = {p["id"]: p["admission_day"] for p in plan.assignments["patients"]}
    assert 0 <= days["p0"] <= 2 and 1 <= days["p1"] <= 3
