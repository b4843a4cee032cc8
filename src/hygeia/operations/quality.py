"""Quality: hospital-acquired infection (HAI) surveillance and outcome tracking with control limits.

HAI rule: a positive culture (an organism isolated) from a specimen collected more than 48 hours after
admission is hospital-onset (CDC/NHSN Patient Safety Component Manual 2024, ch. 2: hospital-onset = on or
after day 3 of admission; ECDC point-prevalence protocol uses the same 48 h rule). One event per patient,
organism and admission (the first isolate). Ward = the care unit the patient was in when the specimen
was taken.

Cluster detection: a Poisson scan per organism and ward — a window of ``window_days`` is flagged when
P(X ≥ k | λ) < ``alpha``, with λ the ward-organism's overall daily rate × window length (Kulldorff's
space-time scan statistic simplified to fixed windows, Kulldorff 2001 J R Stat Soc A 164:61).

Outcomes: length of stay, 30-day readmission (any admission within 30 days of discharge) and in-hospital
mortality by ward (last care unit) and month, with 3-sigma control limits: p-chart for rates, x̄-chart for
mean LOS (Montgomery, *Introduction to Statistical Quality Control*, 7th ed., ch. 6–7; Mohammed, Worthington
& Woodall 2008, Qual Saf Health Care 17:137).
Decision support for infection-prevention teams and clinicians, not an instruction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import poisson

from hygeia import DECISION_SUPPORT_NOTICE

ONSET_HOURS = 48
NOT_ORGANISMS = ("CANCELLED", "NO GROWTH", "TEST CANCELLED, PATIENT CHARGED")


class QualityInputError(ValueError):
    """Input tables missing a needed column (names the table and column)."""


def _need(frame: pd.DataFrame, table: str, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise QualityInputError(f"{table}: missing column(s) {', '.join(missing)}")


def _dates(frame: pd.DataFrame, table: str, col: str) -> pd.Series:
    values = pd.to_datetime(frame[col], format="mixed", errors="coerce")
    bad = frame.index[values.isna() & frame[col].notna()]
    if len(bad):
        raise QualityInputError(f"{table} row {bad[0]}: {col} {frame[col][bad[0]]!r} is not a date-time")
    return values


def hospital_onset_cultures(micro: pd.DataFrame, admissions: pd.DataFrame, transfers: pd.DataFrame,
                            onset_hours: float = ONSET_HOURS) -> pd.DataFrame:
    """Positive cultures taken > ``onset_hours`` after admission: subject_id, hadm_id, organism, time,
    ward, hours_after_admission (MIMIC-IV column names)."""
    _need(micro, "microbiologyevents", ("subject_id", "hadm_id", "org_name", "charttime", "chartdate"))
    _need(admissions, "admissions", ("hadm_id", "admittime"))
    _need(transfers, "transfers", ("hadm_id", "careunit", "intime", "outtime"))
    organism = micro["org_name"].astype("string").str.upper()
    pos = micro[organism.notna() & ~organism.isin(NOT_ORGANISMS) & micro["hadm_id"].notna()].copy()
    pos["time"] = _dates(pos, "microbiologyevents", "charttime").fillna(_dates(pos, "microbiologyevents",
                                                                                      "chartdate"))
    pos = pos.merge(admissions[["hadm_id", "admittime"]], on="hadm_id", how="inner")
    pos["hours_after_admission"] = (pos["time"] - _dates(pos, "admissions", "admittime")).dt.total_seconds() / 3600
    pos = pos[pos["hours_after_admission"] > onset_hours]
    pos = pos.sort_values("time").drop_duplicates(["subject_id", "hadm_id", "org_name"])
    t = transfers.dropna(subset=["careunit"]).copy()
    t["intime"] = _dates(t, "transfers", "intime")
    t["outtime"] = _dates(t, "transfers", "outtime")
    wards = []
    for row in pos.itertuples():
        here = t[(t["hadm_id"] == row.hadm_id) & (t["intime"] <= row.time)
                 & (t["outtime"].isna() | (t["outtime"] > row.time))]
        wards.append(here["careunit"].iloc[-1] if len(here) else "unknown")
    pos["ward"] = wards
    return pos.rename(columns={"org_name": "organism"})[
        ["subject_id", "hadm_id", "organism", "time", "ward", "hours_after_admission"]].reset_index(drop=True)


@dataclass(frozen=True)
class Cluster:
    organism: str
    ward: str
    start: pd.Timestamp
    end: pd.Timestamp
    cases: int
    expected: float
    p_value: float
    notice: str = DECISION_SUPPORT_NOTICE


def detect_clusters(events: pd.DataFrame, window_days: int = 28, alpha: float = 0.01,
                    min_cases: int = 3) -> list[Cluster]:
    """Poisson scan per organism × ward over windows starting at each case (overlapping flags merged)."""
    _need(events, "events", ("organism", "ward", "time"))
    if events.empty:
        return []
    span_days = max(1.0, (events["time"].max() - events["time"].min()).total_seconds() / 86400 + 1)
    found: list[Cluster] = []
    for (org, ward), g in events.groupby(["organism", "ward"]):
        times = g["time"].sort_values().to_list()
        expected = len(times) / span_days * window_days
        last_end: pd.Timestamp | None = None
        for i, t0 in enumerate(times):
            end = t0 + pd.Timedelta(days=window_days)
            k = sum(1 for t in times[i:] if t < end)
            p = float(poisson.sf(k - 1, expected))
            if k >= min_cases and p < alpha and (last_end is None or t0 >= last_end):
                found.append(Cluster(str(org), str(ward), t0, end, k, round(expected, 3), p))
                last_end = end
    return found


def surveillance_table(events: pd.DataFrame, freq: str = "MS") -> pd.DataFrame:
    """Counts of hospital-onset positive cultures by organism, ward and period (default month)."""
    _need(events, "events", ("organism", "ward", "time"))
    return (events.assign(period=events["time"].dt.to_period(freq[0]).dt.start_time)
            .groupby(["organism", "ward", "period"]).size().rename("cases").reset_index())


def admission_outcomes(admissions: pd.DataFrame, transfers: pd.DataFrame) -> pd.DataFrame:
    """Per admission: ward (last care unit), month of discharge, LOS days, died, readmitted within 30 days."""
    _need(admissions, "admissions", ("subject_id", "hadm_id", "admittime", "dischtime", "hospital_expire_flag"))
    a = admissions.copy()
    a["admittime"] = _dates(a, "admissions", "admittime")
    a["dischtime"] = _dates(a, "admissions", "dischtime")
    bad = a.index[a["dischtime"] < a["admittime"]]
    if len(bad):
        raise QualityInputError(f"admissions row {bad[0]}: dischtime before admittime")
    a = a.sort_values(["subject_id", "admittime"])
    next_admit = a.groupby("subject_id")["admittime"].shift(-1)
    a["died"] = a["hospital_expire_flag"].fillna(0).astype(int)
    a["readmit30"] = (((next_admit - a["dischtime"]) <= pd.Timedelta(days=30)) & (a["died"] == 0)).astype(int)
    a["los_days"] = (a["dischtime"] - a["admittime"]).dt.total_seconds() / 86400
    _need(transfers, "transfers", ("hadm_id", "careunit", "intime"))
    last = (transfers.dropna(subset=["careunit"]).assign(intime=lambda f: _dates(f, "transfers", "intime"))
            .sort_values("intime").groupby("hadm_id")["careunit"].last())
    a["ward"] = a["hadm_id"].map(last).fillna("unknown")
    a["month"] = a["dischtime"].dt.to_period("M").dt.start_time
    return a[["subject_id", "hadm_id", "ward", "month", "los_days", "died", "readmit30"]].reset_index(drop=True)


def control_chart(outcomes: pd.DataFrame, by: str = "ward") -> pd.DataFrame:
    """Ward × month: n, mean LOS, readmission and mortality rates, with 3-sigma limits around each ward's
    overall level and an ``out_of_control`` flag per measure."""
    rows = []
    for key, g in outcomes.groupby(by):
        p_read, p_die = g["readmit30"].mean(), g["died"].mean()
        mu, sd = g["los_days"].mean(), g["los_days"].std(ddof=1) if len(g) > 1 else 0.0
        for month, h in g.groupby("month"):
            n = len(h)
            row = {by: key, "month": month, "n": n, "los_mean": h["los_days"].mean(),
                   "los_lcl": max(0.0, mu - 3 * sd / np.sqrt(n)), "los_ucl": mu + 3 * sd / np.sqrt(n)}
            for name, p, col in (("readmit30", p_read, "readmit30"), ("mortality", p_die, "died")):
                half = 3 * np.sqrt(p * (1 - p) / n)
                row |= {f"{name}_rate": h[col].mean(), f"{name}_lcl": max(0.0, p - half),
                        f"{name}_ucl": min(1.0, p + half)}
            row["out_of_control"] = ", ".join(
                m for m, v in (("los", row["los_mean"]), ("readmit30", row["readmit30_rate"]),
                               ("mortality", row["mortality_rate"]))
                if v > row[f"{m}_ucl"] + 1e-12 or v < row[f"{m}_lcl"] - 1e-12)
            rows.append(row)
    return pd.DataFrame(rows)


def load_mimic(hosp: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read MIMIC-IV ``hosp/`` microbiologyevents, admissions and transfers (adapter; the only I/O here)."""
    tables = []
    for name in ("microbiologyevents", "admissions", "transfers"):
        path = hosp / f"{name}.csv.gz"
        if not path.exists():
            path = hosp / f"{name}.csv"
        if not path.exists():
            raise QualityInputError(f"{hosp}: no {name}.csv(.gz) — point at a MIMIC-IV hosp/ folder")
        tables.append(pd.read_csv(path))
    return tables[0], tables[1], tables[2]
