"""CP-SAT model of the Curtois & Qu shift-scheduling problem, with a large-neighbourhood search.

The model encodes every hard constraint of the benchmark (one shift a day, forbidden successions,
maximum shifts per type, total minutes, minimum/maximum consecutive shifts, minimum consecutive
days off, maximum weekends, fixed days off) and the weighted soft penalties (shift on/off requests,
under- and over-cover). On top of the plain model: redundant bounds on the number of shifts per
employee, and — after a first full solve — a large-neighbourhood search (LNS) that frees a few
employees or a window of days at a time and re-optimises them with the rest fixed.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

from ortools.sat.python import cp_model

from hygeia.operations.plan import Plan
from hygeia.operations.roster.curtois import OFF, CurtoisInstance, evaluate_curtois

_ORTOOLS_VERSION = version("ortools")
Progress = Callable[[float, int], None]  # (elapsed seconds, incumbent objective)


@dataclass
class _Model:
    model: cp_model.CpModel
    x: dict[tuple[str, int, str], cp_model.IntVar]
    objective: cp_model.LinearExprT


def build_model(instance: CurtoisInstance) -> _Model:
    """The CP-SAT model: ``x[e, d, s]`` = employee ``e`` works shift ``s`` on day ``d``."""
    m = cp_model.CpModel()
    horizon, shifts = instance.horizon, list(instance.shifts)
    x: dict[tuple[str, int, str], cp_model.IntVar] = {}
    work: dict[tuple[str, int], cp_model.LinearExprT] = {}
    min_len = min(s.minutes for s in instance.shifts.values())
    max_len = max(s.minutes for s in instance.shifts.values())
    for eid, st in instance.staff.items():
        off = instance.days_off.get(eid, frozenset())
        for d in range(horizon):
            for s in shifts:
                x[eid, d, s] = m.new_bool_var(f"x_{eid}_{d}_{s}")
                if d in off or st.max_shifts.get(s, horizon) == 0:
                    m.add(x[eid, d, s] == 0)
            m.add_at_most_one(x[eid, d, s] for s in shifts)
            work[eid, d] = sum(x[eid, d, s] for s in shifts)
        for d in range(horizon - 1):
            for s, shift in instance.shifts.items():
                for t in shift.cannot_follow:
                    m.add_bool_or([x[eid, d, s].Not(), x[eid, d + 1, t].Not()])
        for s in shifts:
            m.add(sum(x[eid, d, s] for d in range(horizon)) <= st.max_shifts.get(s, horizon))
        minutes = sum(instance.shifts[s].minutes * x[eid, d, s] for d in range(horizon) for s in shifts)
        m.add(minutes <= st.max_minutes)
        m.add(minutes >= st.min_minutes)
        # redundant: bounds on the number of worked days implied by the minutes
        total = sum(work[eid, d] for d in range(horizon))
        m.add(total <= st.max_minutes // min_len)
        m.add(total >= math.ceil(st.min_minutes / max_len))
        w = [work[eid, d] for d in range(horizon)]
        k = st.max_consecutive
        for d in range(horizon - k):
            m.add(sum(w[d : d + k + 1]) <= k)
        # interior blocks shorter than the minimum are forbidden (edge blocks are exempt)
        ws = [m.new_bool_var(f"w_{eid}_{d}") for d in range(horizon)]
        for d in range(horizon):
            m.add(ws[d] == w[d])
        for minimum, on in ((st.min_consecutive, True), (st.min_consecutive_off, False)):
            for length in range(1, minimum):
                for start in range(1, horizon - length):
                    inside = [ws[d] for d in range(start, start + length)]
                    before, after = ws[start - 1], ws[start + length]
                    if on:  # forbid: off, work*length, off
                        m.add_bool_or([before, after, *(v.Not() for v in inside)])
                    else:  # forbid: work, off*length, work
                        m.add_bool_or([before.Not(), after.Not(), *inside])
        weekend_vars = []
        for i, days in enumerate(instance.weekends()):
            wk = m.new_bool_var(f"wk_{eid}_{i}")
            m.add_max_equality(wk, [ws[d] for d in days])
            weekend_vars.append(wk)
        m.add(sum(weekend_vars) <= st.max_weekends)

    terms: list[cp_model.LinearExpr] = []
    constant = 0
    for r in instance.on_requests:
        constant += r.weight
        terms.append(-r.weight * x[r.employee, r.day, r.shift])
    for r in instance.off_requests:
        terms.append(r.weight * x[r.employee, r.day, r.shift])
    for c in instance.cover:
        staffed = sum(x[e, c.day, c.shift] for e in instance.staff)
        under = m.new_int_var(0, c.requirement, f"under_{c.day}_{c.shift}")
        over = m.new_int_var(0, len(instance.staff), f"over_{c.day}_{c.shift}")
        m.add(staffed - c.requirement == over - under)
        terms.append(c.under_weight * under + c.over_weight * over)
    objective = sum(terms) + constant
    m.minimize(objective)
    return _Model(m, x, objective)


def _roster(instance: CurtoisInstance, values: dict[tuple[str, int, str], int]) -> dict[str, list[str]]:
    roster = {}
    for eid in instance.staff:
        row = []
        for d in range(instance.horizon):
            row.append(next((s for s in instance.shifts if values[eid, d, s]), OFF))
        roster[eid] = row
    return roster


def _penalised(instance: CurtoisInstance, values: dict[tuple[str, int, str], int]) -> tuple[list[str], list[int]]:
    """Employees with a violated request and days with a cover penalty in the incumbent."""
    employees = {r.employee for r in instance.on_requests if not values[r.employee, r.day, r.shift]}
    employees |= {r.employee for r in instance.off_requests if values[r.employee, r.day, r.shift]}
    days = {
        c.day for c in instance.cover if sum(values[e, c.day, c.shift] for e in instance.staff) != c.requirement
    }
    return sorted(employees), sorted(days)


def _solver(seconds: float, workers: int, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    return solver


def solve_curtois(
    instance: CurtoisInstance,
    time_limit: float = 60.0,
    workers: int = 2,
    seed: int = 0,
    lns: bool = True,
    progress: Progress | None = None,
    first_fraction: float = 0.5,
) -> Plan:
    """Solve within ``time_limit`` seconds; returns a :class:`Plan` whose objective the evaluator confirms.

    The full model gets ``first_fraction`` of the time (CP-SAT's own portfolio); the rest goes to the
    LNS that re-optimises a few employees or a window of days at a time around the penalties.
    """
    start = time.perf_counter()
    built = build_model(instance)
    keys = list(built.x)
    first = time_limit if not lns else max(1.0, first_fraction * time_limit)
    solver = _solver(first, workers, seed)
    status = solver.solve(built.model)
    notes: list[str] = []
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        reason = "proved infeasible" if status == cp_model.INFEASIBLE else "no solution found in the time limit"
        return Plan("curtois-roster", math.inf, False, time.perf_counter() - start,
                    solver_version=f"ortools {_ORTOOLS_VERSION}", notes=(reason,))
    values = {k: int(solver.value(v)) for k, v in built.x.items()}
    best = round(solver.objective_value)
    bound = math.ceil(solver.best_objective_bound - 1e-6)
    optimal = status == cp_model.OPTIMAL
    if progress:
        progress(time.perf_counter() - start, best)
    rng = random.Random(seed)
    employees = list(instance.staff)
    iterations = improvements = 0
    while lns and not optimal and best > bound and time.perf_counter() - start < time_limit - 0.2:
        iterations += 1
        proto = built.model.clone()
        kind = rng.random()
        hot_e, hot_d = _penalised(instance, values)
        if kind < 0.5:  # a few employees (one with an unmet request when there is one), whole horizon
            free_e = set(rng.sample(employees, min(len(employees), rng.randint(2, 5))))
            if hot_e and kind < 0.35:
                free_e.add(rng.choice(hot_e))
            free = {k for k in keys if k[0] in free_e}
        elif kind < 0.75:  # a window of days (around an under/over-covered day when there is one)
            width = min(instance.horizon, rng.randint(6, 10))
            centre = rng.choice(hot_d) if hot_d and kind < 0.65 else rng.randrange(instance.horizon)
            first_day = min(max(0, centre - rng.randrange(width)), instance.horizon - width)
            free = {k for k in keys if first_day <= k[1] < first_day + width}
        else:  # half of the employees on a longer window
            free_e = set(rng.sample(employees, max(1, len(employees) // 2)))
            width = min(instance.horizon, rng.randint(10, 14))
            first_day = rng.randint(0, instance.horizon - width)
            free = {k for k in keys if k[0] in free_e and first_day <= k[1] < first_day + width}
        for k, var in built.x.items():
            local = proto.get_bool_var_from_proto_index(var.index)
            if k in free:
                proto.add_hint(local, values[k])
            else:
                proto.add(local == values[k])
        remaining = time_limit - (time.perf_counter() - start)
        sub = _solver(min(2.0, remaining - 0.1), workers, seed + iterations)
        sub_status = sub.solve(proto)
        if sub_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            value = round(sub.objective_value)
            values = {k: int(sub.value(v)) for k, v in built.x.items()}
            if value < best:
                improvements += 1
                best = value
                if progress:
                    progress(time.perf_counter() - start, best)
    roster = _roster(instance, values)
    check = evaluate_curtois(instance, roster)
    if check.objective != best or not check.feasible:
        notes.append(f"evaluator disagrees with the model: {check.objective} vs {best}; {check.violations[:3]}")
    if optimal or best <= bound:
        notes.append("proved optimal")
    notes.append(f"first solve {first:.1f}s; LNS iterations {iterations}, improvements {improvements}")
    return Plan(
        problem=f"curtois-roster:{instance.name}",
        objective=check.objective,
        feasible=check.feasible,
        seconds=round(time.perf_counter() - start, 3),
        assignments=roster,
        cost_breakdown={k: float(v) for k, v in check.breakdown.items()},
        solver_version=f"ortools {_ORTOOLS_VERSION} CP-SAT + LNS",
        notes=tuple(notes),
    )
