"""IHTC-2024 instance and solution data (Ceschia et al. 2024, *The Integrated Healthcare Timetabling
Competition 2024 — problem description and rules*, Appendix A) and their JSON parsers.

Parsers take already-decoded JSON (dicts) and raise :class:`IhtcFormatError` naming the source and
the JSON path of the offending field; they never do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WEIGHT_KEYS = ("room_mixed_age", "room_nurse_skill", "continuity_of_care", "nurse_eccessive_workload",
               "open_operating_theater", "surgeon_transfer", "patient_delay", "unscheduled_optional")


class IhtcFormatError(ValueError):
    """Malformed IHTC-2024 instance or solution; the message names the source and JSON path."""


@dataclass(frozen=True)
class Patient:
    id: str
    mandatory: bool
    gender: str
    age: int  # index into Instance.age_groups
    los: int
    release: int
    due: int  # last admissible day (days-1 for optional patients)
    duration: int
    surgeon: int
    incompatible: frozenset[int]
    workload: tuple[int, ...]  # per shift from the admission day's first shift
    skill: tuple[int, ...]


@dataclass(frozen=True)
class Occupant:
    id: str
    gender: str
    age: int
    los: int
    room: int
    workload: tuple[int, ...]
    skill: tuple[int, ...]


@dataclass(frozen=True)
class Nurse:
    id: str
    skill: int
    max_load: dict[int, int]  # global shift index -> max load (only working shifts)


@dataclass(frozen=True)
class Instance:
    name: str
    days: int
    shift_names: tuple[str, ...]
    age_groups: tuple[str, ...]
    skill_levels: int
    weights: dict[str, int]
    patients: tuple[Patient, ...]
    occupants: tuple[Occupant, ...]
    nurses: tuple[Nurse, ...]
    room_ids: tuple[str, ...]
    room_capacity: tuple[int, ...]
    theatre_ids: tuple[str, ...]
    theatre_availability: tuple[tuple[int, ...], ...]
    surgeon_ids: tuple[str, ...]
    surgeon_max: tuple[tuple[int, ...], ...]

    @property
    def shifts_per_day(self) -> int:
        return len(self.shift_names)

    @property
    def shifts(self) -> int:
        return self.days * self.shifts_per_day

    def nurses_on(self, shift: int) -> list[int]:
        return [i for i, n in enumerate(self.nurses) if shift in n.max_load]


@dataclass(frozen=True)
class Admission:
    day: int
    room: int
    theatre: int


@dataclass(frozen=True)
class Solution:
    """``admissions[p]`` is None for a postponed patient; ``nurse_rooms`` lists (nurse, shift, room) in
    file order (the validator lets the last nurse named for a room and shift be that room's nurse)."""

    admissions: tuple[Admission | None, ...]
    nurse_rooms: tuple[tuple[int, int, int], ...]


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise IhtcFormatError(f"{where}: expected a JSON object")
    if key not in obj:
        raise IhtcFormatError(f"{where}.{key}: missing")
    value = obj[key]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise IhtcFormatError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _ints(obj: Any, key: str, n: int, where: str, minimum: int = 0) -> tuple[int, ...]:
    values = _get(obj, key, list, where)
    if len(values) < n:
        raise IhtcFormatError(f"{where}.{key}: expected {n} values, got {len(values)}")
    for i, v in enumerate(values[:n]):
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise IhtcFormatError(f"{where}.{key}[{i}]: expected an integer ≥ {minimum}, got {v!r}")
    return tuple(values[:n])


def _index(ids: dict[str, int], value: Any, where: str, what: str) -> int:
    if not isinstance(value, str) or value not in ids:
        raise IhtcFormatError(f"{where}: unknown {what} {value!r}")
    return ids[value]


def _nonneg(obj: Any, key: str, where: str) -> int:
    value: int = _get(obj, key, int, where)
    if value < 0:
        raise IhtcFormatError(f"{where}.{key}: must be ≥ 0, got {value}")
    return value


def parse_instance(data: Any, name: str = "instance") -> Instance:
    """Parse a decoded IHTC-2024 instance JSON object."""
    w = name
    days = _nonneg(data, "days", w)
    if days < 1:
        raise IhtcFormatError(f"{w}.days: must be ≥ 1")
    shift_names = tuple(_get(data, "shift_types", list, w))
    age_groups = tuple(_get(data, "age_groups", list, w))
    if not shift_names or not all(isinstance(s, str) for s in shift_names):
        raise IhtcFormatError(f"{w}.shift_types: expected a non-empty list of names")
    if not all(isinstance(a, str) for a in age_groups):
        raise IhtcFormatError(f"{w}.age_groups: expected a list of names")
    spd = len(shift_names)
    wdict = _get(data, "weights", dict, w)
    weights = {k: _nonneg(wdict, k, f"{w}.weights") for k in WEIGHT_KEYS}
    age_ix = {a: i for i, a in enumerate(age_groups)}
    shift_ix = {s: i for i, s in enumerate(shift_names)}

    rooms = _get(data, "rooms", list, w)
    room_ids = tuple(_get(r, "id", str, f"{w}.rooms[{i}]") for i, r in enumerate(rooms))
    room_cap = tuple(_nonneg(r, "capacity", f"{w}.rooms[{i}]") for i, r in enumerate(rooms))
    room_ix = {r: i for i, r in enumerate(room_ids)}
    ots = _get(data, "operating_theaters", list, w)
    ot_ids = tuple(_get(t, "id", str, f"{w}.operating_theaters[{i}]") for i, t in enumerate(ots))
    ot_av = tuple(_ints(t, "availability", days, f"{w}.operating_theaters[{i}]") for i, t in enumerate(ots))
    surgeons = _get(data, "surgeons", list, w)
    s_ids = tuple(_get(s, "id", str, f"{w}.surgeons[{i}]") for i, s in enumerate(surgeons))
    s_max = tuple(_ints(s, "max_surgery_time", days, f"{w}.surgeons[{i}]") for i, s in enumerate(surgeons))
    s_ix = {s: i for i, s in enumerate(s_ids)}

    def person(obj: Any, where: str) -> tuple[str, str, int, int, tuple[int, ...], tuple[int, ...]]:
        pid = _get(obj, "id", str, where)
        gender = _get(obj, "gender", str, where)
        age = _index(age_ix, _get(obj, "age_group", str, where), f"{where}.age_group", "age group")
        los = _nonneg(obj, "length_of_stay", where)
        if los < 1:
            raise IhtcFormatError(f"{where}.length_of_stay: must be ≥ 1")
        return (pid, gender, age, los, _ints(obj, "workload_produced", los * spd, where),
                _ints(obj, "skill_level_required", los * spd, where))

    occupants = []
    for i, o in enumerate(_get(data, "occupants", list, w)):
        where = f"{w}.occupants[{i}]"
        pid, gender, age, los, wl, sk = person(o, where)
        room = _index(room_ix, _get(o, "room_id", str, where), f"{where}.room_id", "room")
        occupants.append(Occupant(pid, gender, age, los, room, wl, sk))
    patients = []
    for i, p in enumerate(_get(data, "patients", list, w)):
        where = f"{w}.patients[{i}]"
        pid, gender, age, los, wl, sk = person(p, where)
        mandatory = _get(p, "mandatory", bool, where)
        release = _nonneg(p, "surgery_release_day", where)
        due = _nonneg(p, "surgery_due_day", where) if mandatory else days - 1
        inc = p.get("incompatible_room_ids") or []
        if not isinstance(inc, list):
            raise IhtcFormatError(f"{where}.incompatible_room_ids: expected a list")
        incompatible = frozenset(_index(room_ix, r, f"{where}.incompatible_room_ids", "room") for r in inc)
        surgeon = _index(s_ix, _get(p, "surgeon_id", str, where), f"{where}.surgeon_id", "surgeon")
        patients.append(Patient(pid, mandatory, gender, age, los, release, due,
                                _nonneg(p, "surgery_duration", where), surgeon, incompatible, wl, sk))
    nurses = []
    for i, n in enumerate(_get(data, "nurses", list, w)):
        where = f"{w}.nurses[{i}]"
        loads: dict[int, int] = {}
        for k, ws in enumerate(_get(n, "working_shifts", list, where)):
            wk = f"{where}.working_shifts[{k}]"
            day = _nonneg(ws, "day", wk)
            if day >= days:
                raise IhtcFormatError(f"{wk}.day: {day} is outside the {days}-day horizon")
            s = _index(shift_ix, _get(ws, "shift", str, wk), f"{wk}.shift", "shift")
            loads[day * spd + s] = _nonneg(ws, "max_load", wk)
        nurses.append(Nurse(_get(n, "id", str, where), _nonneg(n, "skill_level", where), loads))
    return Instance(name, days, shift_names, age_groups, _nonneg(data, "skill_levels", w), weights,
                    tuple(patients), tuple(occupants), tuple(nurses), room_ids, room_cap, ot_ids, ot_av,
                    s_ids, s_max)


def parse_solution(data: Any, inst: Instance, name: str = "solution") -> Solution:
    """Parse a decoded IHTC-2024 solution JSON object against its instance."""
    p_ix = {p.id: i for i, p in enumerate(inst.patients)}
    r_ix = {r: i for i, r in enumerate(inst.room_ids)}
    t_ix = {t: i for i, t in enumerate(inst.theatre_ids)}
    n_ix = {n.id: i for i, n in enumerate(inst.nurses)}
    s_ix = {s: i for i, s in enumerate(inst.shift_names)}
    admissions: list[Admission | None] = [None] * len(inst.patients)
    seen: set[int] = set()
    for i, p in enumerate(_get(data, "patients", list, name)):
        where = f"{name}.patients[{i}]"
        pi = _index(p_ix, _get(p, "id", str, where), f"{where}.id", "patient")
        if pi in seen:
            raise IhtcFormatError(f"{where}: patient {inst.patients[pi].id} appears twice")
        seen.add(pi)
        day = p.get("admission_day")
        if day == "none" or day is None:
            continue
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day < inst.days:
            raise IhtcFormatError(f"{where}.admission_day: expected 'none' or a day 0..{inst.days - 1}, got {day!r}")
        room = _index(r_ix, _get(p, "room", str, where), f"{where}.room", "room")
        ot = _index(t_ix, _get(p, "operating_theater", str, where), f"{where}.operating_theater",
                    "operating theater")
        admissions[pi] = Admission(day, room, ot)
    nurse_rooms: list[tuple[int, int, int]] = []
    for i, n in enumerate(_get(data, "nurses", list, name)):
        where = f"{name}.nurses[{i}]"
        ni = _index(n_ix, _get(n, "id", str, where), f"{where}.id", "nurse")
        for k, a in enumerate(_get(n, "assignments", list, where)):
            wk = f"{where}.assignments[{k}]"
            day = _nonneg(a, "day", wk)
            if day >= inst.days:
                raise IhtcFormatError(f"{wk}.day: {day} is outside the {inst.days}-day horizon")
            shift = day * inst.shifts_per_day + _index(s_ix, _get(a, "shift", str, wk), f"{wk}.shift", "shift")
            for j, r in enumerate(_get(a, "rooms", list, wk)):
                nurse_rooms.append((ni, shift, _index(r_ix, r, f"{wk}.rooms[{j}]", "room")))
    return Solution(tuple(admissions), tuple(nurse_rooms))


def solution_to_json(inst: Instance, sol: Solution) -> dict[str, Any]:
    """The competition's solution JSON (patients, then nurses with their rooms per working shift)."""
    patients: list[dict[str, Any]] = []
    for p, a in zip(inst.patients, sol.admissions, strict=True):
        if a is None:
            patients.append({"id": p.id, "admission_day": "none"})
        else:
            patients.append({"id": p.id, "admission_day": a.day, "room": inst.room_ids[a.room],
                             "operating_theater": inst.theatre_ids[a.theatre]})
    spd = inst.shifts_per_day
    by_nurse: dict[int, dict[int, list[str]]] = {}
    for n, s, r in sol.nurse_rooms:
        by_nurse.setdefault(n, {}).setdefault(s, []).append(inst.room_ids[r])
    nurses = []
    for ni, nurse in enumerate(inst.nurses):
        shifts = by_nurse.get(ni, {})
        nurses.append({"id": nurse.id, "assignments": [
            {"day": s // spd, "shift": inst.shift_names[s % spd], "rooms": shifts.get(s, [])}
            for s in sorted(nurse.max_load)]})
    return {"patients": patients, "nurses": nurses}
