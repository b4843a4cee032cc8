"""Acute-care tasks read from a :class:`PatientRecord`: deterioration on the ward and admission from the ED.

One :class:`Timeline` per record (encounters, vital-sign sets with NEWS2, labs, conditions, medications,
death) is built once; cohort rows (training) and the live score (:func:`deterioration_record_features`,
:func:`ed_record_features`) call the same feature functions on it, which read only what is timed at or
before the index time.

``deterioration`` (index time: an observation set on a ward)
    Cohort: vital-sign sets of inpatient encounters while the patient is not in an ICU/HDU and the set's
    NEWS2 is below 7 (the question is *new* deterioration); at most one index time every 4 h of a stay
    (the first set, then the next set at least 4 h after the last one taken). Outcome within 24 h after the
    index time: a NEWS2 of 7 or more (RCP NEWS2 2017: the "high" band, emergency response), an ICU/HDU
    location, or death. Ongoing stays are used only where the 24 h have passed (before the stay's latest
    observation); after a live discharge nothing can happen in hospital, so the window ends there.
``ed-admission`` (index time: ED arrival; triage = the first vital-sign set within 1 h of arrival)
    Outcome: admission (an inpatient encounter starting between ED arrival and 1 h after the ED visit ends,
    or the ED encounter's discharge disposition "hosp"). Features: age, sex, triage vital signs and NEWS2,
    and what the record knew before arrival (prior ED visits, admissions, ICU stays and clinic visits,
    chronic conditions, active medications). Not the ED diagnosis (recorded at the end of the visit).

NEWS2: Royal College of Physicians. National Early Warning Score (NEWS) 2. London: RCP, 2017 — scored with
:func:`hygeia.ews.score_news2_arrays`, each parameter's latest value carried forward for at most 12 h, SpO2
scale 2 for patients with chronic hypercapnic respiratory failure (SNOMED CT 426896000 / ICD-10 J96.1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from hygeia.ews import score_news2_arrays
from hygeia.records.fhirpath import parse_fhir_datetime
from hygeia.records.record import PatientRecord

H = 3600.0
CARRY_H = 12.0  # a parameter's value stands for NEWS2 for at most 12 h
HIGH_NEWS2 = 7
HORIZON_H = 24.0
SPACING_H = 4.0
TRIAGE_H = 1.0
ICU_WORDS = re.compile(r"(\bicu\b|\bitu\b|\bhdu\b|intensive care|critical care|high dependency|bed-icu|ward-icu)",
                       re.I)
# vital-sign names (PatientRecord.vitals) -> short names
VITALS = {"heart_rate": "hr", "respiratory_rate": "rr", "spo2": "spo2", "temperature": "temp",
          "systolic_bp": "sbp", "diastolic_bp": "dbp"}
TRENDED = ("hr", "rr", "spo2", "sbp", "temp")
LABS = ("lactate", "creatinine", "wbc", "crp", "hemoglobin", "sodium", "potassium", "bun", "platelets", "bilirubin")
ACVPU = {"A": 0, "C": 1, "V": 2, "P": 3, "U": 4}
# Condition groups by ICD-10 prefix (any ICD-10 coding of the Condition) or SNOMED CT code.
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "heart_failure": (("I50",), ("84114007", "56675007")),
    "copd": (("J44",), ("13645005", "195951007")),
    "hypercapnic": (("J96.1",), ("426896000",)),
    "ckd": (("N18",), ("709044004",)),
    "diabetes": (("E10", "E11", "E13", "E14"), ("44054006",)),
    "af": (("I48",), ("49436004",)),
    "cad": (("I20", "I21", "I22", "I23", "I24", "I25"), ("53741008", "401314000")),
    "cancer": (("C",), ("363406005", "254837009", "91857003")),
    "immunosuppressed": (("Z94", "D84"), ("161665007",)),
    "sepsis": (("A40", "A41", "R65.2"), ("91302008",)),
    "pneumonia": (("J12", "J13", "J14", "J15", "J16", "J17", "J18"), ("233604007",)),
    "aki": (("N17",), ("14669001",)),
    "gi_bleed": (("K92.0", "K92.1", "K92.2"), ("74474003",)),
    "stroke": (("I61", "I63", "I64"), ("230690007",)),
}
CHRONIC_GROUPS = ("heart_failure", "copd", "hypercapnic", "ckd", "diabetes", "af", "cad", "cancer",
                  "immunosuppressed")
ACUTE_GROUPS = ("sepsis", "pneumonia", "aki", "gi_bleed", "stroke")


class NoIndexTime(ValueError):
    """The record has no moment the task can predict from (e.g. no inpatient stay, no ED visit)."""


@dataclass(frozen=True)
class Encounter:
    """An encounter with times as hours since the epoch (``end`` is ``inf`` while it is ongoing)."""

    id: str
    cls: str
    start: float
    end: float
    status: str
    emergency: bool  # admitted from the ED (admitSource emd) - inpatient encounters
    admitted: bool  # discharge disposition "hosp" - ED encounters
    icu: tuple[tuple[float, float], ...]  # ICU/HDU location periods (end inf while there)

    @property
    def ongoing(self) -> bool:
        return math.isinf(self.end)


@dataclass(frozen=True)
class Condition:
    onset: float  # hours; NaN when unknown
    abatement: float  # hours; inf when not abated
    groups: frozenset[str]


@dataclass
class Timeline:
    """What a record says, as sorted arrays (times as float hours since the epoch)."""

    patient_id: str
    birth: float  # hours; NaN when unknown
    male: float
    race: str
    death: float  # hours; NaN when alive
    encounters: list[Encounter]
    sets: dict[str, np.ndarray]  # per vital-sign set time: t (hours), hr..dbp, on_o2, o2_flow, acvpu, news2
    labs: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (times, values)
    conditions: list[Condition]
    meds: list[tuple[float, float]]  # (start, end) hours; end inf when open

    def age(self, t: float) -> float:
        return (t - self.birth) / (24 * 365.25)

    @property
    def times(self) -> np.ndarray:
        return self.sets["t"]


def _hours(dt: datetime | None, missing: float = math.nan) -> float:
    if dt is None:
        return missing
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp() / H


def _col_hours(times: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(times, utc=True)
    return np.asarray((stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / H, dtype=float)


def _time(value: Any) -> datetime | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime):
        return value
    return parse_fhir_datetime(str(value))


def _codings(concept: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(str(c.get("system") or ""), str(c.get("code") or "")) for c in (concept or {}).get("coding") or []]


def condition_groups(concept: dict[str, Any] | None) -> frozenset[str]:
    """The :data:`GROUPS` a Condition's code belongs to (any ICD-10 or SNOMED CT coding)."""
    out = set()
    for system, code in _codings(concept):
        icd = "icd-10" in system.lower() or "icd10" in system.lower()
        for name, (prefixes, snomed) in GROUPS.items():
            if (icd and code.upper().startswith(prefixes)) or ("snomed" in system and code in snomed):
                out.add(name)
    return frozenset(out)


def _encounter(e: dict[str, Any]) -> Encounter | None:
    period = e.get("period") or {}
    start = _time(period.get("start"))
    if start is None:
        return None
    hosp = e.get("hospitalization") or {}
    src = {c for _, c in _codings(hosp.get("admitSource"))}
    disp = {c for _, c in _codings(hosp.get("dischargeDisposition"))}
    icu = []
    for loc in e.get("location") or []:
        ref = loc.get("location") or {}
        text = f"{ref.get('reference') or ''} {ref.get('display') or ''}"
        lp = loc.get("period") or {}
        begin = _time(lp.get("start"))
        if ICU_WORDS.search(text) and begin is not None:
            icu.append((_hours(begin), _hours(_time(lp.get("end")), math.inf)))
    return Encounter(str(e.get("id")), str((e.get("class") or {}).get("code") or ""), _hours(start),
                     _hours(_time(period.get("end")), math.inf), str(e.get("status") or ""), "emd" in src,
                     "hosp" in disp, tuple(sorted(set(icu))))


SET_COLUMNS = ("t", *VITALS.values(), "on_o2", "o2_flow", "acvpu", "news2", "complete")


def _sets(vitals: pd.DataFrame, scale: int) -> dict[str, np.ndarray]:
    """Vital-sign sets: one entry per observation time, each parameter carried forward ≤ 12 h, with NEWS2."""
    cols = [*VITALS.values(), "on_o2", "o2_flow", "acvpu"]
    v = vitals.dropna(subset=["time"])
    if v.empty:
        return {c: np.empty(0) for c in SET_COLUMNS}
    t = _col_hours(v["time"])
    name = v["name"].to_numpy().astype(str)
    value = v["value"].to_numpy(dtype=float)
    unit = v["unit"].astype(str).str.lower().to_numpy()
    cons = name == "consciousness"
    acvpu = np.full(len(v), np.nan)
    letters = v["value_str"].to_numpy()[cons].astype(str)
    acvpu[cons] = [ACVPU.get(x.removeprefix("acvpu-").strip()[:1].upper(), np.nan) for x in letters]
    times, slot = np.unique(t, return_inverse=True)
    o2 = name == "supplemental_oxygen"
    sources = {short: (name == long, value) for long, short in VITALS.items()}
    sources["on_o2"] = (o2, np.where(unit == "%", (value > 21).astype(float), (value > 0).astype(float)))
    sources["o2_flow"] = (o2, np.where(unit == "%", np.nan, value))  # L/min (FiO2 % gives no flow)
    sources["acvpu"] = (cons, acvpu)
    out: dict[str, np.ndarray] = {"t": times}
    positions = np.arange(len(times))
    for c in cols:  # the latest value at each set time, carried forward at most CARRY_H
        mask, vals = sources[c]
        mask = mask & ~np.isnan(vals)
        col = np.full(len(times), np.nan)
        col[slot[mask]] = vals[mask]  # in time order: the last value of a time wins
        last = np.maximum.accumulate(np.where(np.isnan(col), -1, positions))
        filled = np.where(last >= 0, col[np.maximum(last, 0)], np.nan)
        fresh = (last >= 0) & (times - times[np.maximum(last, 0)] <= CARRY_H)
        out[c] = np.where(fresh, filled, np.nan)
    acv = np.where(np.isnan(out["acvpu"]), -1, out["acvpu"]).astype(int)
    news = score_news2_arrays(out["rr"], out["spo2"], out["on_o2"], out["sbp"], out["hr"], acv, out["temp"],
                              scale=scale)
    out["news2"] = news.total.astype(float)
    out["complete"] = news.complete.astype(float)
    return out


def timeline(record: PatientRecord) -> Timeline:
    """Everything the acute tasks read from ``record``, once."""
    demo = record.demographics()
    birth = datetime.combine(demo.birth_date, datetime.min.time(), UTC) if demo.birth_date else None
    death = demo.deceased if isinstance(demo.deceased, datetime) else None
    encounters = [e for e in (_encounter(r) for r in record.resources("Encounter")) if e is not None]
    encounters.sort(key=lambda e: e.start)
    conditions = []
    for c in record.resources("Condition"):
        onset = _time(c.get("onsetDateTime") or c.get("recordedDate"))
        conditions.append(Condition(_hours(onset), _hours(_time(c.get("abatementDateTime")), math.inf),
                                    condition_groups(c.get("code"))))
    scale = 2 if any("hypercapnic" in c.groups for c in conditions) else 1
    meds = []
    for m in record.resources("MedicationRequest"):
        validity = (m.get("dispenseRequest") or {}).get("validityPeriod") or {}
        start = _time(m.get("authoredOn") or validity.get("start"))
        if start is not None:
            meds.append((_hours(start), _hours(_time(validity.get("end")), math.inf)))
    labs_df = record.labs()
    labs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not labs_df.empty:
        labs_df = labs_df.dropna(subset=["time", "value"])
        lt = _col_hours(labs_df["time"])
        names = labs_df["name"].to_numpy()
        values = labs_df["value"].to_numpy(dtype=float)
        for lab in LABS:
            mask = names == lab
            if mask.any():
                order = np.argsort(lt[mask], kind="stable")
                labs[lab] = (lt[mask][order], values[mask][order])
    return Timeline(record.id, _hours(birth), 1.0 if demo.gender == "male" else 0.0 if demo.gender == "female"
                    else math.nan, demo.race or "unknown", _hours(death), encounters,
                    _sets(record.vitals(), scale), labs, conditions, meds)


# -- shared feature pieces ------------------------------------------------------------------------------


def _history(tl: Timeline, t: float, exclude: str | None = None) -> dict[str, float]:
    """What the record knew about the patient's use of the hospital before ``t``."""
    year = t - 365 * 24
    before = [e for e in tl.encounters if e.start < t and e.id != exclude]
    inpatient = [e for e in before if e.cls == "IMP"]
    ends = [e.end for e in inpatient if e.end <= t]
    return {
        "prior_ed_visits_1y": float(sum(e.cls == "EMER" and e.start >= year for e in before)),
        "prior_admissions_1y": float(sum(e.start >= year for e in inpatient)),
        "prior_clinic_visits_1y": float(sum(e.cls == "AMB" and e.start >= year for e in before)),
        "prior_icu_stays": float(sum(bool(e.icu) for e in inpatient if e.end <= t)),
        "days_since_discharge": (t - max(ends)) / 24 if ends else math.nan,
    }


def _conditions(tl: Timeline, t: float, groups: Iterable[str]) -> dict[str, float]:
    active = [c for c in tl.conditions if c.onset <= t < c.abatement]  # NaN onset: never
    out = {f"dx_{g}": float(any(g in c.groups for c in active)) for g in groups}
    out["chronic_groups"] = float(sum(out.get(f"dx_{g}", 0.0) for g in CHRONIC_GROUPS))
    out["active_conditions"] = float(len(active))
    return out


def _meds(tl: Timeline, t: float) -> float:
    return float(sum(a <= t < b for a, b in tl.meds))


VITAL_FEATURES = (*VITALS.values(), "on_o2", "o2_flow", "acvpu", "news2")


def _vitals_at(tl: Timeline, i: int | None) -> dict[str, float]:
    if i is None:
        return {k: math.nan for k in VITAL_FEATURES} | {"shock_index": math.nan}
    out = {k: float(tl.sets[k][i]) for k in VITAL_FEATURES}
    out["shock_index"] = out["hr"] / out["sbp"] if out["sbp"] > 0 else math.nan
    return out


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        return math.nan
    xs = x[ok] - x[ok].mean()
    denom = float((xs * xs).sum())
    return float((xs * (y[ok] - y[ok].mean())).sum() / denom) if denom > 1e-9 else math.nan


def _nan_stat(fn: Any, values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(fn(finite)) if len(finite) else math.nan


# -- deterioration --------------------------------------------------------------------------------------


def _in_icu(enc: Encounter, t: float) -> bool:
    return any(a <= t < b for a, b in enc.icu)


def deterioration_features(tl: Timeline, enc: Encounter, i: int) -> dict[str, float]:
    """Features at vital-sign set ``i`` of ``tl`` during inpatient stay ``enc`` (data at or before it)."""
    times = tl.times
    t = float(times[i])
    admit = enc.start
    f: dict[str, float] = {"age": tl.age(t), "male": tl.male, "hours_since_admission": t - admit,
                           "emergency_admission": float(enc.emergency)}
    icu_ends = [b for _, b in enc.icu if b <= t]
    f["hours_since_icu_discharge"] = t - max(icu_ends) if icu_ends else math.nan
    # history before this episode: before the ED visit that led to the admission, when there was one
    ed_visit = [e.start for e in tl.encounters if e.cls == "EMER" and e.start < admit and abs(e.end - admit) <= 1.0]
    f.update(_history(tl, min([admit, *ed_visit]), exclude=enc.id))
    f.update(_conditions(tl, t, GROUPS))
    f["active_medications"] = _meds(tl, t)
    f.update(_vitals_at(tl, i))
    lo = int(np.searchsorted(times, max(t - 24.0, admit), side="left"))
    wt = times[lo:i + 1]
    news = tl.sets["news2"][lo:i + 1]
    f["news2_max_24h"] = _nan_stat(np.max, news)
    f["news2_mean_24h"] = _nan_stat(np.mean, news)
    f["news2_slope_24h"] = _slope(wt, news)
    f["news2_change"] = float(news[-1] - news[-2]) if len(news) >= 2 else math.nan
    f["obs_sets_24h"] = float(len(wt))
    f["hours_since_previous_set"] = float(t - times[i - 1]) if i > 0 and times[i - 1] >= admit else math.nan
    for k in TRENDED:
        vals = tl.sets[k][lo:i + 1]
        f[f"{k}_min_24h"] = _nan_stat(np.min, vals)
        f[f"{k}_max_24h"] = _nan_stat(np.max, vals)
        f[f"{k}_slope_24h"] = _slope(wt, vals)
    last_lab = -math.inf
    for lab in LABS:
        lt, lv = tl.labs.get(lab, (np.empty(0), np.empty(0)))
        n = int(np.searchsorted(lt, t, side="right"))
        first = int(np.searchsorted(lt, admit, side="left"))
        if n > first:
            f[f"{lab}_last"] = float(lv[n - 1])
            f[f"{lab}_change"] = float(lv[n - 1] - lv[first])
            f[f"{lab}_tests_stay"] = float(n - first)
            last_lab = max(last_lab, float(lt[n - 1]))
        else:
            f[f"{lab}_last"] = f[f"{lab}_change"] = math.nan
            f[f"{lab}_tests_stay"] = 0.0
    f["hours_since_last_lab"] = t - last_lab if last_lab > -math.inf else math.nan
    return f


def _deteriorated(tl: Timeline, enc: Encounter, t: float) -> bool:
    """NEWS2 ≥ 7 at a set, an ICU/HDU location, or death, in (t, t + 24 h] and within the stay."""
    horizon = min(t + HORIZON_H, enc.end)
    times = tl.times
    lo, hi = np.searchsorted(times, t, side="right"), np.searchsorted(times, horizon, side="right")
    if (tl.sets["news2"][lo:hi] >= HIGH_NEWS2).any():
        return True
    if any(t < a <= horizon for a, _ in enc.icu):
        return True
    return bool(t < tl.death <= t + HORIZON_H and tl.death <= enc.end + 1.0)  # NaN (alive): False


def deterioration_rows(tl: Timeline) -> list[tuple[float, dict[str, float], int]]:
    """(index time in hours, features, outcome 0/1) for every labelled index time of the record."""
    rows: list[tuple[float, dict[str, float], int]] = []
    times, news = tl.times, tl.sets["news2"]
    for enc in tl.encounters:
        if enc.cls != "IMP":
            continue
        idx = np.flatnonzero((times >= enc.start) & (times < enc.end))
        if not len(idx):
            continue
        observed_until = float(times[idx[-1]]) if enc.ongoing else enc.end
        last = -math.inf
        for i in idx:
            t = float(times[i])
            if t - last < SPACING_H or news[i] >= HIGH_NEWS2 or _in_icu(enc, t):
                continue
            label = _deteriorated(tl, enc, t)
            if enc.ongoing and t + HORIZON_H > observed_until and not label:
                continue  # the 24 h have not passed yet: no label
            last = t
            rows.append((t, deterioration_features(tl, enc, int(i)), int(label)))
    return rows


def deterioration_record_features(record: PatientRecord) -> dict[str, float]:
    """Features at the latest vital-sign set of the patient's current (else latest) inpatient stay."""
    return deterioration_index(timeline(record))[1]


def deterioration_index(tl: Timeline) -> tuple[float, dict[str, float]]:
    """(index time in hours, features) for scoring now: the latest set of the current (else latest) stay."""
    stays = [e for e in tl.encounters if e.cls == "IMP"]
    if not stays:
        raise NoIndexTime(f"patient {tl.patient_id} has no inpatient encounter: nothing for the deterioration model")
    enc = next((e for e in reversed(stays) if e.ongoing), stays[-1])
    idx = np.flatnonzero((tl.times >= enc.start) & (tl.times < enc.end))
    if not len(idx):
        raise NoIndexTime(f"patient {tl.patient_id}: inpatient encounter {enc.id} has no vital signs yet")
    t = float(tl.times[idx[-1]])
    if _in_icu(enc, t):
        raise NoIndexTime(f"patient {tl.patient_id} is in an ICU/HDU bed: the deterioration model is for ward patients")
    return t, deterioration_features(tl, enc, int(idx[-1]))


# -- admission from the ED --------------------------------------------------------------------------------


def ed_features(tl: Timeline, enc: Encounter) -> dict[str, float]:
    """Features at ED arrival: triage vital signs (first set within 1 h) and the record before arrival."""
    t = enc.start
    f: dict[str, float] = {"age": tl.age(t), "male": tl.male}
    first = int(np.searchsorted(tl.times, t, side="left"))
    triage = first < len(tl.times) and tl.times[first] <= min(t + TRIAGE_H, enc.end)
    f.update(_vitals_at(tl, first if triage else None))
    f.update(_history(tl, t, exclude=enc.id))
    f.update(_conditions(tl, t - 1e-6, CHRONIC_GROUPS))
    f["active_medications"] = _meds(tl, t - 1e-6)
    return f


def _admitted(tl: Timeline, enc: Encounter) -> bool:
    return enc.admitted or any(e.cls == "IMP" and enc.start <= e.start <= enc.end + 1.0 for e in tl.encounters)


def ed_rows(tl: Timeline) -> list[tuple[float, dict[str, float], int]]:
    """(arrival time in hours, features, admitted 0/1) for every finished ED visit."""
    return [(e.start, ed_features(tl, e), int(_admitted(tl, e)))
            for e in tl.encounters if e.cls == "EMER" and not e.ongoing]


def ed_record_features(record: PatientRecord) -> dict[str, float]:
    """Features at the patient's current (else latest) ED visit."""
    tl = timeline(record)
    visits = [e for e in tl.encounters if e.cls == "EMER"]
    if not visits:
        raise NoIndexTime(f"patient {tl.patient_id} has no emergency-department encounter")
    return ed_features(tl, next((e for e in reversed(visits) if e.ongoing), visits[-1]))


# -- plain words for the explanations ----------------------------------------------------------------------

_WORDS = {"hr": ("heart rate", "/min"), "rr": ("respiratory rate", "/min"), "spo2": ("SpO2", "%"),
          "temp": ("temperature", "°C"), "sbp": ("systolic BP", "mmHg"), "dbp": ("diastolic BP", "mmHg"),
          "news2": ("NEWS2", ""), "o2_flow": ("oxygen flow", "L/min"), "lactate": ("lactate", "mmol/L"),
          "creatinine": ("creatinine", "mg/dL"), "wbc": ("WBC", "×10⁹/L"), "crp": ("CRP", "mg/L"),
          "hemoglobin": ("haemoglobin", "g/dL"), "sodium": ("sodium", "mmol/L"), "potassium": ("potassium", "mmol/L"),
          "bun": ("urea nitrogen", "mg/dL"), "platelets": ("platelets", "×10⁹/L"), "bilirubin": ("bilirubin", "mg/dL")}
_SUFFIX = {"_min_24h": "lowest in 24 h", "_max_24h": "highest in 24 h", "_slope_24h": "trend per hour over 24 h",
           "_mean_24h": "mean over 24 h", "_last": "latest", "_change": "change since admission",
           "_tests_stay": "tests this stay"}


def describe(feature: str, value: float) -> str:
    """A feature of the acute tasks and its value in plain words (``NEWS2 5, highest in 24 h``)."""
    if value != value:
        return f"{feature.replace('_', ' ')}: not recorded"
    if feature.startswith("dx_"):
        return f"{feature[3:].replace('_', ' ')}: {'yes' if value >= 0.5 else 'no'}"
    if feature in ("male", "on_o2", "emergency_admission"):
        label = {"male": "sex male", "on_o2": "on supplemental oxygen", "emergency_admission": "admitted via ED"}
        return f"{label[feature]}: {'yes' if value >= 0.5 else 'no'}"
    if feature == "acvpu":
        return f"consciousness (ACVPU) {'ACVPU'[int(min(max(value, 0), 4))]}"
    for suffix, words in _SUFFIX.items():
        if feature.endswith(suffix) and feature[: -len(suffix)] in _WORDS:
            name, unit = _WORDS[feature[: -len(suffix)]]
            unit = "" if suffix == "_tests_stay" else unit
            return f"{name} {value:.3g}{(' ' + unit) if unit else ''}, {words}"
    if feature in _WORDS:
        name, unit = _WORDS[feature]
        return f"{name} {value:.3g}{(' ' + unit) if unit else ''}"
    return f"{feature.replace('_', ' ')} {value:.3g}"


__all__ = ["NoIndexTime", "Timeline", "describe", "deterioration_features", "deterioration_index",
           "deterioration_record_features", "deterioration_rows", "ed_features", "ed_record_features", "ed_rows",
           "timeline"]
