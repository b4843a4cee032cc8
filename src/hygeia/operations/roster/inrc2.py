"""INRC-II (Second International Nurse Rostering Competition) files and cost evaluator.

Source: S. Ceschia, N. Dang, P. De Causmaecker, S. Haspeslagh, A. Schaerf (2015), "The Second
International Nurse Rostering Competition", arXiv:1501.04177 — file formats (scenario, history,
week data, weekly solutions) and the constraints H1–H4 and S1–S7 with their weights:
S1 optimal coverage 30, S2 consecutive assignments 15 per day for same-shift-type stretches and 30 per day
for working-day stretches, S3 consecutive days off 30, S4 preferences 10, S5 complete weekends 30,
S6 total assignments 20, S7 working weekends 30. The official validator reports both parts of S2 as one
line, "Consecutive constraints".

Border rules (the competition's "border data"): a stretch that starts on the first day continues the
history's counters (``numberOfConsecutiveAssignments`` of ``lastAssignedShiftType``,
``numberOfConsecutiveWorkingDays``, ``numberOfConsecutiveDaysOff``); days already worked in the history
are not charged again for the maximum; a history stretch that ends on the day before the horizon pays its
minimum; the stretch that ends on the horizon's last day pays only the maximum (it may go on). A
multi-week solution is evaluated as one sequence from the initial history, which equals evaluating the
weeks in turn and carrying the history forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hygeia.operations.roster.curtois import RosterFormatError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEIGHTS = {"optimal_coverage": 30, "consecutive_shift": 15, "consecutive_work": 30, "days_off": 30,
           "preferences": 10, "complete_weekends": 30, "total_assignments": 20, "working_weekends": 30}
# The official validator's names for the cost components, in its order; "Consecutive constraints"
# is the sum of the same-shift and the working-day parts of S2.
OFFICIAL_NAMES = {
    "total_assignments": "Total assignment constraints",
    "consecutive": "Consecutive constraints",
    "days_off": "Non working days constraints",
    "preferences": "Preferences",
    "working_weekends": "Max working weekend",
    "complete_weekends": "Complete weekends",
    "optimal_coverage": "Optimal coverage constraints",
}


@dataclass(frozen=True)
class Contract:
    name: str
    total: tuple[int, int]
    consecutive_work: tuple[int, int]
    consecutive_off: tuple[int, int]
    max_weekends: int
    complete_weekends: bool


@dataclass(frozen=True)
class Scenario:
    name: str
    weeks: int
    skills: tuple[str, ...]
    shifts: dict[str, tuple[int, int]]  # shift type -> (min, max) consecutive assignments
    forbidden: dict[str, frozenset[str]]  # shift -> shifts that may not follow it next day
    contracts: dict[str, Contract]
    nurses: dict[str, tuple[str, frozenset[str]]]  # nurse -> (contract, skills)


@dataclass(frozen=True)
class NurseHistory:
    assignments: int
    weekends: int
    last_shift: str | None
    consecutive_shift: int
    consecutive_work: int
    consecutive_off: int


@dataclass(frozen=True)
class WeekData:
    requirements: dict[tuple[str, str, int], tuple[int, int]]  # (shift, skill, day) -> (min, optimal)
    off_requests: tuple[tuple[str, str, int], ...]  # (nurse, shift or "Any", day)


Assignment = tuple[str, int, str, str]  # nurse, day in the week, shift, skill


class _Lines:
    def __init__(self, text: str, source: str) -> None:
        self.items = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        self.pos = 0
        self.source = source

    def fail(self, message: str) -> RosterFormatError:
        number = self.items[min(self.pos, len(self.items) - 1)][0] if self.items else 0
        return RosterFormatError(f"{self.source}, line {number}: {message}")

    def next(self) -> str:
        if self.pos >= len(self.items):
            raise RosterFormatError(f"{self.source}: unexpected end of file")
        self.pos += 1
        return self.items[self.pos - 1][1]

    def expect(self, header: str) -> str:
        line = self.next()
        if not line.startswith(header):
            self.pos -= 1
            raise self.fail(f"expected {header!r}, got {line!r}")
        return line

    def count(self, header: str) -> int:
        line = self.expect(header)
        try:
            return int(line.split("=", 1)[1])
        except (IndexError, ValueError):
            self.pos -= 1
            raise self.fail(f"expected '{header} = N'") from None

    def integer(self, token: str, what: str) -> int:
        try:
            return int(token)
        except ValueError:
            raise self.fail(f"{what} must be an integer, got {token!r}") from None

    def pair(self, token: str, what: str) -> tuple[int, int]:
        parts = token.strip("()").split(",")
        if len(parts) != 2 or not token.startswith("("):
            raise self.fail(f"{what} must look like (a,b), got {token!r}")
        return self.integer(parts[0], what), self.integer(parts[1], what)


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    r = _Lines(text, source)
    name = r.expect("SCENARIO").split("=", 1)[-1].strip()
    weeks = r.count("WEEKS")
    skills = tuple(r.next() for _ in range(r.count("SKILLS")))
    shifts: dict[str, tuple[int, int]] = {}
    for _ in range(r.count("SHIFT_TYPES")):
        parts = r.next().split()
        if len(parts) != 2:
            raise r.fail("shift type line must be 'Name (min,max)'")
        shifts[parts[0]] = r.pair(parts[1], "consecutive assignments")
    r.expect("FORBIDDEN_SHIFT_TYPES_SUCCESSIONS")
    forbidden: dict[str, frozenset[str]] = {}
    for _ in shifts:
        parts = r.next().split()
        if len(parts) < 2 or parts[0] not in shifts or any(p not in shifts for p in parts[2:]):
            raise r.fail("succession line must be 'Shift N Shift…' with known shifts")
        forbidden[parts[0]] = frozenset(parts[2:])
    contracts: dict[str, Contract] = {}
    for _ in range(r.count("CONTRACTS")):
        p = r.next().split()
        if len(p) != 6:
            raise r.fail("contract line must be 'Name (a,b) (a,b) (a,b) maxWeekends completeWeekends'")
        contracts[p[0]] = Contract(p[0], r.pair(p[1], "total assignments"), r.pair(p[2], "consecutive work"),
                                   r.pair(p[3], "consecutive days off"), r.integer(p[4], "max weekends"),
                                   r.integer(p[5], "complete weekends") == 1)
    nurses: dict[str, tuple[str, frozenset[str]]] = {}
    for _ in range(r.count("NURSES")):
        p = r.next().split()
        if len(p) < 3 or p[1] not in contracts:
            raise r.fail(f"nurse line must be 'Name Contract N Skill…' with a known contract: {p}")
        if any(s not in skills for s in p[3:]):
            raise r.fail(f"nurse {p[0]} has an unknown skill")
        nurses[p[0]] = (p[1], frozenset(p[3:]))
    return Scenario(name, weeks, skills, shifts, forbidden, contracts, nurses)


def parse_history(text: str, scenario: Scenario, source: str = "history") -> dict[str, NurseHistory]:
    r = _Lines(text, source)
    r.expect("HISTORY")
    r.next()
    r.expect("NURSE_HISTORY")
    history = {}
    for _ in scenario.nurses:
        p = r.next().split()
        if len(p) != 7 or p[0] not in scenario.nurses:
            raise r.fail("history line must be 'Nurse assignments weekends lastShift consShift consWork consOff'")
        last = None if p[3] == "None" else p[3]
        if last is not None and last not in scenario.shifts:
            raise r.fail(f"unknown shift {p[3]!r}")
        a, w, cs, cw, co = (r.integer(v, "history count") for v in (p[1], p[2], p[4], p[5], p[6]))
        history[p[0]] = NurseHistory(a, w, last, cs, cw, co)
    return history


def parse_week(text: str, scenario: Scenario, source: str = "week") -> WeekData:
    r = _Lines(text, source)
    r.expect("WEEK_DATA")
    r.next()
    r.expect("REQUIREMENTS")
    requirements = {}
    for _ in range(len(scenario.shifts) * len(scenario.skills)):
        p = r.next().split()
        if len(p) != 9 or p[0] not in scenario.shifts or p[1] not in scenario.skills:
            raise r.fail("requirement line must be 'Shift Skill' then 7 '(min,opt)' pairs")
        for d in range(7):
            requirements[p[0], p[1], d] = r.pair(p[2 + d], "requirement")
    offs = []
    for _ in range(r.count("SHIFT_OFF_REQUESTS")):
        p = r.next().split()
        known_shift = p[1] == "Any" or p[1] in scenario.shifts if len(p) == 3 else False
        if len(p) != 3 or p[0] not in scenario.nurses or p[2] not in DAYS or not known_shift:
            raise r.fail("shift-off request must be 'Nurse Shift|Any Day' with known names")
        offs.append((p[0], p[1], DAYS.index(p[2])))
    return WeekData(requirements, tuple(offs))


def parse_solution(text: str, scenario: Scenario, source: str = "solution") -> tuple[Assignment, ...]:
    r = _Lines(text, source)
    r.expect("SOLUTION")
    r.next()
    out = []
    for _ in range(r.count("ASSIGNMENTS")):
        p = r.next().split()
        if len(p) != 4 or p[0] not in scenario.nurses or p[1] not in DAYS or p[2] not in scenario.shifts \
                or p[3] not in scenario.skills:
            raise r.fail("assignment must be 'Nurse Day Shift Skill' with known names")
        out.append((p[0], DAYS.index(p[1]), p[2], p[3]))
    return tuple(out)


@dataclass(frozen=True)
class Inrc2Evaluation:
    total: int
    costs: dict[str, int]  # keys of WEIGHTS, weighted
    hard: dict[str, int]  # H1-H4 violation counts

    def official(self) -> dict[str, int]:
        costs = self.costs | {"consecutive": self.costs["consecutive_shift"] + self.costs["consecutive_work"]}
        return {OFFICIAL_NAMES[k]: costs[k] for k in OFFICIAL_NAMES}


def _stretches(seq: Sequence[str | None], same: bool) -> list[tuple[int, int, str | None]]:
    """Runs of equal shift (same=True) or of work/rest (same=False): (start, length, value)."""
    runs: list[tuple[int, int, str | None]] = []
    for d, v in enumerate(seq):
        key = v if same else (v is not None)
        if runs and (runs[-1][2] == key):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, runs[-1][2])
        else:
            runs.append((d, 1, key))  # type: ignore[arg-type]
    return runs


def _stretch_cost(length: int, lo: int, hi: int, at_end: bool, history_days: int) -> int:
    """Days outside [lo, hi]; a stretch at the horizon's end pays no minimum; history days pay no maximum."""
    cost = 0
    if length > hi:
        cost += min(length - hi, length - history_days)
    if length < lo and not at_end:
        cost += lo - length
    return cost


def evaluate_inrc2(
    scenario: Scenario,
    history: dict[str, NurseHistory],
    weeks: Sequence[WeekData],
    solutions: Sequence[Sequence[Assignment]],
) -> Inrc2Evaluation:
    """Total weighted cost of a multi-week solution from the initial history (the validator's numbers)."""
    if len(weeks) != len(solutions):
        raise ValueError(f"{len(weeks)} weeks of data but {len(solutions)} weekly solutions")
    horizon = 7 * len(weeks)
    hard = {"single_assignment": 0, "minimal_coverage": 0, "succession": 0, "required_skill": 0}
    units = dict.fromkeys(WEIGHTS, 0)
    plan: dict[str, list[str | None]] = {n: [None] * horizon for n in scenario.nurses}
    for w, (week, sol) in enumerate(zip(weeks, solutions, strict=True)):
        count: dict[tuple[str, str, int], int] = {}
        for nurse, day, shift, skill in sol:
            d = 7 * w + day
            if plan[nurse][d] is not None:
                hard["single_assignment"] += 1
            plan[nurse][d] = shift
            if skill not in scenario.nurses[nurse][1]:
                hard["required_skill"] += 1
            count[shift, skill, day] = count.get((shift, skill, day), 0) + 1
        for key, (minimum, optimal) in week.requirements.items():
            have = count.get(key, 0)
            hard["minimal_coverage"] += max(0, minimum - have)
            units["optimal_coverage"] += max(0, optimal - have)
        for nurse, shift, day in week.off_requests:
            worked = plan[nurse][7 * w + day]
            if worked is not None and (shift in ("Any", worked)):
                units["preferences"] += 1
    for nurse, (contract_name, _) in scenario.nurses.items():
        c, h, seq = scenario.contracts[contract_name], history[nurse], plan[nurse]
        previous = h.last_shift
        for today in seq:
            if previous is not None and today is not None and today in scenario.forbidden.get(previous, frozenset()):
                hard["succession"] += 1
            previous = today
        # consecutive working days / days off, continuing the history stretch
        for start, length, working in _stretches(seq, same=False):
            carried = 0
            if start == 0:
                carried = h.consecutive_work if working else h.consecutive_off
            lo, hi = c.consecutive_work if working else c.consecutive_off
            cost = _stretch_cost(length + carried, lo, hi, start + length == horizon, carried)
            units["consecutive_work" if working else "days_off"] += cost
        # the history stretch that ends right at the start of the horizon
        first_working = seq[0] is not None
        if first_working and h.consecutive_off > 0:
            units["days_off"] += max(0, c.consecutive_off[0] - h.consecutive_off)
        if not first_working and h.consecutive_work > 0:
            units["consecutive_work"] += max(0, c.consecutive_work[0] - h.consecutive_work)
        # consecutive assignments of the same shift type
        for start, length, kind in _stretches(seq, same=True):
            if kind is None:
                continue
            carried = h.consecutive_shift if start == 0 and kind == h.last_shift else 0
            lo, hi = scenario.shifts[kind]
            units["consecutive_shift"] += _stretch_cost(length + carried, lo, hi, start + length == horizon, carried)
        if h.last_shift is not None and h.consecutive_shift > 0 and seq[0] != h.last_shift:
            units["consecutive_shift"] += max(0, scenario.shifts[h.last_shift][0] - h.consecutive_shift)
        worked_weekends = 0
        for w in range(len(weeks)):
            sat, sun = seq[7 * w + 5] is not None, seq[7 * w + 6] is not None
            worked_weekends += sat or sun
            if c.complete_weekends and sat != sun:
                units["complete_weekends"] += 1
        total = h.assignments + sum(s is not None for s in seq)
        units["total_assignments"] += max(0, c.total[0] - total) + max(0, total - c.total[1])
        units["working_weekends"] += max(0, h.weekends + worked_weekends - c.max_weekends)
    costs = {k: units[k] * WEIGHTS[k] for k in WEIGHTS}
    return Inrc2Evaluation(sum(costs.values()), costs, hard)
