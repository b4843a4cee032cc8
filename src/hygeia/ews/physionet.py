"""PhysioNet/CinC Challenge 2012 set A: every stay scored through the spine, AUROC for in-hospital death.

Each stay file is converted by ``hygeia.records.physionet2012.stay_bundle`` and read through
``PatientRecord.from_resources`` — the same record API that serves live patients — then scored by
:func:`hygeia.ews.cohort.stay_scores` (assumptions there and in docs/ews.md). ``Outcomes-a.txt`` gives
in-hospital death and the challenge's SAPS-I and SOFA, the published baselines (Silva et al., Comput
Cardiol 2012;39:245-8: AUROC 0.650 and 0.623 is what they reach here).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hygeia.ews.cohort import StayScores, auroc, stay_scores
from hygeia.records.physionet2012 import stay_bundle
from hygeia.records.record import PatientRecord

OUTCOME_COLUMNS = ("RecordID", "SAPS-I", "SOFA", "In-hospital_death")


@dataclass(frozen=True)
class StayOutcome:
    record_id: str
    saps_i: int | None  # -1 in the file: not available
    sofa: int | None
    death: bool


class OutcomesFormatError(ValueError):
    """A malformed Outcomes file: names the file, line and field."""


def read_outcomes(path: Path) -> dict[str, StayOutcome]:
    """``Outcomes-a.txt`` keyed by RecordID."""
    out: dict[str, StayOutcome] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in OUTCOME_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise OutcomesFormatError(f"{path}, line 1: missing column(s) {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            values: dict[str, int] = {}
            for col in OUTCOME_COLUMNS:
                try:
                    values[col] = int(row[col])
                except (TypeError, ValueError):
                    raise OutcomesFormatError(f"{path}, line {line}, field {col}: {row[col]!r} is not an integer") \
                        from None
            if values["In-hospital_death"] not in (0, 1):
                raise OutcomesFormatError(f"{path}, line {line}, field In-hospital_death: expected 0 or 1")
            rid = str(values["RecordID"])
            out[rid] = StayOutcome(rid, values["SAPS-I"] if values["SAPS-I"] >= 0 else None,
                                   values["SOFA"] if values["SOFA"] >= 0 else None, values["In-hospital_death"] == 1)
    return out


def _score_files(paths: Sequence[Path]) -> list[tuple[str, StayScores]]:
    out = []
    for p in paths:
        bundle = stay_bundle(p)
        record = PatientRecord.from_resources([e["resource"] for e in bundle["entry"]])
        out.append((p.stem, stay_scores(record)))
    return out


def score_set(directory: Path, *, limit: int | None = None, workers: int = 1) -> Iterator[tuple[str, StayScores]]:
    """(RecordID, scores) for each stay file in ``directory`` (sorted; the first ``limit``)."""
    files = sorted(directory.glob("*.txt"))[:limit]
    chunks = [files[i : i + 100] for i in range(0, len(files), 100)]
    if workers <= 1:
        for chunk in chunks:
            yield from _score_files(chunk)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_score_files, chunks):
            yield from part


@dataclass(frozen=True)
class AurocRow:
    score: str
    n: int
    deaths: int
    auroc: float


def report(scores: Sequence[tuple[str, StayScores]], outcomes: dict[str, StayOutcome]) -> list[AurocRow]:
    """AUROC for in-hospital death of each score's maximum, on the stays where the score is known."""
    rows = []
    getters = {
        "NEWS2 max (first 48 h)": lambda s, o: s.news2_max,
        "qSOFA max": lambda s, o: s.qsofa_max,
        "SIRS max": lambda s, o: s.sirs_max,
        "MEWS max": lambda s, o: s.mews_max,
        "SAPS-I (Outcomes-a)": lambda s, o: o.saps_i,
        "SOFA (Outcomes-a)": lambda s, o: o.sofa,
    }
    for name, get in getters.items():
        pairs = [(get(s, outcomes[rid]), outcomes[rid].death) for rid, s in scores if rid in outcomes]
        known = [(v, d) for v, d in pairs if v is not None]
        if not known:
            continue
        values = np.array([v for v, _ in known], dtype=float)
        deaths = np.array([d for _, d in known], dtype=bool)
        rows.append(AurocRow(name, len(known), int(deaths.sum()), auroc(values, deaths)))
    return rows


__all__ = ["AurocRow", "OutcomesFormatError", "StayOutcome", "read_outcomes", "report", "score_set"]
