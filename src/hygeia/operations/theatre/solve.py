"""IHTC-2024 solver: a greedy construction, then simulated annealing over the full objective
(:mod:`hygeia.operations.theatre.search`), one independent chain per worker; the best chain's solution is
re-checked by the official-semantics evaluator, whose cost is the Plan's objective.

With ``iterations`` set every chain makes exactly that many moves (unless the time limit comes first), so a seed
reproduces its result on any machine; with only a time limit the result depends on the machine's speed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from multiprocessing import get_context

from hygeia.operations.plan import Plan
from hygeia.operations.theatre.evaluate import Evaluation, evaluate
from hygeia.operations.theatre.model import Instance, Solution, solution_to_json
from hygeia.operations.theatre.search import SearchResult, anneal, construct

Progress = Callable[[float, int], None]
_VERSION = f"hygeia-ihtc-sa/{version('hygeia')}"


def _chain(inst: Instance, deadline: float, seed: int, iterations: int | None,
           progress: Progress | None = None) -> SearchResult:
    """One construction + annealing chain, stopping at ``deadline`` (``time.monotonic()``, system-wide)."""
    start = time.monotonic()
    time_limit = max(0.1, deadline - start)
    rng = random.Random(seed)
    state = construct(inst, rng)
    if progress:
        progress(time.monotonic() - start, state.cost)
    return anneal(state, time_limit, rng, iterations=iterations, progress=progress, clock_start=start)


def solve_ihtc(inst: Instance, time_limit: float = 600.0, *, workers: int = 2, seed: int = 0,
               progress: Progress | None = None, iterations: int | None = None) -> Plan:
    """Solve an IHTC-2024 instance within ``time_limit`` seconds with ``workers`` annealing chains (seeds
    ``seed``, ``seed + 1``, …); ``progress(seconds, cost)`` is called on each improvement of the first chain."""
    start = time.monotonic()
    workers = max(1, workers)
    # the other chains run in their own processes; leave them a little time to start and report back
    deadline = start + max(0.5, time_limit - (1.0 if workers > 1 else 0.2))
    results: list[SearchResult] = []
    if workers > 1:
        with ProcessPoolExecutor(workers - 1, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_chain, inst, deadline, seed + k, iterations) for k in range(1, workers)]
            results.append(_chain(inst, deadline, seed, iterations, progress))
            results += [f.result() for f in futures]
    else:
        results.append(_chain(inst, deadline, seed, iterations, progress))
    best = min(results, key=lambda r: r.cost)
    ev = evaluate(inst, best.solution)
    notes = [f"{len(results)} annealing chain(s); {sum(r.iterations for r in results)} moves; "
             f"best found after {best.time_to_best:.1f} s"]
    if not ev.feasible:
        notes.append("hard-constraint violations: " + ", ".join(f"{k}={v}" for k, v in ev.violations.items() if v))
    return _plan(inst, best.solution, ev, time.monotonic() - start, tuple(notes))


def _plan(inst: Instance, sol: Solution, ev: Evaluation, seconds: float, notes: tuple[str, ...]) -> Plan:
    return Plan("ihtc2024", float(ev.total_cost), ev.feasible, seconds, assignments=solution_to_json(inst, sol),
                cost_breakdown={k: float(v) for k, v in ev.weighted.items()}, solver_version=_VERSION, notes=notes)
