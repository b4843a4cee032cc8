"""Bed management: a live bed board from Encounters' location history, and bed assignment for waiting
patients with OR-Tools CP-SAT.

Hard constraints: one patient per bed; single-sex bays (NHS England, *Delivering same-sex accommodation*,
2019 — mixing only in critical care, which callers model as a bay with ``mixed_sex_allowed``); a patient
needing isolation only in an isolation (side) room; the bed's ward must accept the patient's specialty;
the bed must have every piece of equipment the patient needs. Soft: stay on the home ward, fewer
transfers of patients already in a bed, and every patient placed if at all possible.
Decision support for bed managers and clinicians, not an instruction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from ortools.sat.python import cp_model

from hygeia.operations.plan import Plan

UNPLACED_PENALTY = 1000
AWAY_FROM_HOME_PENALTY = 10
TRANSFER_PENALTY = 5


@dataclass(frozen=True)
class WardStatus:
    ward: str
    capacity: int | None
    occupied: int
    pending_admissions: int
    expected_discharges: int  # within the look-ahead window

    @property
    def free(self) -> int | None:
        return None if self.capacity is None else self.capacity - self.occupied


def location_stays(encounters: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """FHIR Encounters → one row per location period: encounter, ward, start, end, status, planned_end.

    A location without its own period inherits the encounter's; ``planned`` encounters give pending
    admissions (start = the planned start)."""
    rows = []
    for enc in encounters:
        period = enc.get("period") or {}
        status = enc.get("status", "unknown")
        locations = enc.get("location") or [{}]
        for loc in locations:
            lp = loc.get("period") or {}
            ward = (loc.get("location") or {}).get("display") or (loc.get("location") or {}).get("reference")
            rows.append({"encounter": enc.get("id", ""), "ward": ward or "unknown", "status": status,
                         "start": lp.get("start") or period.get("start"),
                         "end": lp.get("end") or (period.get("end") if loc is locations[-1] else None),
                         "planned_end": period.get("end") if status in ("in-progress", "planned") else None})
    frame = pd.DataFrame(rows, columns=["encounter", "ward", "status", "start", "end", "planned_end"])
    for col in ("start", "end", "planned_end"):
        frame[col] = pd.to_datetime(frame[col], utc=True, errors="coerce").dt.tz_localize(None)
    return frame


def bed_board(stays: pd.DataFrame, now: pd.Timestamp, capacity: Mapping[str, int] | None = None,
              lookahead: pd.Timedelta = pd.Timedelta(hours=24)) -> list[WardStatus]:
    """Occupancy by ward at ``now``, planned admissions, and expected discharges within ``lookahead``.

    Expected discharge: the planned end when given, else start + the ward's median length of stay over
    finished stays (none without history)."""
    capacity = capacity or {}
    s = stays.dropna(subset=["start"])
    done = s[s["end"].notna() & (s["end"] <= now)]
    median_los = (done["end"] - done["start"]).groupby(done["ward"]).median()
    inside = s[(s["status"] != "planned") & (s["start"] <= now) & (s["end"].isna() | (s["end"] > now))]
    pending = s[(s["status"] == "planned") & (s["end"].isna() | (s["end"] > now))]
    board = []
    for ward in sorted(set(s["ward"]) | set(capacity)):
        here = inside[inside["ward"] == ward]
        expected = here["planned_end"].copy()
        if ward in median_los.index:
            expected = expected.fillna(here["start"] + median_los[ward])
        leaving = int(((expected > now) & (expected <= now + lookahead)).sum() + (expected <= now).sum())
        board.append(WardStatus(ward, capacity.get(ward), len(here), int((pending["ward"] == ward).sum()), leaving))
    return board


@dataclass(frozen=True)
class Bed:
    id: str
    ward: str
    bay: str
    isolation: bool = False
    specialties: frozenset[str] = frozenset()  # empty = any
    equipment: frozenset[str] = frozenset()
    occupant_sex: str | None = None  # a patient not being moved
    mixed_sex_allowed: bool = False


@dataclass(frozen=True)
class BedRequest:
    id: str
    sex: str
    specialty: str
    home_ward: str | None = None
    isolation: bool = False
    equipment: frozenset[str] = frozenset()
    current_bed: str | None = None  # set for patients who may be moved
    notes: tuple[str, ...] = field(default_factory=tuple)


def _compatible(bed: Bed, req: BedRequest) -> bool:
    return ((not req.isolation or bed.isolation) and (not bed.specialties or req.specialty in bed.specialties)
            and req.equipment <= bed.equipment)


def assign_beds(beds: list[Bed], requests: list[BedRequest], time_limit: float = 10.0, workers: int = 2) -> Plan:
    """Place waiting (and movable) patients in beds; unplaceable patients are reported, not forced."""
    start = time.monotonic()
    m = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    cost: list[cp_model.LinearExprT] = []
    bay_sex: dict[tuple[str, str], cp_model.IntVar] = {}
    placed = []
    for i, req in enumerate(requests):
        options = []
        for b, bed in enumerate(beds):
            if bed.occupant_sex is not None or not _compatible(bed, req):
                continue
            v = m.new_bool_var(f"x{i}_{b}")
            x[(i, b)] = v
            options.append(v)
            if req.home_ward and bed.ward != req.home_ward:
                cost.append(AWAY_FROM_HOME_PENALTY * v)
            if req.current_bed and bed.id != req.current_bed:
                cost.append(TRANSFER_PENALTY * v)
            if not bed.mixed_sex_allowed:
                key = (bed.ward, bed.bay)
                if key not in bay_sex:
                    bay_sex[key] = m.new_bool_var(f"male_{key}")
                m.add_implication(v, bay_sex[key] if req.sex == "male" else bay_sex[key].Not())
        is_placed = m.new_bool_var(f"placed{i}")
        m.add(sum(options) == is_placed)
        cost.append(UNPLACED_PENALTY * (1 - is_placed))
        placed.append(is_placed)
    for b, bed in enumerate(beds):
        vs = [v for (i, bb), v in x.items() if bb == b]
        if len(vs) > 1:
            m.add_at_most_one(vs)
        if bed.occupant_sex is not None and not bed.mixed_sex_allowed and (bed.ward, bed.bay) in bay_sex:
            m.add(bay_sex[(bed.ward, bed.bay)] == int(bed.occupant_sex == "male"))
    m.minimize(sum(cost))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(m)
    seconds = time.monotonic() - start
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Plan("bed-assignment", float("inf"), False, seconds, solver_version="ortools-cp-sat",
                    notes=("no assignment satisfies the hard constraints (occupied bays' sex is fixed)",))
    assignment: dict[str, str | None] = {req.id: None for req in requests}
    for (i, b), v in x.items():
        if solver.boolean_value(v):
            assignment[requests[i].id] = beds[b].id
    unplaced = [r for r, bed in assignment.items() if bed is None]
    by_id = {b.id: b for b in beds}
    away = sum(1 for r in requests if (got := assignment[r.id]) is not None and r.home_ward is not None
               and by_id[got].ward != r.home_ward)
    moves = sum(1 for r in requests if assignment[r.id] and r.current_bed and assignment[r.id] != r.current_bed)
    notes = tuple(f"{r}: no compatible free bed" for r in unplaced)
    return Plan("bed-assignment", float(solver.objective_value), True, seconds, assignments=assignment,
                cost_breakdown={"unplaced": float(len(unplaced) * UNPLACED_PENALTY),
                                "away_from_home_ward": float(away * AWAY_FROM_HOME_PENALTY),
                                "transfers": float(moves * TRANSFER_PENALTY)},
                solver_version="ortools-cp-sat", notes=notes)
