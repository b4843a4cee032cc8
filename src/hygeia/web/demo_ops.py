"""The synthetic hospital's own operations problems, in the formats the solvers read.

* :func:`roster_text` — a nurse roster for one ward in the Curtois & Qu text format (parsed by
  ``hygeia.operations.roster.parse_curtois``): the ward's nurses from ``operations/staff.json`` with their
  contracts (hours per week), requests (days off, shift on/off wishes: drawn from a seeded generator — the
  synthetic staff list has none), and cover per shift from the census forecast.
* :func:`theatre_json` — an IHTC-2024 instance (``hygeia.operations.theatre.parse_instance``): the year's
  elective surgical cases from ``operations/theatres.json`` as a waiting list to plan over the next week in
  the elective theatres, the surgical wards' bays as rooms, the patients now in them as occupants, and the
  surgical wards' nurses with their skill level by band.

Pure functions over the synthetic files (no store, no solver): the demo feeds their output to the solvers'
public parsers and solvers. Synthetic planning data, demo only.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

# Shifts: early 07:30-15:30, late 13:30-21:30 (8 h each with the handover overlap), night 21:00-07:30
# (10.5 h: 630 min). A late may not be followed by an early next day, nor a night by an early or late
# (11 h rest between shifts: Working Time Regulations 1998, reg. 10).
SHIFTS = (("E", 480, ""), ("L", 480, "E"), ("N", 630, "E|L"))
# Planning ratios, patients per registered nurse: 5 on days, 8 at night. NICE SG1 (2014, "Safe staffing for
# nursing in adult inpatient wards in acute hospitals") treats more than 8 patients per nurse on day shifts
# as a red flag; the ratios here are the demo's choice, not a NICE standard.
PATIENTS_PER_NURSE = {"E": 5.0, "L": 5.0, "N": 8.0}
BAND_SKILL = {"band 5": 0, "band 6": 1, "band 7": 2}


class DemoOpsError(ValueError):
    """The synthetic operations files cannot make this problem (the message names what is missing)."""


def next_monday(after: date) -> date:
    return after + timedelta(days=7 - after.weekday())


def ward_nurses(staff: Sequence[Mapping[str, Any]], ward: str) -> list[Mapping[str, Any]]:
    nurses = [s for s in staff if s.get("role") == "nurse" and s.get("home_ward") == ward]
    if not nurses:
        raise DemoOpsError(f"staff.json: no nurses with home_ward {ward!r}")
    return sorted(nurses, key=lambda s: str(s["id"]))


def roster_text(staff: Sequence[Mapping[str, Any]], ward: str, patients_by_day: Sequence[float], seed: int) -> str:
    """A Curtois & Qu instance: ``ward``'s nurses over ``len(patients_by_day)`` days starting on a Monday,
    with cover per shift from the expected number of patients on each day."""
    days = len(patients_by_day)
    if days < 7 or days % 7:
        raise DemoOpsError(f"the roster horizon must be whole weeks (got {days} days)")
    nurses = ward_nurses(staff, ward)
    rng = random.Random(f"hygeia-demo-roster:{seed}:{ward}")
    weeks = days / 7
    lines = ["SECTION_HORIZON", str(days), "", "SECTION_SHIFTS"]
    lines += [f"{sid},{minutes},{follow}" for sid, minutes, follow in SHIFTS]
    lines += ["", "SECTION_STAFF"]
    off: list[str] = []
    on_requests: list[str] = []
    off_requests: list[str] = []
    for n in nurses:
        hours = float(n.get("hours_per_week") or 0.0)
        if n.get("contract") == "bank":  # bank staff: as many shifts as wanted, none required
            max_min, min_min, min_cons, min_off = int(30 * 60 * weeks), 0, 1, 1
        else:
            max_min = int(hours * 60 * weeks) + 60  # contracted hours, one hour's tolerance
            min_min, min_cons, min_off = int(max_min * 0.85) // 480 * 480, 2, 2
        if rng.random() < 0.25:  # annual leave: a hard day off, and two shifts fewer owed
            off.append(f"{n['id']},{rng.randrange(days)}")
            min_min = max(0, min_min - 2 * 480)
        nights = days // 7 * 2
        lines.append(f"{n['id']},E={days}|L={days}|N={nights},{max_min},{min_min},5,{min_cons},{min_off},"
                     f"{max(1, days // 14)}")
        for _ in range(rng.randint(0, 3)):
            day, shift, weight = rng.randrange(days), rng.choice("ELN"), rng.randint(1, 3)
            (on_requests if rng.random() < 0.4 else off_requests).append(f"{n['id']},{day},{shift},{weight}")
    lines += ["", "SECTION_DAYS_OFF", *off, "", "SECTION_SHIFT_ON_REQUESTS", *on_requests, "",
              "SECTION_SHIFT_OFF_REQUESTS", *off_requests, "", "SECTION_COVER"]
    for d, patients in enumerate(patients_by_day):
        for sid, _, _ in SHIFTS:
            need = max(1, math.ceil(max(0.0, patients) / PATIENTS_PER_NURSE[sid]))
            lines.append(f"{d},{sid},{need},100,1")
    return "\n".join(lines) + "\n"


def staff_labels(staff: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Staff id -> a short row label for the roster grid: 'V Gupta b6 PT' (band; FT/PT/bank)."""
    def label(s: Mapping[str, Any]) -> str:
        given, _, family = str(s.get("name") or s["id"]).partition(" ")
        band = str(s.get("grade", "")).replace("band ", "b")
        contract = {"full-time": "FT", "part-time": "PT"}.get(str(s.get("contract")), str(s.get("contract", "")))
        return f"{given[:1]} {family} {band} {contract}".replace(",", " ").strip()

    return {str(s["id"]): label(s) for s in staff}


def relabel_roster(roster_csv: str, labels: Mapping[str, str]) -> str:
    rows = list(csv.reader(io.StringIO(roster_csv)))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for i, row in enumerate(rows):
        w.writerow(row if i == 0 or not row else [labels.get(row[0], row[0]), *row[1:]])
    return out.getvalue()


def _age_group(age: int) -> str:
    return "18-64" if age < 65 else "65-79" if age < 80 else "80+"


def theatre_json(theatres: Mapping[str, Any], wards: Mapping[str, Any], staff: Sequence[Mapping[str, Any]],
                 outcomes: Sequence[Mapping[str, str]], occupants: Sequence[Mapping[str, Any]], first_day: date,
                 days: int = 7) -> dict[str, Any]:
    """An IHTC-2024 instance over ``days`` days from ``first_day``.

    ``outcomes`` are rows of ``truth/outcomes.csv`` (age, sex, reason and length of each stay);
    ``occupants`` are the patients in a surgical ward's bed now: dicts with id, ward, bay, sex, age and
    expected remaining days."""
    stays = {r["encounter_id"]: r for r in outcomes}
    cases = [c for s in theatres.get("sessions", []) if s.get("theatre") != "T4" for c in s.get("cases", [])]
    if not cases:
        raise DemoOpsError("theatres.json: no elective cases to plan")
    surgical = {w["code"]: w for w in wards.get("wards", []) if w.get("code") in ("SURG", "ORTH")}
    if not surgical:
        raise DemoOpsError("wards.json: no surgical wards (SURG, ORTH)")
    shift_names = ["early", "late", "night"]
    weekday = [(first_day + timedelta(days=d)).weekday() < 5 for d in range(days)]
    rooms = []
    for code, w in sorted(surgical.items()):
        rooms += [{"id": f"{code}-{b['bay']}", "capacity": int(b["beds"])} for b in w.get("bays", [])]
        rooms += [{"id": f"{code}-SR{i}", "capacity": 1} for i in range(1, int(w.get("side_rooms", 0)) + 1)]
    room_ids = {r["id"] for r in rooms}
    surgeons = sorted({str(c["surgeon"]) for c in cases if c.get("surgeon")})
    patients = []
    for n, case in enumerate(sorted(cases, key=lambda c: str(c["start"]))):
        stay = stays.get(str(case.get("encounter_id")), {})
        age = int(stay.get("age") or 60)
        sex = "M" if stay.get("sex") == "male" else "F"
        los = 3
        if stay.get("admit") and stay.get("discharge"):
            from datetime import datetime

            span = datetime.fromisoformat(stay["discharge"]) - datetime.fromisoformat(stay["admit"])
            los = max(1, min(10, math.ceil(span.total_seconds() / 86400)))
        cancer = stay.get("reason") == "colorectal_cancer"  # cancer surgery may not wait: mandatory (NHS 62-day target)
        # nursing: heavy on the day of surgery, lighter after; cancer surgery needs a band 6+ on the first two days
        load = [3, 3, 2] + [2, 1, 1] * (los - 1)
        skill = [1, 1, 1] + [2 if cancer and d == 0 else 0 for d in range(los - 1) for _ in range(3)]
        # each bay holds one sex (wards.json): the patient may not go to a bay of the other sex
        incompatible = sorted(f"{code}-{b['bay']}" for code, w in surgical.items() for b in w.get("bays", [])
                              if b.get("sex") in ("M", "F") and b["sex"] != sex)
        release = n % 3
        patients.append({"id": f"case{n:02d}", "mandatory": cancer, "gender": sex, "age_group": _age_group(age),
                         "length_of_stay": los, "surgery_release_day": release,
                         **({"surgery_due_day": min(days - 1, release + 3)} if cancer else {}),
                         "surgery_duration": int(case["planned_minutes"]), "surgeon_id": str(case["surgeon"]),
                         "incompatible_room_ids": incompatible, "workload_produced": load,
                         "skill_level_required": skill})
    occ = []
    for o in occupants:
        room = f"{o['ward']}-{o['bay']}"
        if room not in room_ids:
            continue
        los = max(1, min(days, int(o["remaining_days"])))
        occ.append({"id": f"occ-{o['id'][:8]}", "gender": "M" if o["sex"] == "male" else "F",
                    "age_group": _age_group(int(o["age"])), "length_of_stay": los, "workload_produced": [2, 2, 1] * los,
                    "skill_level_required": [0, 0, 0] * los, "room_id": room})
    nurses = []
    for i, s in enumerate(sorted((s for s in staff if s.get("role") == "nurse" and s.get("home_ward") in surgical),
                                 key=lambda s: str(s["id"]))):
        per_week = {"full-time": 5, "part-time": 3}.get(str(s.get("contract")), 1)
        shift = shift_names[i % 3]
        work = [d for d in range(days) if (d + i) % 7 < per_week]
        nurses.append({"id": str(s["id"]), "skill_level": BAND_SKILL.get(str(s.get("grade")), 0),
                       "working_shifts": [{"day": d, "shift": shift, "max_load": 15} for d in work]})
    theatre_ids = [t["id"] for t in theatres.get("theatres", []) if t["id"] != "T4"]
    return {
        "days": days, "skill_levels": 3, "shift_types": shift_names, "age_groups": ["18-64", "65-79", "80+"],
        "weights": {"room_mixed_age": 5, "room_nurse_skill": 1, "continuity_of_care": 1,
                    "nurse_eccessive_workload": 1, "open_operating_theater": 50, "surgeon_transfer": 5,
                    "patient_delay": 10, "unscheduled_optional": 300},
        "occupants": occ, "patients": patients,
        "surgeons": [{"id": s, "max_surgery_time": [480 if wd else 0 for wd in weekday]} for s in surgeons],
        "operating_theaters": [{"id": t, "availability": [600 if wd else 0 for wd in weekday]} for t in theatre_ids],
        "rooms": rooms, "nurses": nurses,
    }
