"""IHTC-2024 constructive heuristic and simulated annealing over the full objective.

The state keeps, per room-day, the patients present with their gender and age-group counts; per theatre-day and
surgeon-day the surgery time used; per surgeon-day-theatre the number of operations; a nurse for *every* room and
shift (empty rooms included, so an admission never uncovers a room); per nurse-shift the workload carried; per
stay and nurse the shifts she covers. Every cost component of :func:`hygeia.operations.theatre.evaluate.evaluate`
is updated incrementally by ``_room`` (a stay entering or leaving a room), ``insert``/``remove`` (a patient's
admission) and ``set_nurse`` (a room-shift's nurse), so a move costs O(length of stay × shifts per day).

Hard constraints (room capacity, gender, compatibility, admission window, theatre and surgeon time) are never
violated; an unscheduled mandatory patient costs ``MANDATORY_PENALTY`` so that the search (insertions that eject
the patients in the way) drives it into the schedule. Moves: change a patient's day, room or theatre (or all);
swap two patients' rooms; swap two patients' days and theatres (mostly two of the same surgeon); insert or
postpone an optional patient; insert with ejection (half the time pulling a delayed patient to an earlier day);
change a room-shift's nurse; swap two rooms' nurses in a shift; give one nurse all the shifts of a stay she works.
A relocation is checked against the hard constraints (:meth:`State.fits_moved`) before anything changes.
Acceptance is the Metropolis rule with geometric cooling over the time (or iteration) budget.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from hygeia.operations.theatre.model import Admission, Instance, Solution

MANDATORY_PENALTY = 100_000
TEMP_START_SCALE = 1.0  # starting temperature = this × the mean uphill step of a sample of moves
TEMP_END = 0.3
Progress = Callable[[float, int], None]


def admissible_days(inst: Instance, p: int) -> list[int]:
    """Days in the patient's window on which the surgeon and at least one theatre have time for the surgery."""
    pt = inst.patients[p]
    return [d for d in range(pt.release, min(pt.due, inst.days - 1) + 1)
            if inst.surgeon_max[pt.surgeon][d] >= pt.duration
            and any(av[d] >= pt.duration for av in inst.theatre_availability)]


class State:
    """Incremental IHTC-2024 solution; ``cost`` equals the evaluator's total plus the mandatory penalty."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        pats, occs = inst.patients, inst.occupants
        self.P, self.D, self.spd, self.S = len(pats), inst.days, inst.shifts_per_day, inst.shifts
        self.R, self.T, self.N = len(inst.room_ids), len(inst.theatre_ids), len(inst.nurses)
        w = inst.weights
        self.w_age, self.w_skill, self.w_cont = w["room_mixed_age"], w["room_nurse_skill"], w["continuity_of_care"]
        self.w_load, self.w_open, self.w_transfer = (w["nurse_eccessive_workload"], w["open_operating_theater"],
                                                     w["surgeon_transfer"])
        self.w_delay = w["patient_delay"]
        self.unsched = [0 if p.mandatory else w["unscheduled_optional"] for p in pats]
        self.mandatory = [p.mandatory for p in pats]
        self.start = [-1] * self.P + [0] * len(occs)
        self.room = [-1] * self.P + [o.room for o in occs]
        self.theatre = [-1] * self.P
        stays = list(pats) + list(occs)
        self.los = [s.los for s in stays]
        self.wl = [s.workload for s in stays]
        self.sk = [s.skill for s in stays]
        self.is_a = [s.gender == "A" for s in stays]
        self.age = [s.age for s in stays]
        rd = self.R * self.D
        self.rd_n, self.rd_a = [0] * rd, [0] * rd
        self.rd_age = [[0] * max(1, len(inst.age_groups)) for _ in range(rd)]
        self.rd_stays: list[list[int]] = [[] for _ in range(rd)]
        self.cap = list(inst.room_capacity)
        # nurse N is a stand-in for shifts nobody works (its rooms stay uncovered for the evaluator)
        self.on_duty = [inst.nurses_on(s) or [self.N] for s in range(self.S)]
        self.skill = [n.skill for n in inst.nurses] + [10**6]
        self.ns_max = [10**9] * ((self.N + 1) * self.S)
        for i, n in enumerate(inst.nurses):
            for s, m in n.max_load.items():
                self.ns_max[i * self.S + s] = m
        self.ns_load = [0] * ((self.N + 1) * self.S)
        self.seen = [[0] * (self.N + 1) for _ in stays]  # stay -> nurse -> shifts of the stay she covers
        self.rs_nurse = [self.on_duty[s][r % len(self.on_duty[s])] for r in range(self.R) for s in range(self.S)]
        self.ot_av = [a for av in inst.theatre_availability for a in av]
        self.ot_load, self.ot_cnt = [0] * (self.T * self.D), [0] * (self.T * self.D)
        self.sg_max = [m for ms in inst.surgeon_max for m in ms]
        self.sg_load = [0] * (len(inst.surgeon_ids) * self.D)
        self.sg_ots = [0] * (len(inst.surgeon_ids) * self.D)
        self.sgot = [0] * (len(inst.surgeon_ids) * self.D * self.T)
        self.days = [admissible_days(inst, p) for p in range(self.P)]
        self.rooms = [[r for r in range(self.R) if r not in p.incompatible and self.cap[r] > 0] for p in pats]
        self.cost = sum(self.unsched) + MANDATORY_PENALTY * sum(self.mandatory)
        self.missing = {p for p in range(self.P) if self.mandatory[p]}
        for i in range(self.P, len(stays)):
            self.cost += self._room(i, 0, self.room[i], 1)

    # ---------------------------------------------------------------- incremental primitives
    def _room(self, i: int, d: int, r: int, sign: int) -> int:
        """Stay ``i`` enters (sign 1) or leaves (-1) room ``r`` from day ``d``; returns the cost change."""
        D, S, spd = self.D, self.S, self.spd
        delta = 0
        wl, sk, seen = self.wl[i], self.sk[i], self.seen[i]
        age, is_a = self.age[i], self.is_a[i]
        rs_nurse, ns_load, ns_max, skill = self.rs_nurse, self.ns_load, self.ns_max, self.skill
        rd_n, rd_a, rd_age, rd_stays = self.rd_n, self.rd_a, self.rd_age, self.rd_stays
        w_skill, w_load, w_cont, w_age = self.w_skill, self.w_load, self.w_cont, self.w_age
        skill_cost = cont = 0
        end = min(D, d + self.los[i])
        k = 0
        rs = r * S + d * spd
        for rd in range(r * D + d, r * D + end):
            counts = rd_age[rd]
            c = counts[age]
            if c == 0 or (c == 1 and sign < 0):  # an age group appears or disappears: the spread may change
                before = _spread(counts)
                counts[age] = c + sign
                delta += w_age * (_spread(counts) - before)
            else:
                counts[age] = c + sign
            rd_n[rd] += sign
            if is_a:
                rd_a[rd] += sign
            if sign > 0:
                rd_stays[rd].append(i)
            else:
                rd_stays[rd].remove(i)
            for _ in range(spd):
                n = rs_nurse[rs]
                gap = sk[k] - skill[n]
                if gap > 0:
                    skill_cost += gap
                w = wl[k]
                if w:
                    ns = n * S + rs - r * S
                    old = ns_load[ns]
                    new = old + sign * w
                    ns_load[ns] = new
                    m = ns_max[ns]
                    if new > m or old > m:
                        delta += w_load * ((new - m if new > m else 0) - (old - m if old > m else 0))
                c = seen[n]
                if sign > 0:
                    if c == 0:
                        cont += 1
                    seen[n] = c + 1
                else:
                    if c == 1:
                        cont -= 1
                    seen[n] = c - 1
                k += 1
                rs += 1
        return delta + sign * w_skill * skill_cost + w_cont * cont

    def fits(self, p: int, d: int, r: int, t: int) -> bool:
        """Whether unscheduled patient ``p`` can be admitted on day ``d`` to room ``r`` and theatre ``t``."""
        pt = self.inst.patients[p]
        if self.ot_load[t * self.D + d] + pt.duration > self.ot_av[t * self.D + d]:
            return False
        sd = pt.surgeon * self.D + d
        if self.sg_load[sd] + pt.duration > self.sg_max[sd]:
            return False
        cap, is_a = self.cap[r], self.is_a[p]
        for rd in range(r * self.D + d, r * self.D + min(self.D, d + pt.los)):
            n = self.rd_n[rd]
            if n >= cap or (self.rd_a[rd] != (n if is_a else 0)):
                return False
        return True

    def fits_moved(self, p: int, d: int, r: int, t: int) -> bool:
        """Whether ``p`` would fit at (d, r, t) once taken out of its current place (if any)."""
        od = self.start[p]
        if od < 0:
            return self.fits(p, d, r, t)
        pt = self.inst.patients[p]
        D, dur = self.D, pt.duration
        own = dur if od == d else 0
        od_t = t * D + d
        if self.ot_load[od_t] + dur - (own if self.theatre[p] == t else 0) > self.ot_av[od_t]:
            return False
        sd = pt.surgeon * D + d
        if self.sg_load[sd] + dur - own > self.sg_max[sd]:
            return False
        cap, is_a, rd_n, rd_a = self.cap[r], self.is_a[p], self.rd_n, self.rd_a
        lo, hi = (od, od + pt.los) if self.room[p] == r else (0, 0)
        for dd in range(d, min(D, d + pt.los)):
            n, a = rd_n[r * D + dd], rd_a[r * D + dd]
            if lo <= dd < hi:
                n -= 1
                a -= is_a
            if n >= cap or a != (n if is_a else 0):
                return False
        return True

    def insert(self, p: int, d: int, r: int, t: int) -> int:
        pt = self.inst.patients[p]
        delta = self._room(p, d, r, 1) + self.w_delay * (d - pt.release) - self.unsched[p]
        if self.mandatory[p]:
            delta -= MANDATORY_PENALTY
            self.missing.discard(p)
        self.start[p], self.room[p], self.theatre[p] = d, r, t
        od = t * self.D + d
        if self.ot_cnt[od] == 0:
            delta += self.w_open
        self.ot_cnt[od] += 1
        self.ot_load[od] += pt.duration
        sd = pt.surgeon * self.D + d
        self.sg_load[sd] += pt.duration
        if self.sgot[sd * self.T + t] == 0:
            self.sg_ots[sd] += 1
            if self.sg_ots[sd] > 1:
                delta += self.w_transfer
        self.sgot[sd * self.T + t] += 1
        self.cost += delta
        return delta

    def remove(self, p: int) -> int:
        pt = self.inst.patients[p]
        d, r, t = self.start[p], self.room[p], self.theatre[p]
        delta = self._room(p, d, r, -1) - self.w_delay * (d - pt.release) + self.unsched[p]
        if self.mandatory[p]:
            delta += MANDATORY_PENALTY
            self.missing.add(p)
        self.start[p] = self.room[p] = self.theatre[p] = -1
        od = t * self.D + d
        self.ot_cnt[od] -= 1
        if self.ot_cnt[od] == 0:
            delta -= self.w_open
        self.ot_load[od] -= pt.duration
        sd = pt.surgeon * self.D + d
        self.sg_load[sd] -= pt.duration
        self.sgot[sd * self.T + t] -= 1
        if self.sgot[sd * self.T + t] == 0:
            if self.sg_ots[sd] > 1:
                delta -= self.w_transfer
            self.sg_ots[sd] -= 1
        self.cost += delta
        return delta

    def set_nurse(self, rs: int, new: int) -> int:
        """Give room-shift ``rs`` (room × shifts + shift) to nurse ``new``; returns the cost change."""
        old = self.rs_nurse[rs]
        if old == new:
            return 0
        r, s = divmod(rs, self.S)
        delta, load = 0, 0
        so, sn = self.skill[old], self.skill[new]
        for i in self.rd_stays[r * self.D + s // self.spd]:
            k = s - self.start[i] * self.spd
            req = self.sk[i][k]
            load += self.wl[i][k]
            delta += self.w_skill * (max(0, req - sn) - max(0, req - so))
            seen = self.seen[i]
            c = seen[old] - 1
            seen[old] = c
            if c == 0:
                delta -= self.w_cont
            c = seen[new]
            if c == 0:
                delta += self.w_cont
            seen[new] = c + 1
        self.rs_nurse[rs] = new
        if load:
            for n, sign in ((old, -1), (new, 1)):
                ns = n * self.S + s
                before = self.ns_load[ns]
                after = before + sign * load
                self.ns_load[ns] = after
                m = self.ns_max[ns]
                delta += self.w_load * (max(0, after - m) - max(0, before - m))
        self.cost += delta
        return delta

    # ---------------------------------------------------------------- undo log
    def undo(self, log: list[tuple[int, int, int, int, int]]) -> None:
        """Reverse a move's log entries: (0, rs, old nurse, -, -) or (1, p, day, room, theatre) (day -1: none)."""
        for kind, a, d, r, t in reversed(log):
            if kind == 0:
                self.set_nurse(a, d)
            else:
                if self.start[a] >= 0:
                    self.remove(a)
                if d >= 0:
                    self.insert(a, d, r, t)

    def move_patient(self, p: int, d: int, r: int, t: int, log: list[tuple[int, int, int, int, int]]) -> bool:
        """Re-admit ``p`` at (d, r, t), or postpone it when d < 0; False (state unchanged) if it does not fit."""
        od, orr, ot = self.start[p], self.room[p], self.theatre[p]
        if d >= 0 and not self.fits_moved(p, d, r, t):
            return False
        if od >= 0:
            self.remove(p)
        if d >= 0:
            self.insert(p, d, r, t)
        log.append((1, p, od, orr, ot))
        return True

    def snapshot(self) -> tuple[list[int], list[int], list[int], list[int]]:
        return self.start[:self.P], self.room[:self.P], self.theatre[:], self.rs_nurse[:]

    def solution(self, snap: tuple[list[int], list[int], list[int], list[int]] | None = None) -> Solution:
        """The competition solution of the current state (or of a :meth:`snapshot`); nurses only where a room is
        occupied."""
        start, room, theatre, rs_nurse = snap or self.snapshot()
        occupied = [False] * (self.R * self.D)
        for i in range(self.P, len(self.start)):
            for d in range(min(self.D, self.los[i])):
                occupied[self.room[i] * self.D + d] = True
        for p in range(self.P):
            for d in range(max(0, start[p]), min(self.D, start[p] + self.los[p])):
                occupied[room[p] * self.D + d] = True
        adm = tuple(Admission(start[p], room[p], theatre[p]) if start[p] >= 0 else None for p in range(self.P))
        nurses = []
        for n in range(self.N):
            for s in sorted(self.inst.nurses[n].max_load):
                for r in range(self.R):
                    if rs_nurse[r * self.S + s] == n and occupied[r * self.D + s // self.spd]:
                        nurses.append((n, s, r))
        return Solution(adm, tuple(nurses))


def _spread(counts: list[int]) -> int:
    lo = -1
    hi = 0
    for a, c in enumerate(counts):
        if c:
            if lo < 0:
                lo = a
            hi = a
    return hi - lo if lo >= 0 else 0


# -------------------------------------------------------------------- construction
def construct(inst: Instance, rng: random.Random) -> State:
    """Greedy start: mandatory patients by due day (tightest window first), each at the feasible day, room and
    theatre of least cost among its first admissible days; then optional patients when they pay off; then a
    best-nurse sweep over every room-shift."""
    st = State(inst)
    order = sorted(range(st.P), key=lambda p: (not st.mandatory[p], inst.patients[p].due,
                                              len(st.days[p]), -inst.patients[p].los, rng.random()))
    for p in order:
        best: tuple[int, int, int, int] | None = None
        tried_days = 0
        for d in st.days[p]:
            found = False
            for r in st.rooms[p]:
                for t in range(st.T):
                    if not st.fits(p, d, r, t):
                        continue
                    found = True
                    delta = st.insert(p, d, r, t)
                    st.remove(p)
                    if best is None or delta < best[0]:
                        best = (delta, d, r, t)
            tried_days += found
            if tried_days >= 4:
                break
        if best is not None and (st.mandatory[p] or best[0] < 0):
            st.insert(p, best[1], best[2], best[3])
    nurse_sweep(st)
    return st


def nurse_sweep(st: State) -> None:
    """Each room-shift in turn takes the on-duty nurse that lowers the cost most."""
    for s in range(st.S):
        for r in range(st.R):
            rs = r * st.S + s
            if not st.rd_stays[r * st.D + s // st.spd]:
                continue
            best_n, best_c = st.rs_nurse[rs], st.cost
            for n in st.on_duty[s]:
                st.set_nurse(rs, n)
                if st.cost < best_c:
                    best_n, best_c = n, st.cost
            st.set_nurse(rs, best_n)


# -------------------------------------------------------------------- simulated annealing
@dataclass(frozen=True)
class SearchResult:
    solution: Solution
    cost: int  # including MANDATORY_PENALTY per unscheduled mandatory patient
    iterations: int
    accepted: int
    time_to_best: float


class _Annealer:
    def __init__(self, st: State, rng: random.Random) -> None:
        self.st, self.rng = st, rng
        self.scheduled_any = list(range(st.P))
        self.stays = list(range(st.P + len(st.inst.occupants)))
        self.by_surgeon: list[list[int]] = [[] for _ in st.inst.surgeon_ids]
        for p, pt in enumerate(st.inst.patients):
            self.by_surgeon[pt.surgeon].append(p)

    def _theatre(self, p: int, d: int) -> int:
        """A theatre with room for ``p`` on day ``d``, preferring one already open for its surgeon."""
        st, pt = self.st, self.st.inst.patients[p]
        sd = (pt.surgeon * st.D + d) * st.T
        ok = [t for t in range(st.T) if st.ot_load[t * st.D + d] + pt.duration <= st.ot_av[t * st.D + d]]
        if not ok:
            return self.rng.randrange(st.T)
        mine = [t for t in ok if st.sgot[sd + t]]
        if mine and self.rng.random() < 0.7:
            return self.rng.choice(mine)
        opened = [t for t in ok if st.ot_cnt[t * st.D + d]]
        if opened and self.rng.random() < 0.7:
            return self.rng.choice(opened)
        return self.rng.choice(ok)

    def move(self, log: list[tuple[int, int, int, int, int]]) -> bool:
        st, rng = self.st, self.rng
        u = rng.random()
        if st.missing and u < 0.3:
            return self.eject_insert(rng.choice(sorted(st.missing)), log)
        if u < 0.45:
            p = rng.randrange(st.P)
            if not st.days[p] or not st.rooms[p]:
                return False
            if st.start[p] < 0:
                if st.mandatory[p] or rng.random() < 0.5:
                    return self.eject_insert(p, log)
                d = rng.choice(st.days[p])
                return st.move_patient(p, d, rng.choice(st.rooms[p]), self._theatre(p, d), log)
            v = rng.random()
            d, r, t = st.start[p], st.room[p], st.theatre[p]
            if v < 0.06 and not st.mandatory[p]:
                return st.move_patient(p, -1, 0, 0, log)
            if v < 0.25:
                d += rng.choice((-2, -1, 1, 2))
                if d not in st.days[p]:
                    return False
                t = t if st.ot_cnt[t * st.D + d] and rng.random() < 0.5 else self._theatre(p, d)
            elif v < 0.4:
                d = rng.choice(st.days[p])
                t = t if st.ot_cnt[t * st.D + d] and rng.random() < 0.5 else self._theatre(p, d)
            elif v < 0.7:
                r = rng.choice(st.rooms[p])
            elif v < 0.8:
                t = self._theatre(p, d)
            else:
                d = rng.choice(st.days[p])
                r, t = rng.choice(st.rooms[p]), self._theatre(p, d)
            return st.move_patient(p, d, r, t, log)
        if u < 0.5:
            return self.swap_rooms(log)
        if u < 0.55:
            return self.swap_days(log)
        if u < 0.6:
            p = rng.randrange(st.P)
            d = st.start[p]
            if d > 0 and rng.random() < 0.5:  # pull a delayed patient earlier, ejecting whoever is in the way
                earlier = [x for x in st.days[p] if x < d]
                return bool(earlier) and self.eject_insert(p, log, rng.choice(earlier))
            return self.eject_insert(p, log)
        stay = rng.choice(self.stays)
        d0 = st.start[stay]
        if d0 < 0:
            return False
        r = st.room[stay]
        s = rng.randrange(d0 * st.spd, min(st.S, (d0 + st.los[stay]) * st.spd))
        rs = r * st.S + s
        if u < 0.8:
            log.append((0, rs, st.rs_nurse[rs], 0, 0))
            st.set_nurse(rs, rng.choice(st.on_duty[s]))
            return True
        if u < 0.9:
            r2 = rng.randrange(st.R)
            rs2 = r2 * st.S + s
            a, b = st.rs_nurse[rs], st.rs_nurse[rs2]
            if a == b:
                return False
            log.append((0, rs, a, 0, 0))
            log.append((0, rs2, b, 0, 0))
            st.set_nurse(rs, b)
            st.set_nurse(rs2, a)
            return True
        # one nurse for every shift of this stay that she works
        n = st.rs_nurse[rs]
        for s2 in range(d0 * st.spd, min(st.S, (d0 + st.los[stay]) * st.spd)):
            rs2 = r * st.S + s2
            if st.rs_nurse[rs2] != n and st.ns_max[n * st.S + s2] < 10**9:
                log.append((0, rs2, st.rs_nurse[rs2], 0, 0))
                st.set_nurse(rs2, n)
        return bool(log)

    def swap_rooms(self, log: list[tuple[int, int, int, int, int]]) -> bool:
        st, rng = self.st, self.rng
        p, q = rng.randrange(st.P), rng.randrange(st.P)
        if p == q or st.start[p] < 0 or st.start[q] < 0 or st.room[p] == st.room[q]:
            return False
        rp, rq = st.room[p], st.room[q]
        if rq not in st.rooms[p] or rp not in st.rooms[q]:
            return False
        dp, tp, dq, tq = st.start[p], st.theatre[p], st.start[q], st.theatre[q]
        st.remove(p)
        log.append((1, p, dp, rp, tp))
        if not st.move_patient(q, dq, rp, tq, log):
            return False
        if not st.fits(p, dp, rq, tp):
            return False
        st.insert(p, dp, rq, tp)
        return True

    def swap_days(self, log: list[tuple[int, int, int, int, int]]) -> bool:
        """Two admitted patients exchange admission day and theatre (each keeps its room)."""
        st, rng = self.st, self.rng
        p = rng.randrange(st.P)
        # a partner of the same surgeon most of the time: surgeon time is what usually blocks an earlier day
        q = rng.choice(self.by_surgeon[st.inst.patients[p].surgeon]) if rng.random() < 0.7 else rng.randrange(st.P)
        dp, dq = st.start[p], st.start[q]
        if p == q or dp < 0 or dq < 0 or dp == dq or dq not in st.days[p] or dp not in st.days[q]:
            return False
        rp, tp, rq, tq = st.room[p], st.theatre[p], st.room[q], st.theatre[q]
        st.remove(p)
        log.append((1, p, dp, rp, tp))
        if not st.move_patient(q, dp, rq, tp, log):
            return False
        if not st.fits(p, dq, rp, tq):
            return False
        st.insert(p, dq, rp, tq)
        return True

    def eject_insert(self, p: int, log: list[tuple[int, int, int, int, int]], day: int = -1) -> bool:
        """Admit ``p`` on ``day`` (default: a random admissible day) in a random room, postponing whoever is in the
        way, then try to re-admit them."""
        st, rng = self.st, self.rng
        if not st.days[p] or not st.rooms[p]:
            return False
        pt = st.inst.patients[p]
        d, r = day if day >= 0 else rng.choice(st.days[p]), rng.choice(st.rooms[p])
        t = self._theatre(p, d)
        if st.start[p] >= 0:
            st.move_patient(p, -1, 0, 0, log)
        out: list[int] = []
        for dd in range(d, min(st.D, d + pt.los)):
            rd = r * st.D + dd
            while True:
                n, a = st.rd_n[rd], st.rd_a[rd]
                if n < st.cap[r] and a == (n if st.is_a[p] else 0):
                    break
                movable = [i for i in st.rd_stays[rd] if i < st.P]
                if not movable:
                    return False
                clash = [i for i in movable if st.is_a[i] != st.is_a[p]]
                q = rng.choice(clash or movable)
                st.move_patient(q, -1, 0, 0, log)
                out.append(q)
        for load, limit, idx, key in (
                (st.ot_load, st.ot_av, t * st.D + d, lambda q: st.theatre[q] == t),
                (st.sg_load, st.sg_max, pt.surgeon * st.D + d, lambda q: st.inst.patients[q].surgeon == pt.surgeon)):
            while load[idx] + pt.duration > limit[idx]:
                movable = [q for q in range(st.P) if st.start[q] == d and key(q)]
                if not movable:
                    return False
                q = rng.choice(movable)
                st.move_patient(q, -1, 0, 0, log)
                out.append(q)
        if not st.move_patient(p, d, r, t, log):
            return False
        for q in out:
            for _ in range(8):
                if not st.days[q]:
                    break
                dq = rng.choice(st.days[q])
                if st.move_patient(q, dq, rng.choice(st.rooms[q]), self._theatre(q, dq), log):
                    break
        return True


def anneal(st: State, time_limit: float, rng: random.Random, *, iterations: int | None = None,
           progress: Progress | None = None, clock_start: float | None = None) -> SearchResult:
    """Simulated annealing from ``st`` for ``time_limit`` seconds (or exactly ``iterations`` moves, which makes the
    run reproducible for a seed); returns the best solution seen."""
    t0 = time.monotonic() if clock_start is None else clock_start
    ann = _Annealer(st, rng)
    # starting temperature: the mean uphill step of a sample of moves, accepted with probability ~ 1/3
    ups = []
    for _ in range(300):
        log: list[tuple[int, int, int, int, int]] = []
        before = st.cost
        ok = ann.move(log)
        if ok and 0 < st.cost - before < MANDATORY_PENALTY // 2:
            ups.append(st.cost - before)
        st.undo(log)
    temp0 = max(1.0, TEMP_START_SCALE * (sum(ups) / len(ups)) if ups else 10.0)
    temp_end = TEMP_END
    best_cost, best_snap, best_t = st.cost, st.snapshot(), time.monotonic() - t0
    it = accepted = 0
    frac, temp = 0.0, temp0
    began = time.monotonic()
    span = max(1e-3, time_limit - (began - t0))
    while True:
        if it % 256 == 0:
            elapsed = time.monotonic() - began
            frac = it / iterations if iterations else elapsed / span
            if frac >= 1.0 or time.monotonic() - t0 >= time_limit:
                break
            temp = temp0 * (temp_end / temp0) ** frac
        it += 1
        log = []
        before = st.cost
        if not ann.move(log):
            st.undo(log)
            continue
        delta = st.cost - before
        if delta <= 0 or rng.random() < math.exp(-delta / temp):
            accepted += 1
            if st.cost < best_cost:
                best_cost, best_t = st.cost, time.monotonic() - t0
                best_snap = st.snapshot()
                if progress:
                    progress(best_t, best_cost)
        else:
            st.undo(log)
    return SearchResult(st.solution(best_snap), best_cost, it, accepted, best_t)
