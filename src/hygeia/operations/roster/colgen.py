"""Column generation for the Curtois & Qu problem: a tight lower bound and near-optimal rosters.

Dantzig-Wolfe reformulation, as in the branch and price of Burke & Curtois (2014, "New approaches to
nurse rostering benchmark instances", EJOR 237:71-81): a column is one employee's whole schedule over
the horizon; the master LP picks a convex combination of schedules per employee and pays under- and
over-cover as slack; the pricing problem -- the cheapest schedule of one employee under the duals of
the cover rows -- is solved exactly by CP-SAT on that employee's part of the compact model
(:func:`hygeia.operations.roster.solve.build_model`), so every hard rule is the compact model's own.

The master LP's value is a valid lower bound once no schedule prices out, and before that the
Lagrangian bound (LP value plus each employee's most negative reduced cost) is. On the published
instances the bound is within 1-3 of the best-known objective (Instance5: 1140.6 against 1143).
:meth:`ColumnGeneration.branch_and_price` turns the LP into rosters: a first dive that keeps whole
schedules, then a best-bound search with dives, and master MIPs over the generated columns.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import linprog
from scipy.sparse import csc_matrix

from hygeia.operations.roster.curtois import CurtoisInstance

ANY = "*"  # the shift of a slot that means "works that day, whichever shift"
Slot = tuple[int, str]  # (day, shift or ANY)
Pattern = frozenset[Slot]  # the slots one employee works
Branch = dict[str, dict[Slot, bool]]  # employee -> slot -> must work it (True) or must not (False)
_SCALE = 10_000  # CP-SAT needs integer objective coefficients: duals are scaled and rounded


class _Pricer:
    """One employee's schedules: the compact model restricted to that employee, re-solved per dual vector."""

    def __init__(self, instance: CurtoisInstance, eid: str) -> None:
        from hygeia.operations.roster.solve import build_model  # solve imports this module

        own = dataclasses.replace(
            instance, staff={eid: instance.staff[eid]}, cover=(),
            on_requests=tuple(r for r in instance.on_requests if r.employee == eid),
            off_requests=tuple(r for r in instance.off_requests if r.employee == eid),
        )
        self.built = build_model(own)
        self.keys = [(d, s) for (_, d, s) in self.built.x]
        self.variables = list(self.built.x.values())
        self.slot = dict(zip(self.keys, self.variables, strict=True))
        self.slot.update({(d, ANY): w for (_, d), w in self.built.works.items()})
        self.request = dict.fromkeys(self.keys, 0)
        self.constant = sum(r.weight for r in own.on_requests)
        for r in own.on_requests:
            self.request[r.day, r.shift] -= r.weight
        for r in own.off_requests:
            self.request[r.day, r.shift] += r.weight

    def cost(self, pattern: Pattern) -> int:
        """Request penalties of a schedule."""
        return self.constant + sum(self.request[k] for k in pattern)

    def price(self, duals: Mapping[Slot, float], seconds: float, branch: Mapping[Slot, bool] | None = None,
              keep: int = 3) -> tuple[list[Pattern], float, bool]:
        """Schedules of least ``cost - sum of duals`` that obey the ``branch`` decisions (the optimum and up
        to ``keep - 1`` of the improving solutions found on the way), a lower bound on that least value
        (+inf when no schedule obeys them), and whether the search closed."""
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
    mip_calls: int = 0
    exhaustive: bool = True  # no heuristic fixing cut the tree
    root_seconds: float = math.nan  # time to the root LP optimum


def _obeys(pattern: Pattern, branch: Mapping[Slot, bool]) -> bool:
    """Whether a schedule keeps the branch decisions; ``pattern`` must hold its (day, ANY) slots too."""
    return all((slot in pattern) == works for slot, works in branch.items())


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
        self.columns: list[tuple[str, Pattern, int]] = []
        self.days: list[Pattern] = []  # each column's pattern with its (day, ANY) slots, for branch checks
        self.known: set[tuple[str, Pattern]] = set()
        self.workers = max(1, workers)
        self.pool = ThreadPoolExecutor(self.workers)  # CP-SAT releases the GIL while it solves

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def add(self, eid: str, pattern: Pattern) -> bool:
        if (eid, pattern) in self.known:
            return False
        self.known.add((eid, pattern))
        self.columns.append((eid, pattern, self.pricers[eid].cost(pattern)))
        self.days.append(_with_days(pattern))
        return True

    def _matrix(self, active: list[int]) -> tuple[csc_matrix, np.ndarray, np.ndarray]:
        """Rows: one convexity row per employee, then the cover rows; columns: ``active``, then the under-
        and over-cover slack of each cover row."""
        slot = {e: i for i, e in enumerate(self.employees)}
        n, m, rows = len(active), len(self.employees), len(self.rows)
        ri, ci = [], []
        for jj, j in enumerate(active):
            eid, pattern, _ = self.columns[j]
            ri.append(slot[eid])
            ci.append(jj)
            for k in pattern:
                if k in self.row_of:
                    ri.append(m + self.row_of[k])
                    ci.append(jj)
        data = [1.0] * len(ri)
        for i in range(rows):
            ri += [m + i, m + i]
            ci += [n + i, n + rows + i]
            data += [1.0, -1.0]
        matrix = csc_matrix((data, (ri, ci)), shape=(m + rows, n + 2 * rows))
        cost = np.array([self.columns[j][2] for j in active]
                        + [self.cover[k].under_weight for k in self.rows]
                        + [self.cover[k].over_weight for k in self.rows], dtype=float)
        rhs = np.concatenate([np.ones(m), [self.cover[k].requirement for k in self.rows]])
        return matrix, cost, rhs

    def master(self, branch: Branch) -> tuple[float, dict[Slot, float], dict[str, float], dict[int, float]]:
        """Solve the restricted master LP (HiGHS) over the columns that obey ``branch``: value, cover duals,
        employee duals, column weights."""
        active = [j for j, (e, _, _) in enumerate(self.columns) if e not in branch or _obeys(self.days[j], branch[e])]
        matrix, cost, rhs = self._matrix(active)
        result = linprog(cost, A_eq=matrix, b_eq=rhs, bounds=(0, None), method="highs")
        if result.status != 0:
            raise RuntimeError(f"master LP failed: {result.message}")
        duals, m = result.eqlin.marginals, len(self.employees)
        employee_duals = {e: float(duals[i]) for i, e in enumerate(self.employees)}
        cover_duals = {k: float(duals[m + i]) for i, k in enumerate(self.rows)}
        weights = {j: float(v) for j, v in zip(active, result.x[: len(active)], strict=True) if v > 1e-9}
        return float(result.fun), cover_duals, employee_duals, weights

    def generate(self, branch: Branch, deadline: float, cutoff: float = math.inf) -> MasterSolution | None:
        """Column generation to LP optimality (or the deadline, or until the Lagrangian bound reaches
        ``cutoff``) under ``branch``; None when some employee has no schedule that obeys it."""
        for eid in self.employees:  # every employee needs a column that obeys the branch
            rule = branch.get(eid, {})
            if not any(e == eid and _obeys(self.days[j], rule) for j, (e, _, _) in enumerate(self.columns)):
                patterns, _, _ = self.pricers[eid].price({}, max(0.01, deadline - time.perf_counter()), rule, 1)
                if not patterns:
                    return None
                self.add(eid, patterns[0])
        bound = -math.inf
        # partial pricing: after a full round, only the employees that gave columns are priced again, until
        # none does; then a full round (the only kind that yields a bound) confirms convergence
        subset = self.employees
        while True:
            value, cover_duals, employee_duals, weights = self.master(branch)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return MasterSolution(value, weights, bound, False)
            priced = list(self.pool.map(self.pricers_for(cover_duals, remaining, branch), subset))
            lagrangian, exact, gave = value, True, []
            for eid, (patterns, least, closed) in zip(subset, priced, strict=True):
                lagrangian += min(0.0, least - employee_duals[eid])
                exact &= closed
                for pattern in patterns:
                    reduced = self.pricers[eid].cost(pattern) - sum(cover_duals.get(k, 0.0) for k in pattern)
                    if reduced - employee_duals[eid] < -1e-6 and self.add(eid, pattern) and eid not in gave:
                        gave.append(eid)
            if subset is self.employees:
                bound = max(bound, lagrangian)
                # converged when no column prices out and every pricing problem closed (else price again)
                if bound >= cutoff or (not gave and exact):
                    return MasterSolution(value, weights, bound, exact and not gave)
            subset = gave or self.employees

    def pricers_for(self, duals: Mapping[Slot, float], seconds: float,
                    branch: Branch) -> Callable[[str], tuple[list[Pattern], float, bool]]:
        return lambda eid: self.pricers[eid].price(duals, seconds, branch.get(eid))

    def start(self) -> None:
        """One column per employee: its own cheapest schedule, cover ignored (the master pays the slack)."""
        priced = self.pool.map(lambda e: self.pricers[e].price({}, 5.0), self.employees)
        for eid, (patterns, _, _) in zip(self.employees, priced, strict=True):
            if not patterns:
                raise ValueError(f"employee {eid} has no schedule that satisfies their hard constraints")
            for pattern in patterns:
                self.add(eid, pattern)

    def mip(self, seconds: float, hint: Mapping[str, Pattern] | None = None, workers: int = 1,
            bound: float = -math.inf) -> tuple[float, dict[str, Pattern]] | None:
        """The best roster made of generated columns only (the master as an integer programme, CP-SAT,
        started from ``hint``), within ``seconds``."""
        model = cp_model.CpModel()
        pick = [model.new_bool_var(f"c{j}") for j in range(len(self.columns))]
        by_employee: dict[str, list[cp_model.IntVar]] = {e: [] for e in self.employees}
        staffed: dict[Slot, list[cp_model.IntVar]] = {k: [] for k in self.rows}
        terms: list[cp_model.LinearExprT] = []
        for j, (eid, pattern, cost) in enumerate(self.columns):
            by_employee[eid].append(pick[j])
            if cost:
                terms.append(cost * pick[j])
            for k in pattern:
                if k in staffed:
                    staffed[k].append(pick[j])
            if hint is not None:
                model.add_hint(pick[j], int(hint.get(eid) == pattern))
        for group in by_employee.values():
            model.add_exactly_one(group)
        for k, cover in self.cover.items():
            under = model.new_int_var(0, cover.requirement, "")
            over = model.new_int_var(0, len(self.employees), "")
            model.add(sum(staffed[k]) - cover.requirement == over - under)
            terms.append(cover.under_weight * under + cover.over_weight * over)
        if bound > -math.inf:  # a valid lower bound: CP-SAT stops when it reaches it
            model.add(sum(terms) >= math.ceil(bound - 1e-6))
        model.minimize(sum(terms))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        solver.parameters.max_time_in_seconds = max(0.1, seconds)
        if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        chosen = {self.columns[j][0]: self.columns[j][1] for j, v in enumerate(pick) if solver.value(v)}
        return round(solver.objective_value), chosen

    def pinned(self, pattern: Pattern) -> dict[Slot, bool]:
        """Branch decisions that leave an employee exactly ``pattern``."""
        days = _with_days(pattern)
        return {(d, s): (d, s) in days for d in range(self.instance.horizon) for s in (*self.instance.shifts, ANY)}

    def branch_and_price(self, deadline: float, found: Callable[[float, dict[str, Pattern]], None] | None = None,
                         mip_every: int = 150, mip_seconds: float = 4.0, pin: float = 0.9,
                         incumbent: tuple[float, dict[str, Pattern]] | None = None,
                         root_deadline: float | None = None) -> Search:
        """Branch and price from ``incumbent``: a first dive that keeps whole schedules (the one of largest
        LP weight and every one >= 0.99), then best-bound search with dives. Nodes branch on one employee
        working a day at all, else working one shift on one day (the most nearly integral fractional one,
        "works it" first, and the dive also keeps every schedule at LP weight >= ``pin``); nodes whose bound
        reaches the incumbent are pruned; every ``mip_every`` new columns the master is solved as a MIP over
        all columns for a roster. Gives up (bound only) when the root LP is not optimal by ``root_deadline``."""
        search, started = Search(), time.perf_counter()
        self.start()
        if incumbent is not None:  # its schedules become columns, and it prunes the tree from the start
            search.objective, search.roster = incumbent
            for eid, pattern in incumbent[1].items():
                self.add(eid, pattern)

        def improve(objective: float, roster: dict[str, Pattern]) -> None:
            if objective < search.objective:
                search.objective, search.roster = objective, roster
                if found:
                    found(objective, roster)

        def run_mip() -> None:
            remaining = deadline - time.perf_counter()
            if remaining > 0.5:
                search.mip_calls += 1
                best = self.mip(min(mip_seconds, remaining), search.roster, self.workers, search.bound)
                if best:
                    improve(*best)

        # open nodes: (bound of the parent, -depth, tie, branch); a dive follows the "works it" child
        # directly and leaves the other child here; when a dive ends, the open node of least bound is next
        open_nodes: list[tuple[float, int, int, Branch]] = []
        dive: Branch | None = {}
        column_dive = True  # the first dive keeps whole schedules (fast to a roster), then the tree starts
        last_mip = 0
        while (dive is not None or open_nodes or column_dive) and time.perf_counter() < deadline:
            if dive is None and column_dive:
                column_dive = False
                heapq.heappush(open_nodes, (search.bound, 0, 0, {}))
            if dive is None:
                parent_bound, _, _, branch = heapq.heappop(open_nodes)
                if math.ceil(parent_bound - 1e-6) >= search.objective:
                    continue
            else:
                branch, dive = dive, None
            search.nodes += 1
            node = self.generate(branch, deadline if search.nodes > 1 else (root_deadline or deadline),
                                 cutoff=search.objective - 1 + 1e-6)
            if node is None:
                continue
            if search.nodes == 1 and not node.converged:  # the root LP did not converge in time
                search.bound = node.bound
                return search
            if search.nodes == 1:
                search.bound, search.root_seconds = node.bound, time.perf_counter() - started
                run_mip()
                last_mip = len(self.columns)
            if not node.converged or math.ceil(node.bound - 1e-6) >= search.objective:
                continue
            chosen: dict[str, Pattern] = {}
            worked: dict[tuple[str, Slot], float] = {}
            for j, weight in node.weights.items():
                eid, pattern, _ = self.columns[j]
                if weight > 1 - 1e-6:
                    chosen[eid] = pattern
                for slot in self.days[j]:
                    worked[eid, slot] = worked.get((eid, slot), 0.0) + weight
            if len(chosen) == len(self.employees):
                improve(round(node.value), chosen)
                continue
            if len(self.columns) - last_mip >= mip_every:
                run_mip()
                last_mip = len(self.columns)
            if column_dive:  # keep the schedule of largest weight and every one at >= 0.99
                size = self.instance.horizon * (len(self.instance.shifts) + 1)
                dive = {e: dict(rule) for e, rule in branch.items()}
                loose = sorted(((w, j) for j, w in node.weights.items()
                                if len(branch.get(self.columns[j][0], ())) < size), reverse=True)
                for rank, (weight, j) in enumerate(loose):
                    e, pattern, _ = self.columns[j]
                    if rank == 0 or weight >= 0.99:
                        dive[e] = self.pinned(pattern)
                continue
            # branch on working a day at all when some day is fractional, else on the shift
            fractional = [(key[1][1] == ANY, v, key) for key, v in worked.items() if 1e-6 < v < 1 - 1e-6]
            _, _, (eid, slot) = max(fractional)
            depth = sum(len(rule) for rule in branch.values()) + 1
            for works in (False, True):
                child = {e: dict(rule) for e, rule in branch.items()}
                child.setdefault(eid, {})[slot] = works
                if works:
                    dive = child
                    if pin:  # heuristic: the dive also keeps every schedule the LP has all but chosen
                        for j, weight in node.weights.items():
                            e, pattern, _ = self.columns[j]
                            if weight >= pin and e != eid:
                                search.exhaustive = False
                                child[e] = self.pinned(pattern)
                else:
                    heapq.heappush(open_nodes, (node.bound, -depth, search.nodes, child))
        search.complete = (dive is None and not open_nodes and search.roster is not None and search.exhaustive
                           and time.perf_counter() < deadline)
        return search
