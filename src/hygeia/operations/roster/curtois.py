"""Curtois & Qu shift-scheduling benchmark: instance parser, roster I/O and an independent evaluator.

Source: T. Curtois and R. Qu (2014), "Computational results on new staff scheduling benchmark
instances", University of Nottingham technical report (format and constraints). Blocks of work or
rest that touch the start or end of the horizon are exempt from the minimum-length rules (the
reading under which the published best-known values are reached).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

OFF = ""  # a day off in a roster row


class RosterFormatError(ValueError):
    """Malformed instance or roster text; the message names the source, line and field."""


@dataclass(frozen=True)
class Shift:
    id: str
    minutes: int
    cannot_follow: frozenset[str]  # shifts that may not be worked the day after this one


@dataclass(frozen=True)
class Staff:
    id: str
    max_shifts: dict[str, int]  # per shift type
    max_minutes: int
    min_minutes: int
    max_consecutive: int
    min_consecutive: int
    min_consecutive_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    employee: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    day: int
    shift: str
    requirement: int
    under_weight: int
    over_weight: int


@dataclass(frozen=True)
class CurtoisInstance:
    name: str
    horizon: int
    shifts: dict[str, Shift]
    staff: dict[str, Staff]
    days_off: dict[str, frozenset[int]]
    on_requests: tuple[Request, ...]
    off_requests: tuple[Request, ...]
    cover: tuple[Cover, ...]

    def weekends(self) -> list[tuple[int, ...]]:
        """Saturday/Sunday day indices per weekend (the horizon starts on a Monday)."""
        return [tuple(d for d in (s, s + 1) if d < self.horizon) for s in range(5, self.horizon, 7)]


_SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)


@dataclass
class _Line:
    source: str
    number: int
    fields: list[str] = field(default_factory=list)

    def fail(self, message: str) -> RosterFormatError:
        return RosterFormatError(f"{self.source}, line {self.number}: {message}")

    def integer(self, index: int, name: str, minimum: int = 0) -> int:
        try:
            value = int(self.fields[index])
        except (IndexError, ValueError):
            raise self.fail(f"field {index + 1} ({name}) must be an integer") from None
        if value < minimum:
            raise self.fail(f"field {index + 1} ({name}) must be >= {minimum}, got {value}")
        return value

    def need(self, count: int, layout: str) -> None:
        if len(self.fields) < count:
            raise self.fail(f"expected {count} comma-separated fields ({layout}), got {len(self.fields)}")


def parse_curtois(text: str, name: str = "instance") -> CurtoisInstance:
    """Parse an instance in the Curtois & Qu text format; raises :class:`RosterFormatError`."""
    sections: dict[str, list[_Line]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            if line not in _SECTIONS:
                raise RosterFormatError(f"{name}, line {number}: unknown section {line!r}")
            current = line
            sections.setdefault(current, [])
            continue
        if current is None:
            raise RosterFormatError(f"{name}, line {number}: data before the first SECTION_ header")
        sections[current].append(_Line(name, number, [f.strip() for f in line.split(",")]))
    for required in ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_COVER"):
        if not sections.get(required):
            raise RosterFormatError(f"{name}: missing or empty {required}")

    horizon_lines = sections["SECTION_HORIZON"]
    if len(horizon_lines) != 1:
        raise horizon_lines[1].fail("SECTION_HORIZON must hold exactly one number")
    horizon = horizon_lines[0].integer(0, "horizon length in days", minimum=1)

    shifts: dict[str, Shift] = {}
    for ln in sections["SECTION_SHIFTS"]:
        ln.need(2, "ShiftID, minutes, forbidden successors")
        sid = ln.fields[0]
        if not sid or sid in shifts:
            raise ln.fail(f"shift id {sid!r} is empty or repeated")
        follow = frozenset(f for f in (ln.fields[2].split("|") if len(ln.fields) > 2 else []) if f)
        shifts[sid] = Shift(sid, ln.integer(1, "length in minutes", minimum=1), follow)
    for shift in shifts.values():
        unknown = shift.cannot_follow - shifts.keys()
        if unknown:
            raise RosterFormatError(f"{name}: shift {shift.id} forbids unknown successor(s) {sorted(unknown)}")

    staff: dict[str, Staff] = {}
    for ln in sections["SECTION_STAFF"]:
        ln.need(8, "ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, "
                "MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends")
        eid = ln.fields[0]
        if not eid or eid in staff:
            raise ln.fail(f"employee id {eid!r} is empty or repeated")
        limits: dict[str, int] = dict.fromkeys(shifts, horizon)
        for item in filter(None, ln.fields[1].split("|")):
            sid, sep, count = item.partition("=")
            if not sep or sid not in shifts or not count.strip().isdigit():
                raise ln.fail(f"field 2 (MaxShifts) item {item!r} must be SHIFT=COUNT with a known shift")
            limits[sid] = int(count)
        staff[eid] = Staff(
            eid, limits, ln.integer(2, "MaxTotalMinutes"), ln.integer(3, "MinTotalMinutes"),
            ln.integer(4, "MaxConsecutiveShifts"), ln.integer(5, "MinConsecutiveShifts"),
            ln.integer(6, "MinConsecutiveDaysOff"), ln.integer(7, "MaxWeekends"),
        )

    def employee(ln: _Line) -> str:
        if ln.fields[0] not in staff:
            raise ln.fail(f"unknown employee {ln.fields[0]!r}")
        return ln.fields[0]

    def day(ln: _Line, index: int) -> int:
        value = ln.integer(index, "day index")
        if value >= horizon:
            raise ln.fail(f"day {value} is outside the horizon of {horizon} days")
        return value

    def shift_id(ln: _Line, index: int) -> str:
        if ln.fields[index] not in shifts:
            raise ln.fail(f"unknown shift {ln.fields[index]!r}")
        return ln.fields[index]

    days_off: dict[str, frozenset[int]] = {}
    for ln in sections.get("SECTION_DAYS_OFF", []):
        eid = employee(ln)
        days_off[eid] = days_off.get(eid, frozenset()) | {day(ln, i) for i in range(1, len(ln.fields)) if ln.fields[i]}

    def requests(section: str) -> tuple[Request, ...]:
        out: list[Request] = []
        for ln in sections.get(section, []):
            ln.need(4, "EmployeeID, Day, ShiftID, Weight")
            out.append(Request(employee(ln), day(ln, 1), shift_id(ln, 2), ln.integer(3, "weight")))
        return tuple(out)

    cover: list[Cover] = []
    seen: set[tuple[int, str]] = set()
    for ln in sections["SECTION_COVER"]:
        ln.need(5, "Day, ShiftID, Requirement, under weight, over weight")
        entry = Cover(day(ln, 0), shift_id(ln, 1), ln.integer(2, "requirement"), ln.integer(3, "under weight"),
                     ln.integer(4, "over weight"))
        if (entry.day, entry.shift) in seen:
            raise ln.fail(f"cover for day {entry.day} shift {entry.shift} given twice")
        seen.add((entry.day, entry.shift))
        cover.append(entry)
    return CurtoisInstance(
        name, horizon, shifts, staff, days_off,
        requests("SECTION_SHIFT_ON_REQUESTS"), requests("SECTION_SHIFT_OFF_REQUESTS"), tuple(cover),
    )


Roster = Mapping[str, Sequence[str]]  # employee -> shift id (or OFF) per day


@dataclass(frozen=True)
class RosterEvaluation:
    """Objective recomputed from a roster: soft penalty components and any hard violations."""

    objective: int
    breakdown: dict[str, int]
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


def _blocks(pattern: Sequence[bool]) -> list[tuple[int, int, bool]]:
    """Maximal runs ``(start, length, working)`` of a working/not-working pattern."""
    runs: list[tuple[int, int, bool]] = []
    for d, w in enumerate(pattern):
        if runs and runs[-1][2] == w:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, w)
        else:
            runs.append((d, 1, w))
    return runs


def evaluate_curtois(instance: CurtoisInstance, roster: Roster) -> RosterEvaluation:
    """Recompute the objective of ``roster`` from scratch and list every hard-constraint violation."""
    violations: list[str] = []
    horizon = instance.horizon
    for eid in roster:
        if eid not in instance.staff:
            violations.append(f"roster names unknown employee {eid!r}")
    for eid, st in instance.staff.items():
        row = list(roster.get(eid, [OFF] * horizon))
        if eid not in roster:
            violations.append(f"{eid}: missing from the roster")
        if len(row) != horizon:
            violations.append(f"{eid}: {len(row)} days in the roster, horizon is {horizon}")
            row = (row + [OFF] * horizon)[:horizon]
        for d, s in enumerate(row):
            if s != OFF and s not in instance.shifts:
                violations.append(f"{eid} day {d}: unknown shift {s!r}")
                row[d] = OFF
        working = [s != OFF for s in row]
        for d in sorted(instance.days_off.get(eid, ())):
            if working[d]:
                violations.append(f"{eid} day {d}: works on a required day off")
        for d in range(horizon - 1):
            if working[d] and working[d + 1] and row[d + 1] in instance.shifts[row[d]].cannot_follow:
                violations.append(f"{eid} day {d}: shift {row[d + 1]} may not follow {row[d]}")
        for sid, limit in st.max_shifts.items():
            if row.count(sid) > limit:
                violations.append(f"{eid}: {row.count(sid)} {sid} shifts, maximum {limit}")
        minutes = sum(instance.shifts[s].minutes for s in row if s != OFF)
        if not st.min_minutes <= minutes <= st.max_minutes:
            violations.append(f"{eid}: {minutes} minutes, allowed {st.min_minutes}-{st.max_minutes}")
        for start, length, work in _blocks(working):
            interior = start > 0 and start + length < horizon
            if work and length > st.max_consecutive:
                violations.append(f"{eid} day {start}: {length} consecutive shifts, maximum {st.max_consecutive}")
            if work and interior and length < st.min_consecutive:
                violations.append(f"{eid} day {start}: {length} consecutive shifts, minimum {st.min_consecutive}")
            if not work and interior and length < st.min_consecutive_off:
                violations.append(f"{eid} day {start}: {length} days off, minimum {st.min_consecutive_off}")
        worked_weekends = sum(any(working[d] for d in wk) for wk in instance.weekends())
        if worked_weekends > st.max_weekends:
            violations.append(f"{eid}: {worked_weekends} weekends worked, maximum {st.max_weekends}")

    def shift_on(eid: str, d: int) -> str:
        row = roster.get(eid, ())
        return row[d] if d < len(row) else OFF

    breakdown = {"shift_on_requests": 0, "shift_off_requests": 0, "under_cover": 0, "over_cover": 0}
    for r in instance.on_requests:
        if shift_on(r.employee, r.day) != r.shift:
            breakdown["shift_on_requests"] += r.weight
    for r in instance.off_requests:
        if shift_on(r.employee, r.day) == r.shift:
            breakdown["shift_off_requests"] += r.weight
    for c in instance.cover:
        staffed = sum(1 for eid in instance.staff if shift_on(eid, c.day) == c.shift)
        breakdown["under_cover"] += c.under_weight * max(0, c.requirement - staffed)
        breakdown["over_cover"] += c.over_weight * max(0, staffed - c.requirement)
    return RosterEvaluation(sum(breakdown.values()), breakdown, tuple(violations))


def format_roster(instance: CurtoisInstance, roster: Roster) -> str:
    """Roster as CSV text: a header ``employee,0,1,…`` then one row per employee (empty = off)."""
    lines = ["employee," + ",".join(str(d) for d in range(instance.horizon))]
    lines += [",".join([eid, *roster[eid]]) for eid in instance.staff if eid in roster]
    return "\n".join(lines) + "\n"


def parse_roster(text: str, instance: CurtoisInstance, name: str = "roster") -> dict[str, list[str]]:
    """Read a roster written by :func:`format_roster`; raises :class:`RosterFormatError`."""
    rows = [r for r in text.splitlines() if r.strip()]
    if not rows or not rows[0].startswith("employee"):
        raise RosterFormatError(f"{name}, line 1: expected the header 'employee,0,1,...'")
    roster: dict[str, list[str]] = {}
    for number, raw in enumerate(rows[1:], start=2):
        fields = [f.strip() for f in raw.split(",")]
        if len(fields) != instance.horizon + 1:
            raise RosterFormatError(
                f"{name}, line {number}: expected {instance.horizon + 1} fields (employee and one per day), "
                f"got {len(fields)}"
            )
        eid = fields[0]
        if eid not in instance.staff:
            raise RosterFormatError(f"{name}, line {number}: unknown employee {eid!r}")
        for d, s in enumerate(fields[1:]):
            if s and s not in instance.shifts:
                raise RosterFormatError(f"{name}, line {number}: day {d} has unknown shift {s!r}")
        roster[eid] = fields[1:]
    return roster
