"""One employee's cheapest schedules under given day/shift costs, by dynamic programming (exact).

The pricing problem of the roster column generation (:mod:`hygeia.operations.roster.colgen`): with the
cover duals as prices, find the schedules of least reduced cost that satisfy every hard rule of the
Curtois & Qu problem for one employee. Burke & Curtois (2014, EJOR 237:71-81) price with dynamic
programming for the same reason we do: it is exact and takes milliseconds.

State after each day: the shift worked that day (or off), the length of the current block (days off
are counted up to the minimum rest only), minutes worked (in units of the greatest common divisor of
the shift lengths), weekends worked (only when the limit can bind) and the number worked of each shift
type whose limit can bind. The rules are those of :func:`hygeia.operations.roster.solve.build_model`
and :func:`hygeia.operations.roster.curtois.evaluate_curtois`: blocks that touch either end of the
horizon are exempt from the minimum lengths. The table is dense, so :attr:`ScheduleDP.states` says how
large it is and the caller falls back to CP-SAT beyond a limit (long horizons, odd shift lengths).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numba import njit

from hygeia.operations.roster.curtois import CurtoisInstance

ANY = "*"  # the shift of a slot that means "works that day, whichever shift"


class ScheduleDP:
    """The dynamic programme of one employee's schedules; :meth:`cheapest` re-solves it for new costs."""

    def __init__(self, instance: CurtoisInstance, eid: str) -> None:
        st, horizon = instance.staff[eid], instance.horizon
        self.horizon, self.shifts = horizon, list(instance.shifts)
        lengths = [instance.shifts[s].minutes for s in self.shifts]
        unit = math.gcd(*lengths) or 1
        self.minutes = np.array([m // unit for m in lengths], dtype=np.int64)
        self.low, self.high = math.ceil(st.min_minutes / unit), st.max_minutes // unit
        n = len(self.shifts)
        self.follow = np.ones((n, n), dtype=np.bool_)
        for i, s in enumerate(self.shifts):
            for j, t in enumerate(self.shifts):
                self.follow[i, j] = t not in instance.shifts[s].cannot_follow
        off = instance.days_off.get(eid, frozenset())
        self.allowed = np.ones((horizon, n + 1), dtype=np.bool_)  # column n: off
        for d in off:
            if 0 <= d < horizon:
                self.allowed[d, :n] = False
        # a shift type is counted only when its limit can bind: 0 forbids it, >= the days it can be worked ignores it
        open_days = horizon - len({d for d in off if 0 <= d < horizon})
        self.radix = np.zeros(n, dtype=np.int64)
        self.limit = np.zeros(n, dtype=np.int64)
        counts = 1
        for i, s in enumerate(self.shifts):
            limit = st.max_shifts.get(s, horizon)
            if limit <= 0:
                self.allowed[:, i] = False
            elif limit < open_days:
                self.radix[i], self.limit[i] = counts, limit
                counts *= limit + 1
        self.counts = counts
        weekends = instance.weekends()
        track = st.max_weekends < len(weekends)
        self.weekend = np.zeros(horizon, dtype=np.bool_)
        self.first = np.zeros(horizon, dtype=np.bool_)
        if track:
            for days in weekends:
                self.weekend[list(days)] = True
                self.first[days[0]] = True
        self.max_weekends = st.max_weekends if track else 0
        self.max_run = max(1, min(st.max_consecutive, horizon))
        self.min_run, self.min_rest = st.min_consecutive, max(1, st.min_consecutive_off)
        runs = max(self.max_run, self.min_rest)
        self.states = horizon * (n + 1) * runs * (self.high + 1) * (self.max_weekends + 1) * counts

    def allowed_under(self, branch: Mapping[tuple[int, str], bool] | None) -> np.ndarray:
        """The day-by-option table with branch decisions applied: (day, shift or ANY) -> worked or not."""
        if not branch:
            return self.allowed
        allowed, n = self.allowed.copy(), len(self.shifts)
        for (d, s), works in branch.items():
            if s == ANY:
                if works:
                    allowed[d, n] = False
                else:
                    allowed[d, :n] = False
            elif works:
                keep = allowed[d, self.shifts.index(s)]
                allowed[d, :] = False
                allowed[d, self.shifts.index(s)] = keep
            else:
                allowed[d, self.shifts.index(s)] = False
        return allowed

    def cheapest(self, cost: np.ndarray, branch: Mapping[tuple[int, str], bool] | None = None,
                 keep: int = 3) -> tuple[list[list[int]], list[float]]:
        """Up to ``keep`` schedules of least total ``cost[day, shift]`` (days off cost 0), cheapest first,
        each as the shift index per day (``len(shifts)`` = off), with their costs; none when the rules
        (and ``branch``) leave no schedule."""
        paths, values = _cheapest(np.ascontiguousarray(cost, dtype=np.float64), self.allowed_under(branch),
                                  self.follow, self.minutes, self.radix, self.limit, self.counts, self.weekend,
                                  self.first, self.max_weekends, self.max_run, self.min_run, self.min_rest,
                                  self.low, self.high, keep)
        return [list(p) for p in paths], [float(v) for v in values]


@njit(cache=True, nogil=True)
def _cheapest(cost, allowed, follow, minutes, radix, limit, counts, weekend, first, max_weekends,  # type: ignore[no-untyped-def]
              max_run, min_run, min_rest, low, high, keep):
    horizon, options = allowed.shape
    off = options - 1
    runs = max(max_run, min_rest)
    weekends = max_weekends + 1
    size = options * runs * (high + 1) * weekends * counts
    best = np.full((horizon, size), np.inf)
    pred = np.full((horizon, size), -1, dtype=np.int32)
    if allowed[0, off]:
        best[0, ((off * runs) * (high + 1)) * weekends * counts] = 0.0
    for s in range(off):
        w = 1 if weekend[0] else 0
        if allowed[0, s] and minutes[s] <= high and w <= max_weekends and (radix[s] == 0 or limit[s] >= 1):
            best[0, (((s * runs) * (high + 1) + minutes[s]) * weekends + w) * counts + radix[s]] = cost[0, s]
    for d in range(1, horizon):
        for last in range(options):
            for r in range(runs):
                run = r + 1
                for m in range(high + 1):
                    for w in range(weekends):
                        for c in range(counts):
                            here = (((last * runs + r) * (high + 1) + m) * weekends + w) * counts + c
                            value = best[d - 1, here]
                            if value == np.inf:
                                continue
                            if last == off:
                                if allowed[d, off]:  # another day off; rest counted up to the minimum
                                    rest = min(run, min_rest - 1)
                                    nxt = (((off * runs + rest) * (high + 1) + m) * weekends + w) * counts + c
                                    if value < best[d, nxt]:
                                        best[d, nxt], pred[d, nxt] = value, here
                                if run < min_rest and run != d:  # interior rest shorter than the minimum
                                    continue
                            else:
                                if allowed[d, off] and (run >= min_run or run == d):
                                    nxt = (((off * runs) * (high + 1) + m) * weekends + w) * counts + c
                                    if value < best[d, nxt]:
                                        best[d, nxt], pred[d, nxt] = value, here
                                if run >= max_run:
                                    continue
                            for s in range(off):
                                if not allowed[d, s] or (last != off and not follow[last, s]):
                                    continue
                                nm = m + minutes[s]
                                if nm > high:
                                    continue
                                nc = c
                                if radix[s] > 0:
                                    if (c // radix[s]) % (limit[s] + 1) >= limit[s]:
                                        continue
                                    nc = c + radix[s]
                                nw = w + 1 if weekend[d] and (first[d] or last == off) else w
                                if nw > max_weekends:
                                    continue
                                nr = 0 if last == off else run
                                nxt = (((s * runs + nr) * (high + 1) + nm) * weekends + nw) * counts + nc
                                total = value + cost[d, s]
                                if total < best[d, nxt]:
                                    best[d, nxt], pred[d, nxt] = total, here
    # final states with enough minutes, cheapest first
    block = (high + 1) * weekends * counts
    final = best[horizon - 1].copy()
    for i in range(size):
        if (i % block) // (weekends * counts) < low:
            final[i] = np.inf
    order = np.argsort(final)
    found = 0
    while found < min(keep, size) and final[order[found]] < np.inf:
        found += 1
    paths = np.empty((found, horizon), dtype=np.int64)
    values = np.empty(found)
    for k in range(found):
        i = order[k]
        values[k] = final[i]
        for d in range(horizon - 1, -1, -1):
            paths[k, d] = i // (runs * block)
            i = pred[d, i]
    return paths, values
