"""CP-SAT model of the Curtois & Qu shift-scheduling problem, with a large-neighbourhood search.

The model encodes every hard constraint of the benchmark (one shift a day, forbidden successions,
maximum shifts per type, total minutes, minimum/maximum consecutive shifts, minimum consecutive
days off, maximum weekends, fixed days off) and the weighted soft penalties (shift on/off requests
as linear terms, under- and over-cover as integer slack). Formulation: shift-on-day booleans with an
explicit "off" boolean in an exactly-one per employee and day; forbidden successions as binary
clauses; run-length rules as short clauses (a window of ``max+1`` days holds a day off; a block that
starts on day d > 0 -- worked day after a day off, or the reverse -- goes on for each of the next
``min-1`` days inside the horizon, which leaves blocks touching either end exempt); weekends as
"worked" booleans bounded by both days; redundant bounds on the number of worked days per employee
(from the minutes); symmetry breaking between employees with identical contracts, days off and no
requests (ordered by worked minutes; none of the published instances has such twins).

Search: a branch and price (:mod:`hygeia.operations.roster.colgen`) first, whose root LP bound is within
a few units of the optimum, whose column dives find the rosters, and whose tree ends with a proof of
optimality when it is exhausted. On instances whose root LP does not converge in half of the time, or
whose tree is slow (fewer than 2 nodes a second) after 30 % of it, a large-neighbourhood search (LNS)
takes over from the best roster: it frees a few employees, a window of days,
or some employees on a window, re-solves that part with the rest fixed and the incumbent as hint,
accepts equal or better rosters, and adapts the neighbourhood size to how quickly the sub-problems close.
Where the branch and price has no roster (or is not used), CP-SAT on the full model finds the first one,
for a tenth of the time (no LP -- the compact relaxation's bound is 1 on Instance5 against 1143 -- and,
with 2 workers, both threads on CP-SAT's interleaved local-search and LNS subsolvers rather than one on
tree search).
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

from ortools.sat.python import cp_model

from hygeia.operations.plan import Plan
from hygeia.operations.roster.colgen import ColumnGeneration, Pattern, priced_by_cp_sat
from hygeia.operations.roster.curtois import OFF, CurtoisInstance, evaluate_curtois

_ORTOOLS_VERSION = version("ortools")
Progress = Callable[[float, int], None]  # (elapsed seconds, incumbent objective)
Key = tuple[str, int, str]
_SUB_DTIME = 0.15  # CP-SAT deterministic time per LNS sub-problem (about 0.5 s on one core)


@dataclass
class _Model:
    model: cp_model.CpModel
    x: dict[Key, cp_model.IntVar]
    objective: cp_model.LinearExprT
    works: dict[tuple[str, int], cp_model.IntVar]  # employee works (any shift) on the day


def _twins(instance: CurtoisInstance) -> list[list[str]]:
    """Groups of interchangeable employees: same limits, same days off, and no requests at all."""
    requested = {r.employee for r in (*instance.on_requests, *instance.off_requests)}
    groups: dict[tuple[object, ...], list[str]] = {}
    for eid, st in instance.staff.items():
        if eid in requested:
            continue
        key = (tuple(sorted(st.max_shifts.items())), st.max_minutes, st.min_minutes, st.max_consecutive,
               st.min_consecutive, st.min_consecutive_off, st.max_weekends,
               tuple(sorted(instance.days_off.get(eid, ()))))
        groups.setdefault(key, []).append(eid)
    return [g for g in groups.values() if len(g) > 1]


def build_model(instance: CurtoisInstance) -> _Model:
    """The CP-SAT model: ``x[e, d, s]`` = employee ``e`` works shift ``s`` on day ``d``."""
    m = cp_model.CpModel()
    horizon, shifts = instance.horizon, list(instance.shifts)
    x: dict[Key, cp_model.IntVar] = {}
    min_len = min(s.minutes for s in instance.shifts.values())
    max_len = max(s.minutes for s in instance.shifts.values())
    minutes_of: dict[str, cp_model.LinearExprT] = {}
    works: dict[tuple[str, int], cp_model.IntVar] = {}
    for eid, st in instance.staff.items():
        off = instance.days_off.get(eid, frozenset())
        ws: list[cp_model.IntVar] = []
        for d in range(horizon):
            for s in shifts:
                x[eid, d, s] = m.new_bool_var(f"x_{eid}_{d}_{s}")
                if d in off or st.max_shifts.get(s, horizon) == 0:
                    m.add(x[eid, d, s] == 0)
            w = m.new_bool_var(f"w_{eid}_{d}")
            m.add_exactly_one([w.Not(), *(x[eid, d, s] for s in shifts)])
            if d in off:
                m.add(w == 0)
            ws.append(w)
            works[eid, d] = w
        for d in range(horizon - 1):
            for s, shift in instance.shifts.items():
                for t in shift.cannot_follow:
                    m.add_bool_or([x[eid, d, s].Not(), x[eid, d + 1, t].Not()])
        for s in shifts:
            limit = st.max_shifts.get(s, horizon)
            if limit < horizon:
                m.add(sum(x[eid, d, s] for d in range(horizon)) <= limit)
        minutes = sum(instance.shifts[s].minutes * x[eid, d, s] for d in range(horizon) for s in shifts)
        minutes_of[eid] = minutes
        m.add_linear_constraint(minutes, st.min_minutes, st.max_minutes)
        # redundant: bounds on the number of worked days implied by the minutes
        m.add_linear_constraint(sum(ws), math.ceil(st.min_minutes / max_len), st.max_minutes // min_len)
        k = st.max_consecutive
        for d in range(horizon - k):  # any k+1 consecutive days hold a day off
            m.add_bool_or([v.Not() for v in ws[d : d + k + 1]])
        # interior blocks shorter than the minimum are forbidden (edge blocks are exempt): a block that
        # starts on day d > 0 goes on for j more days, for every j < minimum with d + j in the horizon
        for d in range(1, horizon):
            for j in range(1, st.min_consecutive):
                if d + j < horizon:  # work starts on d (off on d-1) => work on d+j
                    m.add_bool_or([ws[d - 1], ws[d].Not(), ws[d + j]])
            for j in range(1, st.min_consecutive_off):
                if d + j < horizon:  # days off start on d (work on d-1) => off on d+j
                    m.add_bool_or([ws[d - 1].Not(), ws[d], ws[d + j].Not()])
        weekend_vars = []
        for i, days in enumerate(instance.weekends()):
            wk = m.new_bool_var(f"wk_{eid}_{i}")
            for d in days:
                m.add_implication(ws[d], wk)
            m.add_bool_or([wk.Not(), *(ws[d] for d in days)])
            weekend_vars.append(wk)
        if st.max_weekends < len(weekend_vars):
            m.add(sum(weekend_vars) <= st.max_weekends)
    for group in _twins(instance):  # interchangeable employees: order them by worked minutes
        for a, b in itertools.pairwise(group):
            m.add(minutes_of[a] >= minutes_of[b])

    terms: list[cp_model.LinearExprT] = []
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
    return _Model(m, x, objective, works)


def _roster(instance: CurtoisInstance, values: dict[Key, int]) -> dict[str, list[str]]:
    roster = {}
    for eid in instance.staff:
        row = []
        for d in range(instance.horizon):
            row.append(next((s for s in instance.shifts if values[eid, d, s]), OFF))
        roster[eid] = row
    return roster


def _penalised(instance: CurtoisInstance, values: dict[Key, int]) -> tuple[list[str], list[int]]:
    """Employees with a violated request and days with a cover penalty in the incumbent."""
    employees = {r.employee for r in instance.on_requests if not values[r.employee, r.day, r.shift]}
    employees |= {r.employee for r in instance.off_requests if values[r.employee, r.day, r.shift]}
    days = {
        c.day for c in instance.cover if sum(values[e, c.day, c.shift] for e in instance.staff) != c.requirement
    }
    return sorted(employees), sorted(days)


def _solver(seconds: float, workers: int, seed: int) -> cp_model.CpSolver:
    """CP-SAT parameters for this problem. Its LP relaxation is useless (cover can be met fractionally:
    the root bound is 1 on Instance5 against an optimum of 1143), so no LP (``linearization_level=0``);
    and with 2 workers, no thread is given to a full tree search: both run the interleaved local-search
    and LNS subsolvers (``num_full_subsolvers=0``), which find the good rosters."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = 0
    solver.parameters.symmetry_level = 2
    if workers > 1:
        solver.parameters.num_full_subsolvers = 0
    return solver


class _Incumbent(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution of the full solve to ``progress`` and stops the search at the
    first solution found after ``deadline`` (so that a slow first solution does not end in nothing)."""

    def __init__(self, start: float, progress: Progress | None, deadline: float) -> None:
        super().__init__()
        self.start, self.progress, self.deadline = start, progress, deadline
        self.found = False

    def on_solution_callback(self) -> None:
        self.found = True
        if self.progress:
            self.progress(time.perf_counter() - self.start, round(self.objective_value))
        if time.perf_counter() - self.start >= self.deadline:
            self.stop_search()


@dataclass
class _Size:
    """An adaptive neighbourhood size: grows when sub-problems close fast, shrinks when they time out."""

    value: float
    low: float
    high: float
    gain: float = 0.0  # objective decrease found with this neighbourhood (decaying)
    spent: float = 0.0  # seconds spent on it (decaying)

    def adapt(self, closed: bool) -> None:
        self.value = min(max(self.low, self.value * (1.1 if closed else 0.8)), self.high)

    def credit(self, gain: float, seconds: float, decay: float = 0.97) -> None:
        self.gain = decay * self.gain + gain
        self.spent = decay * self.spent + seconds

    @property
    def rate(self) -> float:
        return (self.gain + 1.0) / (self.spent + 1.0)


def _neighbourhood(instance: CurtoisInstance, values: dict[Key, int], sizes: dict[str, _Size],
                   rng: random.Random) -> tuple[str, set[str], range]:
    """Employees and a window of days to free: some employees on the whole horizon ("rows"), all
    employees on a window, around a mis-covered day when there is one ("window"), or some of the
    employees on half of the horizon ("block"); the kind is drawn by its recent gain per second."""
    employees, horizon = list(instance.staff), instance.horizon
    hot_e, hot_d = _penalised(instance, values)
    kinds = ("rows", "window", "block")
    rates = [sizes[k].rate for k in kinds]  # choose by recent objective gain per second, with exploration
    kind = rng.choices(kinds, weights=[r + 0.25 * sum(rates) / len(rates) for r in rates])[0]
    if kind == "rows":
        count = round(sizes["rows"].value)
        if hot_d and rng.random() < 0.5:  # staff who are off on a mis-covered day could move to it
            day = rng.choice(hot_d)
            idle = [e for e in employees if day not in instance.days_off.get(e, ())
                    and not any(values[e, day, s] for s in instance.shifts)]
            free = set(rng.sample(idle, min(len(idle), (count + 1) // 2)))
            free |= set(rng.sample(employees, count - len(free)))
        else:
            free = set(rng.sample(employees, count))
        if hot_e and rng.random() < 0.6:
            free.pop()
            free.add(rng.choice(hot_e))
        return kind, free, range(horizon)
    if kind == "window":
        width = round(sizes["window"].value)
        centre = rng.choice(hot_d) if hot_d and rng.random() < 0.7 else rng.randrange(horizon)
        first = min(max(0, centre - rng.randrange(width)), horizon - width)
        return kind, set(employees), range(first, first + width)
    width = max(1, horizon // 2)
    first = rng.randint(0, horizon - width)
    return kind, set(rng.sample(employees, round(sizes["block"].value))), range(first, first + width)


class _Lns:
    """Large-neighbourhood search over a shared incumbent; ``run`` may go on in several threads at once
    (CP-SAT releases the GIL while it solves), each solving its sub-problems on one worker."""

    def __init__(self, instance: CurtoisInstance, built: _Model, values: dict[Key, int], best: int,
                 start: float, time_limit: float, progress: Progress | None, bound: int = 0) -> None:
        self.instance, self.built, self.values, self.best, self.bound = instance, built, values, best, bound
        self.start, self.time_limit, self.progress = start, time_limit, progress
        n, horizon = len(instance.staff), instance.horizon
        self.sizes = {"rows": _Size(min(2.0, n), min(2.0, n), n), "window": _Size(min(5.0, horizon), 1.0, horizon),
                      "block": _Size(min(4.0, n), min(2.0, n), n)}
        self.lock = threading.Lock()
        self.iterations = self.improvements = 0

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        while (remaining := self.time_limit - (time.perf_counter() - self.start)) > 0.2 and self.best > self.bound:
            with self.lock:
                self.iterations += 1
                iteration, values, best = self.iterations, self.values, self.best
                kind, free_e, window = _neighbourhood(self.instance, values, self.sizes, rng)
            proto = self.built.model.clone()
            domains = proto.proto.variables
            for k, var in self.built.x.items():
                if k[0] in free_e and k[1] in window:
                    proto.add_hint(proto.get_bool_var_from_proto_index(var.index), values[k])
                else:  # fix by domain: cheaper to build and presolve than an equality constraint
                    domain = domains[var.index].domain
                    domain[0] = domain[1] = values[k]
            sub = _solver(remaining - 0.1, 1, rng.randrange(1 << 30))
            # a deterministic work limit, so that the neighbourhood sizes do not depend on machine load
            sub.parameters.max_deterministic_time = _SUB_DTIME
            status = sub.solve(proto)
            found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            value = round(sub.objective_value) if found else best + 1
            with self.lock:
                self.sizes[kind].adapt(status == cp_model.OPTIMAL)
                self.sizes[kind].credit(max(0, self.best - value), sub.wall_time)
                # accept an improvement, or an equal roster when nobody moved the incumbent meanwhile
                if value < self.best or (value == self.best and self.values is values):
                    self.values = {k: int(sub.value(v)) for k, v in self.built.x.items()}
                    if value < self.best:
                        self.improvements += 1
                        self.best = value
                        if self.progress:
                            self.progress(time.perf_counter() - self.start, value)
            # each sub-model lives in reference cycles that only a full collection frees, and Python rarely runs
            # one here: without this, memory grew by one model (25-60 MB on 120 employees x 56 days) every
            # iteration, to 3.8 GB in 300 s. A full collection costs ~0.2 s there, so it runs once the
            # uncollected models add up to about 500 k variables (every iteration on the largest models)
            del proto, sub, domains
            if iteration % max(1, 500_000 // len(self.built.x)) == 0:
                gc.collect()


def solve_curtois(
    instance: CurtoisInstance,
    time_limit: float = 60.0,
    workers: int = 2,
    seed: int = 0,
    lns: bool = True,
    progress: Progress | None = None,
    first_fraction: float = 0.1,
    colgen: bool = True,
) -> Plan:
    """Solve within ``time_limit`` seconds; returns a :class:`Plan` whose objective the evaluator confirms.

    With ``colgen`` (and ``lns``), a branch and price (:mod:`hygeia.operations.roster.colgen`) runs first:
    its root gives a lower bound within a few units of the optimum, its dives find the rosters, and it
    stops when the tree is exhausted (the roster is then optimal). Where the root LP does not
    converge in half of the time, or the tree is slow after 30 % of it (nodes of seconds on the largest
    instances), the LNS takes the rest of the time; where the branch and price found no roster
    (or is not used: ``colgen=False``, or pricing too large for the dynamic programme), the compact CP-SAT
    model first gets ``first_fraction`` of the time (longer until it has a first solution).
    With ``lns=False`` the compact model alone gets all of the time (the plain-model anchor).
    """
    start = time.perf_counter()
    notes: list[str] = []
    built = build_model(instance)
    slow = priced_by_cp_sat(instance) if lns and colgen else 0
    use_colgen = lns and colgen and 2 * slow < len(instance.staff)
    if slow and not use_colgen:
        # CP-SAT pricing on half the staff or more (long horizons, large contracts): the root LP did not
        # converge in half of the time on any such instance tried (56-364 days), and the LNS alone did better
        notes.append(f"branch and price skipped: {slow} of {len(instance.staff)} employees beyond the pricing table")
    values: dict[Key, int] | None = None
    best, bound = 0, 0  # (best: the objective of `values`, once there is a roster; every penalty is >= 0)
    if use_colgen:
        def found(objective: float, _: dict[str, Pattern]) -> None:
            if progress:
                progress(time.perf_counter() - start, round(objective))

        generation = ColumnGeneration(instance, workers)
        try:  # the root LP gets at most half of the time, and a slow tree 30 % of it (nodes take seconds on the
            # largest instances); then the LNS takes over
            tree = generation.branch_and_price(start + time_limit, found, root_deadline=start + time_limit / 2,
                                               seed=seed, patience=0.3 * time_limit)
        finally:
            generation.close()
        if math.isfinite(tree.bound):
            bound = max(bound, math.ceil(tree.bound - 1e-6))
        if tree.complete:
            bound = max(bound, round(tree.objective))
        notes.append(f"branch and price: root bound {tree.bound:.2f} in {tree.root_seconds:.1f} s, {tree.nodes} nodes, "
                     f"{len(generation.columns)} columns")
        if tree.roster is not None:
            best = round(tree.objective)
            values = {(eid, d, s): int((d, s) in tree.roster[eid]) for (eid, d, s) in built.x}
    if values is None:  # the compact model: the first roster when the branch and price has none (or is not used)
        first = time_limit if not lns else time.perf_counter() - start + max(1.0, first_fraction * time_limit)
        # it gets `first` seconds; without a solution by then it goes on, stopping at its first one (a time
        # limit rather than stop_search() from a timer thread, which CP-SAT sometimes ignored: the solve then
        # ran to the whole limit)
        incumbent = _Incumbent(start, progress, first)
        solver = _solver(first - (time.perf_counter() - start), workers, seed)
        status = solver.solve(built.model, incumbent)
        if status == cp_model.UNKNOWN and time.perf_counter() - start < time_limit:
            solver = _solver(time_limit - (time.perf_counter() - start), workers, seed)
            status = solver.solve(built.model, incumbent)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            reason = "proved infeasible" if status == cp_model.INFEASIBLE else "no solution found in the time limit"
            return Plan("curtois-roster", math.inf, False, time.perf_counter() - start,
                        solver_version=f"ortools {_ORTOOLS_VERSION}", notes=(*notes, reason))
        values = {k: int(solver.value(v)) for k, v in built.x.items()}
        best = round(solver.objective_value)
        bound = max(bound, math.ceil(solver.best_objective_bound - 1e-6))
    search = _Lns(instance, built, values, best, start, time_limit, progress, bound)
    if lns and best > bound:
        threads = [threading.Thread(target=search.run, args=(seed + 1000 * t,)) for t in range(max(1, workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    values, best = search.values, search.best
    iterations, improvements = search.iterations, search.improvements
    roster = _roster(instance, values)
    check = evaluate_curtois(instance, roster)
    if check.objective != best or not check.feasible:
        notes.append(f"evaluator disagrees with the model: {check.objective} vs {best}; {check.violations[:3]}")
    notes.append("proved optimal" if best <= bound else f"lower bound {bound}")
    notes.append(f"LNS iterations {iterations}, improvements {improvements}")
    return Plan(
        problem=f"curtois-roster:{instance.name}",
        objective=check.objective,
        feasible=check.feasible,
        seconds=round(time.perf_counter() - start, 3),
        assignments=roster,
        cost_breakdown={k: float(v) for k, v in check.breakdown.items()},
        solver_version=f"ortools {_ORTOOLS_VERSION} CP-SAT + branch and price + LNS",
        notes=tuple(notes),
    )
