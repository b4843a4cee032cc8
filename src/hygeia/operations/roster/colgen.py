"""Column generation for the Curtois & Qu problem: a tight lower bound, near-optimal and optimal rosters.

Dantzig-Wolfe reformulation, as in the branch and price of Burke & Curtois (2014, "New approaches to
nurse rostering benchmark instances", EJOR 237:71-81): a column is one employee's whole schedule over
the horizon; the master LP (GLOP, kept between solves so that each re-solve starts from the last basis)
picks a convex combination of schedules per employee and pays under- and over-cover as slack; the pricing
problem -- the cheapest schedule of one employee under the duals of the cover rows -- is solved exactly
by dynamic programming (:mod:`hygeia.operations.roster.pricing`, about 1-3 ms), or by CP-SAT on that
employee's part of the compact model where the DP's table would be too large.

The master LP's value is a valid lower bound once no schedule prices out, and before that the
Lagrangian bound (LP value plus each employee's most negative reduced cost) is. On the published
instances the bound is within 1-3 of the best-known objective (Instance5: 1140.6 against 1143).
:meth:`ColumnGeneration.branch_and_price` turns the LP into rosters: an exact best-bound tree with
column dives, which proves Instance1-7 optimal at their best-known values.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.sat.python import cp_model

from hygeia.operations.roster.curtois import CurtoisInstance
from hygeia.operations.roster.pricing import ANY, ScheduleDP

Slot = tuple[int, str]  # (day, shift or ANY)
Pattern = frozenset[Slot]  # the slots one employee works
Branch = dict[str, dict[Slot, bool]]  # employee -> slot -> must work it (True) or must not (False)
Found = Callable[[float, dict[str, Pattern]], None]  # told of each better roster: objective, schedules
_SCALE = 10_000  # CP-SAT needs integer objective coefficients: duals are scaled and rounded
_POOL = 2_000  # the master keeps at most this many columns; beyond, the half of least reduced cost stays
_FAST_TREE = 2.0  # nodes per second below which the tree gives up after its patience (Instance7: ~10; Instance12: ~0.5)
_DP_STATES = 4_000_000  # above this many states per employee (~50 MB of tables), CP-SAT prices instead


class _Pricer:
    """One employee's schedules, re-priced per dual vector: by dynamic programming
    (:mod:`hygeia.operations.roster.pricing`) where its table is small enough, else by CP-SAT on the
    compact model restricted to that employee -- both exact."""

    def __init__(self, instance: CurtoisInstance, eid: str) -> None:
        self.instance, self.eid = instance, eid
        self.shifts = list(instance.shifts)
        self.request = {(d, s): 0 for d in range(instance.horizon) for s in self.shifts}
        own_on = [r for r in instance.on_requests if r.employee == eid]
        self.constant = sum(r.weight for r in own_on)
        for r in own_on:
            self.request[r.day, r.shift] -= r.weight
        for r in instance.off_requests:
            if r.employee == eid:
                self.request[r.day, r.shift] += r.weight
        self.matrix = np.array([[self.request[d, s] for s in self.shifts] for d in range(instance.horizon)],
                               dtype=float)
        self.dp: ScheduleDP | None = ScheduleDP(instance, eid)
        if self.dp.states > _DP_STATES:
            self.dp = None
            self._compact()

    def _compact(self) -> None:
        from hygeia.operations.roster.solve import build_model  # solve imports this module

        own = dataclasses.replace(
            self.instance, staff={self.eid: self.instance.staff[self.eid]}, cover=(),
            on_requests=tuple(r for r in self.instance.on_requests if r.employee == self.eid),
            off_requests=tuple(r for r in self.instance.off_requests if r.employee == self.eid),
        )
        self.built = build_model(own)
        self.keys = [(d, s) for (_, d, s) in self.built.x]
        self.variables = list(self.built.x.values())
        self.slot = dict(zip(self.keys, self.variables, strict=True))
        self.slot.update({(d, ANY): w for (_, d), w in self.built.works.items()})

    def cost(self, pattern: Pattern) -> int:
        """Request penalties of a schedule."""
        return self.constant + sum(self.request[k] for k in pattern)

    def price(self, duals: Mapping[Slot, float], seconds: float, branch: Mapping[Slot, bool] | None = None,
              keep: int = 3) -> tuple[list[Pattern], float, bool]:
        """Up to ``keep`` schedules of least ``cost - sum of duals`` that obey the ``branch`` decisions, a
        lower bound on that least value (+inf when no schedule obeys them), and whether the search closed
        (always, by dynamic programming; CP-SAT may stop at ``seconds``)."""
        if self.dp is not None:
            cost = self.matrix - np.array([[duals.get((d, s), 0.0) for s in self.shifts]
                                           for d in range(self.instance.horizon)])
            paths, values = self.dp.cheapest(cost, branch, keep)
            if not paths:
                return [], math.inf, True
            off = len(self.shifts)
            patterns = [frozenset((d, self.shifts[i]) for d, i in enumerate(path) if i != off) for path in paths]
            return patterns, values[0] + self.constant, True
        coefficients = [round((self.request[k] - duals.get(k, 0.0)) * _SCALE) for k in self.keys]
        model = self.built.model
        model.minimize(cp_model.LinearExpr.weighted_sum(self.variables, coefficients))
        model.clear_assumptions()
        model.add_assumptions([self.slot[k] if works else self.slot[k].Not() for k, works in (branch or {}).items()])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.01, seconds)
        found = _Collect(self.variables)
        status = solver.solve(model, found)
        if status == cp_model.INFEASIBLE:
            return [], math.inf, True
        if status == cp_model.UNKNOWN:  # stopped before anything was known: its "bound" (0) is no bound
            return [], -math.inf, False
        # rounding each coefficient moves the objective by at most 0.5/_SCALE per variable
        slack = 0.5 * len(self.keys) / _SCALE
        bound = solver.best_objective_bound / _SCALE + self.constant - slack
        patterns = [frozenset(k for k, v in zip(self.keys, values, strict=True) if v)
                    for values in found.solutions[-keep:]]
        return patterns, bound, status == cp_model.OPTIMAL


class _Collect(cp_model.CpSolverSolutionCallback):
    def __init__(self, variables: list[cp_model.IntVar]) -> None:
        super().__init__()
        self.variables = variables
        self.solutions: list[list[int]] = []

    def on_solution_callback(self) -> None:
        self.solutions.append([self.value(v) for v in self.variables])


@dataclasses.dataclass
class MasterSolution:
    value: float  # master LP objective over the columns that obey the branch
    weights: dict[int, float]  # column index -> LP weight
    bound: float  # a valid lower bound for every roster that obeys the branch (Lagrangian)
    converged: bool  # no column prices out: ``value`` is the LP optimum over all schedules


@dataclasses.dataclass
class Search:
    """What :meth:`ColumnGeneration.branch_and_price` found: best roster, its objective, the root bound."""

    roster: dict[str, Pattern] | None = None
    objective: float = math.inf
    bound: float = -math.inf  # root lower bound (the optimum when ``complete``)
    complete: bool = False  # the tree was exhausted: ``roster`` is optimal
    nodes: int = 0
    root_seconds: float = math.nan  # time to the root LP optimum


def priced_by_cp_sat(instance: CurtoisInstance) -> int:
    """How many employees' pricing problems exceed the dynamic programme's table (CP-SAT prices those)."""
    return sum(ScheduleDP(instance, eid).states > _DP_STATES for eid in instance.staff)


def _with_days(pattern: Pattern) -> Pattern:
    return pattern | {(d, ANY) for d, _ in pattern}


class ColumnGeneration:
    """Schedules generated so far, the master LP over them, and a branch and price on top."""

    def __init__(self, instance: CurtoisInstance, workers: int = 1) -> None:
        self.instance = instance
        self.employees = list(instance.staff)
        self.cover = {(c.day, c.shift): c for c in instance.cover}
        self.rows = list(self.cover)
        self.row_of = {k: i for i, k in enumerate(self.rows)}
        self.pricers = {e: _Pricer(instance, e) for e in self.employees}
        self.slot_index = {(d, s): i for i, (d, s) in enumerate(
            (d, s) for d in range(instance.horizon) for s in (*instance.shifts, ANY))}
        self.parameters = pywraplp.MPSolverParameters()  # no presolve, so that re-solves start from the basis
        self.parameters.SetIntegerParam(self.parameters.PRESOLVE, self.parameters.PRESOLVE_OFF)
        self.parameters.SetIntegerParam(self.parameters.INCREMENTALITY, self.parameters.INCREMENTALITY_ON)
        self.row = {e: i for i, e in enumerate(self.employees)}  # each employee's convexity row
        self._reset()
        self.workers = max(1, workers)
        self.pool = ThreadPoolExecutor(self.workers)  # pricing releases the GIL (numba nogil, CP-SAT)

    def _reset(self) -> None:
        """No columns, and a fresh master LP in GLOP (kept between solves, which restart from the last
        basis): one convexity row per employee (= 1), then the cover rows (= requirement); the under- and
        over-cover slack of each cover row, then one column per generated schedule, appended as they come."""
        self.columns: list[tuple[str, Pattern, int]] = []
        self.days: list[Pattern] = []  # each column's pattern with its (day, ANY) slots
        self.owned: dict[str, list[int]] = {e: [] for e in self.employees}  # each employee's columns
        self.rows_of: dict[str, list[np.ndarray]] = {e: [] for e in self.employees}  # their slots, as 0/1 rows
        self.stacked: dict[str, np.ndarray] = {}
        self.known: set[tuple[str, Pattern]] = set()
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.constraints = [self.lp.Constraint(1.0, 1.0) for _ in self.employees]
        objective = self.lp.Objective()
        objective.SetMinimization()
        for k in self.rows:
            row = self.lp.Constraint(self.cover[k].requirement, self.cover[k].requirement)
            self.constraints.append(row)
            for weight, sign in ((self.cover[k].under_weight, 1.0), (self.cover[k].over_weight, -1.0)):
                slack = self.lp.NumVar(0.0, math.inf, "")
                row.SetCoefficient(slack, sign)
                objective.SetCoefficient(slack, weight)
        self.variables: list[pywraplp.Variable] = []  # one per column
        self.enabled: list[bool] = []  # each column's upper bound as last set: open, or 0 (a branch excludes it)
        self.last: tuple[dict[Slot, float], dict[str, float], dict[int, float]] | None = None  # last LP's duals

    def purge(self, keep: int) -> None:
        """Keep the ``keep`` columns of least reduced cost under the last LP's duals (and every column with LP
        weight): a smaller LP solves faster, and a dropped schedule is priced again if it is needed."""
        if self.last is None or len(self.columns) <= keep:
            return
        cover_duals, employee_duals, weights = self.last
        reduced = [cost - employee_duals[e] - sum(cover_duals.get(k, 0.0) for k in pattern)
                   for e, pattern, cost in self.columns]
        kept = set(weights) | set(np.argsort(reduced)[:keep].tolist())
        columns = [self.columns[j] for j in sorted(kept)]
        self._reset()
        for eid, pattern, _ in columns:
            self.add(eid, pattern)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def add(self, eid: str, pattern: Pattern) -> bool:
        if (eid, pattern) in self.known:
            return False
        self.known.add((eid, pattern))
        cost = self.pricers[eid].cost(pattern)
        self.columns.append((eid, pattern, cost))
        self.days.append(_with_days(pattern))
        row = np.zeros(len(self.slot_index), dtype=bool)
        row[[self.slot_index[k] for k in self.days[-1]]] = True
        self.owned[eid].append(len(self.columns) - 1)
        self.rows_of[eid].append(row)
        variable = self.lp.NumVar(0.0, math.inf, "")
        self.constraints[self.row[eid]].SetCoefficient(variable, 1.0)
        for k in pattern:
            if k in self.row_of:
                self.constraints[len(self.employees) + self.row_of[k]].SetCoefficient(variable, 1.0)
        self.lp.Objective().SetCoefficient(variable, cost)
        self.variables.append(variable)
        self.enabled.append(True)
        return True

    def master(self, branch: Branch) -> tuple[float, dict[Slot, float], dict[str, float], dict[int, float]]:
        """Solve the restricted master LP over the columns that obey ``branch`` (the others get an upper
        bound of 0; GLOP re-solves from its last basis): value, cover duals, employee duals, weights."""
        active = self.obeying(branch)
        for j in np.flatnonzero(active != np.array(self.enabled)):
            self.enabled[j] = bool(active[j])
            self.variables[j].SetUb(math.inf if active[j] else 0.0)
        status = self.lp.Solve(self.parameters)
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"master LP failed: GLOP status {status}")
        result = linear_solver_pb2.MPSolutionResponse()  # all values in one call (~10x faster than one per variable)
        self.lp.FillSolutionResponseProto(result)
        duals, m = result.dual_value, len(self.employees)
        employee_duals = {e: duals[i] for i, e in enumerate(self.employees)}
        cover_duals = {k: duals[m + i] for i, k in enumerate(self.rows)}
        values = np.array(result.variable_value[2 * len(self.rows):])  # the cover slacks come first
        weights = {int(j): float(values[j]) for j in np.flatnonzero(active & (values > 1e-9))}
        self.last = cover_duals, employee_duals, weights
        return self.lp.Objective().Value(), cover_duals, employee_duals, weights

    def obeying(self, branch: Branch) -> np.ndarray:
        """Which columns keep the branch decisions, as one boolean per column."""
        ok = np.ones(len(self.columns), dtype=bool)
        for eid, rule in branch.items():
            if rule and self.owned[eid]:
                if len(self.stacked.get(eid, ())) != len(self.owned[eid]):
                    self.stacked[eid] = np.vstack(self.rows_of[eid])
                where = np.fromiter((self.slot_index[k] for k in rule), dtype=np.int64, count=len(rule))
                want = np.fromiter(rule.values(), dtype=bool, count=len(rule))
                ok[self.owned[eid]] = (self.stacked[eid][:, where] == want).all(axis=1)
        return ok

    def generate(self, branch: Branch, deadline: float, cutoff: float = math.inf) -> MasterSolution | None:
        """Column generation to LP optimality (or the deadline, or until the Lagrangian bound reaches
        ``cutoff``) under ``branch``; None when some employee has no schedule that obeys it."""
        if len(self.columns) > _POOL:
            self.purge(_POOL // 2)
        active = self.obeying(branch)
        for eid in self.employees:  # every employee needs a column that obeys the branch
            if not active[self.owned[eid]].any():
                patterns, _, _ = self.pricers[eid].price({}, max(0.01, deadline - time.perf_counter()),
                                                         branch.get(eid), 1)
                if not patterns:
                    return None
                self.add(eid, patterns[0])
        bound = -math.inf
        # an employee pinned to one schedule has nothing to price (that column is in the LP at reduced cost
        # 0). Partial pricing: after a full round, only the employees that gave columns are priced again,
        # until none does; then a full round (the only kind that yields a bound) confirms convergence
        size = len(self.slot_index)
        free = [e for e in self.employees if len(branch.get(e, ())) < size]
        subset = free
        while True:
            value, cover_duals, employee_duals, weights = self.master(branch)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return MasterSolution(value, weights, bound, False)
            priced = list(self.pool.map(self.pricers_for(cover_duals, deadline, branch), subset))
            lagrangian, exact, gave = value, True, []
            for eid, (patterns, least, closed) in zip(subset, priced, strict=True):
                lagrangian += min(0.0, least - employee_duals[eid])
                exact &= closed
                for pattern in patterns:
                    reduced = self.pricers[eid].cost(pattern) - sum(cover_duals.get(k, 0.0) for k in pattern)
                    if reduced - employee_duals[eid] < -1e-6 and self.add(eid, pattern) and eid not in gave:
                        gave.append(eid)
            if subset is free:
                bound = max(bound, lagrangian)
                # converged when no column prices out and every pricing problem closed (else price again)
                if bound >= cutoff or (not gave and exact):
                    return MasterSolution(value, weights, bound, exact and not gave)
            subset = gave or free

    def pricers_for(self, duals: Mapping[Slot, float], deadline: float,
                    branch: Branch) -> Callable[[str], tuple[list[Pattern], float, bool]]:
        # each call gets the time left when it starts (the pool runs them a few at a time)
        return lambda eid: self.pricers[eid].price(duals, deadline - time.perf_counter(), branch.get(eid))

    def start(self, deadline: float = math.inf) -> None:
        """One column per employee: its own cheapest schedule, cover ignored (the master pays the slack)."""
        priced = self.pool.map(lambda e: self.pricers[e].price({}, min(5.0, deadline - time.perf_counter())),
                               self.employees)
        for eid, (patterns, least, _) in zip(self.employees, priced, strict=True):
            if not patterns and least == math.inf:
                raise ValueError(f"employee {eid} has no schedule that satisfies their hard constraints")
            for pattern in patterns:
                self.add(eid, pattern)

    def pinned(self, pattern: Pattern) -> dict[Slot, bool]:
        """Branch decisions that leave an employee exactly ``pattern``."""
        days = _with_days(pattern)
        return {(d, s): (d, s) in days for d in range(self.instance.horizon) for s in (*self.instance.shifts, ANY)}

    def dive(self, branch: Branch, deadline: float, search: Search, improve: Found,
             rng: random.Random | None = None) -> None:
        """A column dive from ``branch`` (a primal heuristic: rosters only, no bound): re-solve the LP, keep
        one schedule of one employee -- the one of largest LP weight, or with ``rng`` one drawn among those
        of weight >= 0.5 -- and every schedule at weight >= 0.99, until the LP is integral or its bound
        reaches the incumbent. Diving on whole columns is the heuristic that finds good rosters fastest in
        branch and price (Sadykov et al. 2019, "Primal heuristics for branch and price: the assets of diving
        methods", INFORMS J. Computing 31:251-267)."""
        size = len(self.slot_index)
        branch = {e: dict(rule) for e, rule in branch.items()}
        while time.perf_counter() < deadline:
            search.nodes += 1
            node = self.generate(branch, deadline, cutoff=search.objective - 1 + 1e-6)
            if node is None or not node.converged or math.ceil(node.bound - 1e-6) >= search.objective:
                return
            loose = sorted(((w, j) for j, w in node.weights.items() if len(branch.get(self.columns[j][0], ())) < size),
                           reverse=True)
            if not any(w < 1 - 1e-6 for w, _ in loose):  # integral: every employee has one schedule
                improve(round(node.value), {self.columns[j][0]: self.columns[j][1] for j in node.weights})
                return
            likely = [j for w, j in loose if w >= 0.5]
            pick = rng.choice(likely) if rng is not None and likely else loose[0][1]
            for weight, j in loose:
                if j == pick or weight >= 0.99:
                    branch[self.columns[j][0]] = self.pinned(self.columns[j][1])

    def branch_and_price(self, deadline: float, found: Found | None = None,
                         incumbent: tuple[float, dict[str, Pattern]] | None = None,
                         root_deadline: float | None = None, seed: int = 0, patience: float = math.inf) -> Search:
        """Branch and price from ``incumbent``: an exact best-bound tree, and column dives (:meth:`dive`; greedy
        from the root first, then randomised) from the node about to be solved, or every second one from an
        open node drawn at random: before every node at first, and twice as many nodes apart (up to 32) after
        each dive that found nothing. Nodes branch
        on one employee working a day at all, else on working one shift on one day (the most nearly integral
        fractional one); nodes whose bound reaches the incumbent are pruned; the search ends when the tree
        is exhausted (the roster is then optimal) or at ``deadline``. Gives up (bound only) when the root LP
        is not optimal by ``root_deadline``, and (bound and incumbent) ``patience`` seconds after the root unless
        it has solved ``_FAST_TREE`` nodes (dive steps included) per second of its time by then: a tree whose
        nodes take seconds (the largest instances) finds little, and the caller's LNS does better."""
        search, started, rng = Search(), time.perf_counter(), random.Random(seed)
        self.start(root_deadline or deadline)
        if incumbent is not None:  # its schedules become columns, and it prunes the tree from the start
            search.objective, search.roster = incumbent
            for eid, pattern in incumbent[1].items():
                self.add(eid, pattern)

        def improve(objective: float, roster: dict[str, Pattern]) -> None:
            if objective < search.objective:
                search.objective, search.roster = objective, roster
                if found:
                    found(objective, roster)

        root = self.generate({}, root_deadline or deadline)
        search.nodes = 1
        if root is None or not root.converged:  # no schedule at all, or the root LP did not converge in time
            search.bound = -math.inf if root is None else root.bound
            return search
        search.bound, search.root_seconds = root.bound, time.perf_counter() - started
        give_up = time.perf_counter() + patience

        def until() -> float:  # the deadline, or the end of the patience while the tree is slow
            return deadline if search.nodes >= _FAST_TREE * (give_up - started) else min(deadline, give_up)

        # open nodes: (bound of the parent, -depth, "works it" child first, tie, branch): among equal bounds
        # the deepest node is next, so that the tree itself dives towards integral rosters
        open_nodes: list[tuple[float, int, int, int, Branch]] = [(root.bound, 0, 0, 0, {})]
        interval, waited, dives = 1, 0, 0  # tree nodes between dives: doubles after a dive that found nothing (to 32)
        while open_nodes and time.perf_counter() < until():
            parent_bound, depth, _, _, branch = heapq.heappop(open_nodes)
            if math.ceil(parent_bound - 1e-6) >= search.objective:
                continue
            waited += 1
            if waited >= interval:
                # every second dive starts from an open node drawn at random instead of the next one: the
                # depth-first ties keep the tree in one subtree for long, and its dives with it
                dives, before, waited = dives + 1, search.objective, 0
                origin = rng.choice(open_nodes)[4] if dives % 2 == 0 and open_nodes else branch
                self.dive(origin, until(), search, improve, rng if search.nodes > 1 else None)
                interval = 1 if search.objective < before else min(2 * interval, 32)
            search.nodes += 1
            node = self.generate(branch, deadline, cutoff=search.objective - 1 + 1e-6)
            if node is None or not node.converged or math.ceil(node.bound - 1e-6) >= search.objective:
                continue
            worked: dict[tuple[str, Slot], float] = {}
            for j, weight in node.weights.items():
                for slot in self.days[j]:
                    key = (self.columns[j][0], slot)
                    worked[key] = worked.get(key, 0.0) + weight
            fractional = [(key[1][1] == ANY, v, key) for key, v in worked.items() if 1e-6 < v < 1 - 1e-6]
            if not fractional:  # integral: each employee has one schedule at weight 1
                improve(round(node.value), {self.columns[j][0]: self.columns[j][1] for j in node.weights})
                continue
            _, _, (eid, slot) = max(fractional)  # a fractional day first, the most nearly integral one
            for works in (False, True):
                child = {e: dict(rule) for e, rule in branch.items()}
                child.setdefault(eid, {})[slot] = works
                heapq.heappush(open_nodes, (node.bound, depth - 1, -works, search.nodes, child))
        search.complete = not open_nodes and search.roster is not None and time.perf_counter() < deadline
        return search
