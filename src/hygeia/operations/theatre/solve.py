"""IHTC-2024 solver: two CP-SAT stages, then the official-semantics evaluator.

1. Patients: admission day, room and operating theatre for every patient, with all hard constraints
   (H1–H6, room capacity) and the patient-side soft costs exactly (age mix, open theatres, surgeon
   transfers, delay, postponed optional patients), plus lower bounds of the nurse-side costs that depend
   only on admission days (a shift's total workload above its nurses' total capacity; required skill
   above the best nurse on duty).
2. Nurses: one working nurse per occupied room and shift, minimising the exact skill, continuity-of-care
   and excess-workload costs for the fixed patient layout.
3. Refinement (time permitting): re-solve the patient stage with the rooms and days of a random subset
   of patients freed and the nurse stage re-run; the better evaluated solution is kept.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from ortools.sat.python import cp_model

from hygeia.operations.plan import Plan
from hygeia.operations.theatre.evaluate import Evaluation, evaluate, room_day_stays
from hygeia.operations.theatre.model import Admission, Instance, Solution, solution_to_json

Progress = Callable[[float, int], None]


@dataclass(frozen=True)
class _PatientModel:
    model: cp_model.CpModel
    x: dict[tuple[int, int, int], cp_model.IntVar]  # patient, day, room
    w: dict[tuple[int, int, int], cp_model.IntVar]  # patient, day, theatre


def _admissible_days(inst: Instance, p: int) -> list[int]:
    pt = inst.patients[p]
    return [d for d in range(pt.release, min(pt.due, inst.days - 1) + 1)
            if inst.surgeon_max[pt.surgeon][d] >= pt.duration
            and any(av[d] >= pt.duration for av in inst.theatre_availability)]


def _patient_model(inst: Instance, keep: dict[int, Admission | None] | None = None) -> _PatientModel:
    """CP-SAT model of the patient stage; ``keep`` pins some patients to a given admission (or postponement)."""
    m = cp_model.CpModel()
    spd, days, nrooms = inst.shifts_per_day, inst.days, len(inst.room_ids)
    wt = inst.weights
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}
    w: dict[tuple[int, int, int], cp_model.IntVar] = {}
    a: dict[tuple[int, int], cp_model.IntVar] = {}
    cost: list[cp_model.LinearExprT] = []
    occupant_cover = [[0] * days for _ in range(nrooms)]
    occ_gender: dict[tuple[int, int], set[str]] = {}
    occ_ages: dict[tuple[int, int], set[int]] = {}
    shift_load = [0] * inst.shifts
    for o in inst.occupants:
        for d in range(min(o.los, days)):
            occupant_cover[o.room][d] += 1
            occ_gender.setdefault((o.room, d), set()).add(o.gender)
            occ_ages.setdefault((o.room, d), set()).add(o.age)
        for s in range(min(o.los * spd, inst.shifts)):
            shift_load[s] += o.workload[s]
    capacity = [sum(n.max_load.get(s, 0) for n in inst.nurses) for s in range(inst.shifts)]
    best_skill = [max((n.skill for n in inst.nurses if s in n.max_load), default=0) for s in range(inst.shifts)]
    load_terms: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(inst.shifts)]
    room_day: dict[tuple[int, int], list[tuple[cp_model.IntVar, int, str]]] = {}
    ot_day: dict[tuple[int, int], list[tuple[cp_model.IntVar, int]]] = {}
    surgeon_day: dict[tuple[int, int], list[tuple[cp_model.IntVar, int]]] = {}
    surgeon_ot: dict[tuple[int, int, int], list[cp_model.IntVar]] = {}
    for p, pt in enumerate(inst.patients):
        days_p = _admissible_days(inst, p)
        rooms_p = [r for r in range(nrooms) if r not in pt.incompatible and inst.room_capacity[r] > 0]
        if keep is not None and p in keep:
            fixed = keep[p]
            days_p = [fixed.day] if fixed is not None else []
            rooms_p = [fixed.room] if fixed is not None else []
        a_p = []
        for d in days_p:
            ad = m.new_bool_var(f"a{p}_{d}")
            a[(p, d)] = ad
            a_p.append(ad)
            xs = []
            for r in rooms_p:
                v = m.new_bool_var(f"x{p}_{d}_{r}")
                x[(p, d, r)] = v
                xs.append(v)
                for dd in range(d, min(days, d + pt.los)):
                    room_day.setdefault((r, dd), []).append((v, pt.age, pt.gender))
            ts = []
            for t, av in enumerate(inst.theatre_availability):
                if av[d] >= pt.duration and (keep is None or p not in keep or keep[p] is None
                                             or keep[p].theatre == t):  # type: ignore[union-attr]
                    v = m.new_bool_var(f"w{p}_{d}_{t}")
                    w[(p, d, t)] = v
                    ts.append(v)
                    ot_day.setdefault((t, d), []).append((v, pt.duration))
                    surgeon_ot.setdefault((pt.surgeon, d, t), []).append(v)
            m.add(sum(xs) == ad)
            m.add(sum(ts) == ad)
            surgeon_day.setdefault((pt.surgeon, d), []).append((ad, pt.duration))
            coef = wt["patient_delay"] * (d - pt.release)
            for k in range(min(pt.los * spd, inst.shifts - d * spd)):
                s = d * spd + k
                load_terms[s].append((ad, pt.workload[k]))
                coef += wt["room_nurse_skill"] * max(0, pt.skill[k] - best_skill[s])
            if coef:
                cost.append(coef * ad)
        if pt.mandatory:
            m.add_exactly_one(a_p)
        else:
            m.add_at_most_one(a_p)
            cost.append(wt["unscheduled_optional"] * (1 - sum(a_p)))
    for (r, d), cells in room_day.items():
        free = inst.room_capacity[r] - occupant_cover[r][d]
        m.add(sum(v for v, _, _ in cells) <= free)
        genders = {g for _, _, g in cells} | occ_gender.get((r, d), set())
        if len(genders) > 1:
            is_a = m.new_bool_var(f"gA{r}_{d}")
            occ_g = occ_gender.get((r, d), set())
            if len(occ_g) == 1:  # occupants already there set the room's gender
                m.add(is_a == (1 if "A" in occ_g else 0))
            cap = max(1, inst.room_capacity[r])
            m.add(sum(v for v, _, g in cells if g == "A") <= cap * is_a)
            m.add(sum(v for v, _, g in cells if g != "A") <= cap * (1 - is_a))
        ages = {ag for _, ag, _ in cells} | occ_ages.get((r, d), set())
        if len(ages) > 1:
            top, bottom = max(ages), min(ages)
            amax = m.new_int_var(bottom, top, f"amax{r}_{d}")
            amin = m.new_int_var(bottom, top, f"amin{r}_{d}")
            m.add(amax >= amin)
            for ag in ages:
                if ag in occ_ages.get((r, d), set()):
                    m.add(amax >= ag)
                    m.add(amin <= ag)
                    continue
                present = m.new_bool_var(f"age{r}_{d}_{ag}")
                m.add(sum(v for v, g2, _ in cells if g2 == ag) <= len(cells) * present)
                m.add(amax >= ag).only_enforce_if(present)
                m.add(amin <= ag).only_enforce_if(present)
            cost.append(wt["room_mixed_age"] * (amax - amin))
    for (t, d), entries in ot_day.items():
        is_open = m.new_bool_var(f"open{t}_{d}")
        m.add(sum(dur * v for v, dur in entries) <= inst.theatre_availability[t][d])
        for v, _ in entries:
            m.add_implication(v, is_open)
        cost.append(wt["open_operating_theater"] * is_open)
    for (s, d), entries in surgeon_day.items():
        m.add(sum(dur * v for v, dur in entries) <= inst.surgeon_max[s][d])
    used: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (s, d, t), vs in surgeon_ot.items():
        u = m.new_bool_var(f"u{s}_{d}_{t}")
        for v in vs:
            m.add_implication(v, u)
        used.setdefault((s, d), []).append(u)
    for us in used.values():
        if len(us) > 1:
            extra = m.new_int_var(0, len(us) - 1, "transfer")
            m.add(extra >= sum(us) - 1)
            cost.append(wt["surgeon_transfer"] * extra)
    for s, terms in enumerate(load_terms):
        if not terms:
            continue
        top = shift_load[s] + sum(c for _, c in terms) - capacity[s]
        if top > 0:
            excess = m.new_int_var(0, top, f"excess{s}")
            m.add(excess >= shift_load[s] + sum(c * v for v, c in terms) - capacity[s])
            cost.append(wt["nurse_eccessive_workload"] * excess)
    m.minimize(sum(cost))
    return _PatientModel(m, x, w)


def _solve_patients(inst: Instance, seconds: float, workers: int, seed: int,
                    keep: dict[int, Admission | None] | None = None,
                    hint: tuple[Admission | None, ...] | None = None) -> tuple[Admission | None, ...] | None:
    pm = _patient_model(inst, keep)
    if hint is not None:
        for (p, d, r), v in pm.x.items():
            h = hint[p]
            pm.model.add_hint(v, h is not None and h.day == d and h.room == r)
        for (p, d, t), v in pm.w.items():
            h = hint[p]
            pm.model.add_hint(v, h is not None and h.day == d and h.theatre == t)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.cp_model_presolve = False  # presolve/probing took ~30 s on i05 before a first solution
    status = solver.solve(pm.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out: list[Admission | None] = [None] * len(inst.patients)
    theatre = {(p, d): t for (p, d, t), v in pm.w.items() if solver.boolean_value(v)}
    for (p, d, r), v in pm.x.items():
        if solver.boolean_value(v):
            out[p] = Admission(d, r, theatre[(p, d)])
    return tuple(out)


def _solve_nurses(inst: Instance, admissions: tuple[Admission | None, ...], seconds: float, workers: int,
                  seed: int) -> tuple[tuple[int, int, int], ...]:
    """Exact CP-SAT nurse-to-room model for a fixed patient layout; returns (nurse, shift, room)."""
    spd = inst.shifts_per_day
    wt = inst.weights
    stays, grid = room_day_stays(inst, Solution(admissions, ()))
    m = cp_model.CpModel()
    y: dict[tuple[int, int, int], cp_model.IntVar] = {}
    cost: list[cp_model.LinearExprT] = []
    nurse_terms: dict[tuple[int, int], list[tuple[cp_model.IntVar, int]]] = {}
    stay_nurse: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    on_duty = [inst.nurses_on(s) for s in range(inst.shifts)]
    for r, row in enumerate(grid):
        for s in range(inst.shifts):
            here = row[s // spd]
            if not here:
                continue
            ys = []
            load = sum(stays[i].workload[s - stays[i].start * spd] for i in here)
            for n in on_duty[s]:
                v = m.new_bool_var(f"y{r}_{s}_{n}")
                y[(r, s, n)] = v
                ys.append(v)
                lvl = inst.nurses[n].skill
                gap = sum(max(0, stays[i].skill[s - stays[i].start * spd] - lvl) for i in here)
                if gap:
                    cost.append(wt["room_nurse_skill"] * gap * v)
                nurse_terms.setdefault((n, s), []).append((v, load))
                for i in here:
                    stay_nurse.setdefault((i, n), []).append(v)
            if ys:
                m.add_exactly_one(ys)
    for (n, s), terms in nurse_terms.items():
        cap = inst.nurses[n].max_load[s]
        top = sum(c for _, c in terms) - cap
        if top > 0:
            ex = m.new_int_var(0, top, f"ex{n}_{s}")
            m.add(ex >= sum(c * v for v, c in terms) - cap)
            cost.append(wt["nurse_eccessive_workload"] * ex)
    for vs in stay_nurse.values():
        z = m.new_bool_var("z")
        for v in vs:
            m.add_implication(v, z)
        cost.append(wt["continuity_of_care"] * z)
    m.minimize(sum(cost))
    greedy = _greedy_nurses(inst, stays, grid, on_duty)
    chosen = {(r, s): n for n, s, r in greedy}
    for (r, s, n), v in y.items():
        m.add_hint(v, chosen.get((r, s)) == n)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.cp_model_probing_level = 0
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy
    return tuple((n, s, r) for (r, s, n), v in y.items() if solver.boolean_value(v))


def _greedy_nurses(inst: Instance, stays: list[Any], grid: list[list[list[int]]],
                   on_duty: list[list[int]]) -> tuple[tuple[int, int, int], ...]:
    """Shift by shift, each occupied room takes the on-duty nurse with the least marginal weighted cost
    (skill gap, new nurses for its patients, load above the nurse's maximum)."""
    spd, wt = inst.shifts_per_day, inst.weights
    seen: list[set[int]] = [set() for _ in stays]
    out = []
    for s in range(inst.shifts):
        load: dict[int, int] = {}
        for r, row in enumerate(grid):
            here = row[s // spd]
            if not here or not on_duty[s]:
                continue
            need = [(stays[i].skill[s - stays[i].start * spd], stays[i].workload[s - stays[i].start * spd])
                    for i in here]
            room_load = sum(w for _, w in need)

            def marginal(n: int, need: list[tuple[int, int]] = need, here: list[int] = here,
                         room_load: int = room_load, s: int = s, load: dict[int, int] = load) -> int:
                cap = inst.nurses[n].max_load[s]
                used = load.get(n, 0)
                over = max(0, used + room_load - cap) - max(0, used - cap)
                return (wt["room_nurse_skill"] * sum(max(0, k - inst.nurses[n].skill) for k, _ in need)
                        + wt["continuity_of_care"] * sum(n not in seen[i] for i in here)
                        + wt["nurse_eccessive_workload"] * over)

            n = min(on_duty[s], key=marginal)
            load[n] = load.get(n, 0) + room_load
            for i in here:
                seen[i].add(n)
            out.append((n, s, r))
    return tuple(out)


def solve_ihtc(inst: Instance, time_limit: float = 600.0, *, workers: int = 2, seed: int = 0,
               progress: Progress | None = None) -> Plan:
    """Solve an IHTC-2024 instance within ``time_limit`` seconds; the Plan's objective is the evaluator's."""
    start = time.monotonic()
    rng = random.Random(seed)

    def left() -> float:
        return time_limit - (time.monotonic() - start)

    admissions = _solve_patients(inst, 0.5 * time_limit, workers, seed)
    if admissions is None and left() > 2.0:  # no first solution yet: spend most of what is left on it
        admissions = _solve_patients(inst, 0.7 * left(), workers, seed + 1)
    if admissions is None:
        return Plan("ihtc2024", float("inf"), False, time.monotonic() - start, solver_version=_VERSION,
                    notes=("no feasible patient schedule found in the time limit",))
    nurses = _solve_nurses(inst, admissions, min(left() * 0.5, 0.2 * time_limit), workers, seed)
    best = Solution(admissions, nurses)
    best_ev = evaluate(inst, best)
    if progress:
        progress(time.monotonic() - start, best_ev.total_cost)
    rounds = 0
    while left() > 4.0:
        rounds += 1
        free = set(rng.sample(range(len(inst.patients)), k=max(1, len(inst.patients) // 4)))
        keep = {p: best.admissions[p] for p in range(len(inst.patients)) if p not in free}
        budget = min(left() / 2, max(2.0, 0.05 * time_limit))
        cand_adm = _solve_patients(inst, budget, workers, seed + rounds, keep, best.admissions)
        if cand_adm is None or cand_adm == best.admissions:
            continue
        cand_nurses = _solve_nurses(inst, cand_adm, min(left() - 0.5, budget), workers, seed + rounds)
        cand = Solution(cand_adm, cand_nurses)
        ev = evaluate(inst, cand)
        if ev.feasible and ev.total_cost < best_ev.total_cost:
            best, best_ev = cand, ev
            if progress:
                progress(time.monotonic() - start, best_ev.total_cost)
    return _plan(inst, best, best_ev, time.monotonic() - start, rounds)


_VERSION = f"hygeia-ihtc-cpsat/ortools-{version('ortools')}"


def _plan(inst: Instance, sol: Solution, ev: Evaluation, seconds: float, rounds: int) -> Plan:
    notes = (f"{rounds} refinement rounds",) if ev.feasible else (
        "hard-constraint violations: " + ", ".join(f"{k}={v}" for k, v in ev.violations.items() if v),)
    return Plan("ihtc2024", float(ev.total_cost), ev.feasible, seconds, assignments=solution_to_json(inst, sol),
                cost_breakdown={k: float(v) for k, v in ev.weighted.items()}, solver_version=_VERSION, notes=notes)
