"""IHTC-2024 evaluator: the official validator's hard-constraint violations and soft-cost components.

Semantics follow the problem description (Ceschia et al. 2024, §2.3) as implemented by the official
``IHTP_Validator.cc`` (v0.0, 23/05/24): gender mix counts min(#A, #B) per room-day; capacity, surgeon
and theatre overtime count the excess; a room's nurse in a shift is the last one listed for it, while
every nurse listing the room carries its workload; stays are truncated at the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

from hygeia.operations.theatre.model import Instance, Solution

VIOLATION_NAMES = ("RoomGenderMix", "PatientRoomCompatibility", "SurgeonOvertime", "OperatingTheaterOvertime",
                   "MandatoryUnscheduledPatients", "AdmissionDay", "RoomCapacity", "NursePresence",
                   "UncoveredRoom")
COST_NAMES = ("RoomAgeMix", "RoomSkillLevel", "ContinuityOfCare", "ExcessiveNurseWorkload",
              "OpenOperatingTheater", "SurgeonTransfer", "PatientDelay", "ElectiveUnscheduledPatients")
COST_WEIGHT = dict(zip(COST_NAMES, ("room_mixed_age", "room_nurse_skill", "continuity_of_care",
                                    "nurse_eccessive_workload", "open_operating_theater", "surgeon_transfer",
                                    "patient_delay", "unscheduled_optional"), strict=True))


@dataclass(frozen=True)
class Evaluation:
    violations: dict[str, int]
    costs: dict[str, int]  # unweighted counts, validator names
    weighted: dict[str, int]

    @property
    def total_violations(self) -> int:
        return sum(self.violations.values())

    @property
    def total_cost(self) -> int:
        return sum(self.weighted.values())

    @property
    def feasible(self) -> bool:
        return self.total_violations == 0


@dataclass(frozen=True)
class _Stay:
    gender: str
    age: int
    start: int  # admission day (0 for occupants)
    workload: tuple[int, ...]
    skill: tuple[int, ...]


def room_day_stays(inst: Instance, sol: Solution) -> tuple[list[_Stay], list[list[list[int]]]]:
    """All stays (occupants first, then admitted patients) and room × day → stay indices."""
    stays: list[_Stay] = []
    grid: list[list[list[int]]] = [[[] for _ in range(inst.days)] for _ in inst.room_ids]
    for o in inst.occupants:
        for d in range(min(o.los, inst.days)):
            grid[o.room][d].append(len(stays))
        stays.append(_Stay(o.gender, o.age, 0, o.workload, o.skill))
    for p, a in zip(inst.patients, sol.admissions, strict=True):
        if a is None:
            continue
        for d in range(a.day, min(inst.days, a.day + p.los)):
            grid[a.room][d].append(len(stays))
        stays.append(_Stay(p.gender, p.age, a.day, p.workload, p.skill))
    return stays, grid


def evaluate(inst: Instance, sol: Solution) -> Evaluation:
    """Every violation and cost component of a solution, as the official validator counts them."""
    spd, days = inst.shifts_per_day, inst.days
    stays, grid = room_day_stays(inst, sol)
    v = dict.fromkeys(VIOLATION_NAMES, 0)
    c = dict.fromkeys(COST_NAMES, 0)

    ot_load = [[0] * days for _ in inst.theatre_ids]
    surgeon_load = [[0] * days for _ in inst.surgeon_ids]
    surgeon_ots: dict[tuple[int, int], set[int]] = {}
    for p, a in zip(inst.patients, sol.admissions, strict=True):
        if a is None:
            if p.mandatory:
                v["MandatoryUnscheduledPatients"] += 1
            else:
                c["ElectiveUnscheduledPatients"] += 1
            continue
        if a.room in p.incompatible:
            v["PatientRoomCompatibility"] += 1
        if a.day < p.release or a.day > p.due:
            v["AdmissionDay"] += 1
        c["PatientDelay"] += max(0, a.day - p.release)
        ot_load[a.theatre][a.day] += p.duration
        surgeon_load[p.surgeon][a.day] += p.duration
        surgeon_ots.setdefault((p.surgeon, a.day), set()).add(a.theatre)
    for t, loads in enumerate(ot_load):
        for d, load in enumerate(loads):
            v["OperatingTheaterOvertime"] += max(0, load - inst.theatre_availability[t][d])
    for s, loads in enumerate(surgeon_load):
        for d, load in enumerate(loads):
            v["SurgeonOvertime"] += max(0, load - inst.surgeon_max[s][d])
    c["OpenOperatingTheater"] = len({(a.theatre, a.day) for a in sol.admissions if a is not None})
    c["SurgeonTransfer"] = sum(len(ts) - 1 for ts in surgeon_ots.values())

    for r, row in enumerate(grid):
        for here in row:
            if not here:
                continue
            genders = [stays[i].gender for i in here]
            n_a = sum(g == "A" for g in genders)
            v["RoomGenderMix"] += min(n_a, len(genders) - n_a)
            v["RoomCapacity"] += max(0, len(here) - inst.room_capacity[r])
            ages = [stays[i].age for i in here]
            c["RoomAgeMix"] += max(ages) - min(ages)

    room_nurse: dict[tuple[int, int], int] = {}
    nurse_rooms: dict[tuple[int, int], list[int]] = {}
    for n, s, r in sol.nurse_rooms:
        if s not in inst.nurses[n].max_load:
            v["NursePresence"] += 1
        room_nurse[(r, s)] = n
        nurse_rooms.setdefault((n, s), []).append(r)

    seen: list[set[int]] = [set() for _ in stays]
    for r, row in enumerate(grid):
        for s in range(inst.shifts):
            here = row[s // spd]
            if not here:
                continue
            n = room_nurse.get((r, s), -1)
            if n < 0:
                v["UncoveredRoom"] += 1
                continue
            level = inst.nurses[n].skill
            for i in here:
                st = stays[i]
                c["RoomSkillLevel"] += max(0, st.skill[s - st.start * spd] - level)
                seen[i].add(n)
    c["ContinuityOfCare"] = sum(len(x) for x in seen)
    for (n, s), rooms in nurse_rooms.items():
        if s not in inst.nurses[n].max_load:
            continue
        load = sum(stays[i].workload[s - stays[i].start * spd] for r in rooms for i in grid[r][s // spd])
        c["ExcessiveNurseWorkload"] += max(0, load - inst.nurses[n].max_load[s])
    weighted = {k: c[k] * inst.weights[COST_WEIGHT[k]] for k in COST_NAMES}
    return Evaluation(v, c, weighted)


def format_report(ev: Evaluation, inst: Instance) -> str:
    """The validator's text layout (violations, then ``weighted (weight X count)`` costs)."""
    lines = ["VIOLATIONS: "] + [f"{k:.<30}{ev.violations[k]:.>5}" for k in VIOLATION_NAMES]
    lines += [f"Total violations = {ev.total_violations}", "", "COSTS (weight X cost): "]
    for k in COST_NAMES:
        lines.append(f"{k:.<30}{ev.weighted[k]:.>10} ({inst.weights[COST_WEIGHT[k]]:>3} X {ev.costs[k]:>3})")
    lines.append(f"Total cost = {ev.total_cost}")
    return "\n".join(lines)
