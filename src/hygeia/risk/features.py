"""Feature extraction from a :class:`PatientRecord`: time-series summaries, trends, missingness,
physiology scores and ratios over an observation window.

The same functions build training tables and score a live patient, so what the model sees at
training time is exactly what it sees in production. Everything here is pure: a record (or a tidy
long table) in, a flat ``dict[str, float]`` out; NaN means "not measured".

Physiology scores are *SAPS-like* and *SOFA-like* components computed from what the record holds;
they are features, not validated scores:
- SAPS (I): Le Gall JR et al. A simplified acute physiology score for ICU patients.
  Crit Care Med 1984;12:975-977 (worst value in the first 24 h, 0-4 points per variable).
- SAPS II: Le Gall JR, Lemeshow S, Saulnier F. A new Simplified Acute Physiology Score (SAPS II)
  based on a European/North American multicenter study. JAMA 1993;270:2957-2963 (Table 1; chronic
  disease and admission type are not in the record).
- APACHE II acute physiology and age points: Knaus WA et al. APACHE II: a severity of disease
  classification system. Crit Care Med 1985;13:818-829 (Fig. 1; no chronic health points, no
  doubling of creatinine points for acute renal failure).
- SOFA: Vincent JL et al. The SOFA score to describe organ dysfunction/failure.
  Intensive Care Med 1996;22:707-710 (vasopressor doses are not in the record: cardiovascular
  component uses MAP < 70 mmHg only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from hygeia.records import codes
from hygeia.records.fhirpath import parse_fhir_datetime
from hygeia.records.record import PatientRecord

AGE_LOINC = "30525-0"
MECHVENT_CODE = "MechVent"
INVASIVE_BP = {"76215-3", "76213-8", "76214-6"}
# Time series summarised by every statistic below (names from codes.VITALS and codes.LABS).
SERIES: tuple[str, ...] = (
    "heart_rate", "respiratory_rate", "spo2", "temperature", "systolic_bp", "diastolic_bp", "mean_bp", "gcs",
    "fio2", "albumin", "alp", "alt", "ast", "bilirubin", "bun", "cholesterol", "creatinine", "glucose",
    "bicarbonate", "hematocrit", "hemoglobin", "potassium", "lactate", "magnesium", "sodium", "paco2", "pao2",
    "ph", "platelets", "troponin_i", "troponin_t", "wbc", "chloride", "calcium", "inr", "crp", "urine_output",
    "weight",
)
STATS: tuple[str, ...] = ("count", "first", "last", "min", "max", "mean", "std", "slope", "slope_recent",
                          "delta", "since_last", "recent_mean")
# Plain words for each statistic (used by the explanations).
STAT_WORDS: dict[str, str] = {
    "count": "measurements in {w} h", "first": "first in {w} h", "last": "latest", "min": "lowest in {w} h",
    "max": "highest in {w} h", "mean": "mean over {w} h", "std": "variability (SD) over {w} h",
    "slope": "trend per hour over {w} h", "slope_recent": "trend per hour over the last 12 h",
    "delta": "change latest minus first", "since_last": "hours since last measured",
    "recent_mean": "mean over the last 12 h", "sum": "total over {w} h", "sum_first24": "total in the first 24 h",
    "sum_last24": "total in the last 24 h",
    "late_minus_early": "mean of the last 12 h minus mean of the first 12 h", "twmean": "time-weighted mean over {w} h",
    "ml_kg_h": "mL/kg/h over {w} h", "ml_kg_h_last24": "mL/kg/h over the last 24 h",
    "clearance": "fall from first to latest, fraction of first", "total": "points",
}
RECENT_H = 12.0


@dataclass(frozen=True)
class Observations:
    """A record's numeric observations as a long table relative to the index time.

    ``frame`` columns: ``hours`` (since index), ``name``, ``value``; ``units`` maps name to unit.
    """

    frame: pd.DataFrame
    units: dict[str, str]
    age: float | None
    sex: str | None
    mech_vent_hours: tuple[float, ...]
    invasive_bp_count: int
    icu_type: str | None


def _hours(times: pd.Series, index: datetime) -> np.ndarray:
    t = pd.to_datetime(times, utc=True)
    return np.asarray((t - pd.Timestamp(index)).dt.total_seconds() / 3600.0, dtype=float)


def observations(record: PatientRecord, index: datetime | None = None) -> tuple[Observations, datetime]:
    """The numeric observations of ``record`` relative to ``index`` (default: first encounter start)."""
    enc = record.encounters()
    if index is None:
        starts = enc["start"].dropna()
        index = starts.iloc[0].to_pydatetime() if len(starts) else datetime(1970, 1, 1, tzinfo=UTC)
    assert index is not None
    if index.tzinfo is None:
        index = index.replace(tzinfo=UTC)
    vit = record.vitals()
    vit = vit[vit["value"].notna()]
    invasive = int(vit["code"].isin(INVASIVE_BP).sum())
    vit = vit.assign(name=vit["name"].where(vit["name"] != "supplemental_oxygen", "fio2"))
    vit = vit[(vit["name"] != "fio2") | (vit["unit"].fillna("%") == "%")]
    labs = record.labs()
    labs = labs[labs["value"].notna() & labs["name"].isin(list(codes.LAB_BY_NAME))]
    frames = [f[["time", "name", "value", "unit"]] for f in (vit, labs) if not f.empty]
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["time", "name", "value", "unit"])
    units = {str(n): str(u) for n, u in zip(long["name"], long["unit"], strict=True) if isinstance(u, str)}
    out = pd.DataFrame({"hours": _hours(long["time"], index) if len(long) else np.array([], dtype=float),
                        "name": long["name"].astype(str).to_numpy(), "value": long["value"].astype(float).to_numpy()})
    age: float | None = None
    vent: list[float] = []
    for res in record.resources("Observation"):
        codings = (res.get("code") or {}).get("coding") or []
        cset = {c.get("code") for c in codings}
        when = res.get("effectiveDateTime")
        if AGE_LOINC in cset and isinstance((res.get("valueQuantity") or {}).get("value"), int | float):
            age = float(res["valueQuantity"]["value"])
        elif MECHVENT_CODE in cset and res.get("valueBoolean") is True and isinstance(when, str):
            at = parse_fhir_datetime(when)
            if at is not None:
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                vent.append((at - index).total_seconds() / 3600.0)
    demo = record.demographics()
    if age is None and demo.birth_date is not None:
        age = float(demo.age(index.date()) or 0)
    icu = None
    if len(enc) and enc["locations"].iloc[0]:
        icu = enc["locations"].iloc[0][0].get("location")
    return Observations(out, units, age, demo.gender, tuple(sorted(vent)), invasive, icu), index


def _slope(t: np.ndarray, v: np.ndarray) -> float:
    if len(t) < 2 or np.ptp(t) < 1e-6:
        return math.nan
    tc = t - t.mean()
    return float((tc * (v - v.mean())).sum() / (tc * tc).sum())


def series_stats(t: np.ndarray, v: np.ndarray, window: float) -> dict[str, float]:
    """Summary statistics of one time series (times ``t`` in hours within [0, window], sorted)."""
    n = len(v)
    if n == 0:
        return {"count": 0.0, **{s: math.nan for s in STATS if s != "count"}}
    recent = t >= window - RECENT_H
    return {
        "count": float(n), "first": float(v[0]), "last": float(v[-1]), "min": float(v.min()),
        "max": float(v.max()), "mean": float(v.mean()), "std": float(v.std()) if n > 1 else math.nan,
        "slope": _slope(t, v), "slope_recent": _slope(t[recent], v[recent]), "delta": float(v[-1] - v[0]),
        "since_last": float(window - t[-1]), "recent_mean": float(v[recent].mean()) if recent.any() else math.nan,
    }


def _points(value: float, table: Sequence[tuple[float, float, int]]) -> float:
    """Points for ``value`` from (low inclusive, high exclusive, points) bands; NaN when unmeasured."""
    if value != value:
        return math.nan
    for lo, hi, pts in table:
        if lo <= value < hi:
            return float(pts)
    return 0.0


INF = math.inf
# SAPS (I) bands, Le Gall 1984 (BUN, glucose converted from mmol/L to mg/dL). Approximate: a feature.
SAPS_BANDS: dict[str, tuple[str, tuple[tuple[float, float, int], ...]]] = {
    "heart_rate": ("worst", ((180, INF, 4), (140, 180, 3), (110, 140, 2), (55, 70, 2), (40, 55, 3), (-INF, 40, 4))),
    "systolic_bp": ("worst", ((190, INF, 4), (150, 190, 2), (55, 80, 2), (-INF, 55, 4))),
    "temperature": ("worst", ((41, INF, 4), (39, 41, 3), (38.5, 39, 1), (34, 36, 1), (32, 34, 2), (30, 32, 3),
                              (-INF, 30, 4))),
    "respiratory_rate": ("worst", ((50, INF, 4), (35, 50, 3), (25, 35, 1), (10, 12, 1), (6, 10, 2), (-INF, 6, 4))),
    "bun": ("worst", ((154, INF, 4), (101, 154, 3), (81, 101, 2), (21, 81, 1), (-INF, 10, 1))),
    "hematocrit": ("worst", ((60, INF, 4), (50, 60, 2), (46, 50, 1), (20, 30, 2), (-INF, 20, 4))),
    "wbc": ("worst", ((40, INF, 4), (20, 40, 2), (15, 20, 1), (1, 3, 2), (-INF, 1, 4))),
    "glucose": ("worst", ((800, INF, 4), (500, 800, 3), (250, 500, 1), (50, 70, 2), (29, 50, 3), (-INF, 29, 4))),
    "potassium": ("worst", ((7, INF, 4), (6, 7, 3), (5.5, 6, 1), (3, 3.5, 1), (2.5, 3, 2), (-INF, 2.5, 4))),
    "sodium": ("worst", ((180, INF, 4), (161, 180, 3), (156, 161, 2), (151, 156, 1), (120, 130, 2), (110, 120, 3),
                         (-INF, 110, 4))),
    "bicarbonate": ("worst", ((40, INF, 3), (30, 40, 1), (10, 20, 1), (5, 10, 3), (-INF, 5, 4))),
    "gcs": ("worst", ((10, 13, 1), (7, 10, 2), (4, 7, 3), (-INF, 4, 4))),
}
SAPS_AGE = ((76, INF, 4), (66, 76, 3), (56, 66, 2), (46, 56, 1))
SAPS_URINE_L = ((5, INF, 2), (3.5, 5, 1), (0.5, 0.7, 2), (0.2, 0.5, 3), (-INF, 0.2, 4))
# SOFA bands, Vincent 1996.
SOFA_PF = ((-INF, 100, 4), (100, 200, 3), (200, 300, 2), (300, 400, 1))
SOFA_PLATELETS = ((-INF, 20, 4), (20, 50, 3), (50, 100, 2), (100, 150, 1))
SOFA_BILIRUBIN = ((12, INF, 4), (6, 12, 3), (2, 6, 2), (1.2, 2, 1))
SOFA_GCS = ((-INF, 6, 4), (6, 10, 3), (10, 13, 2), (13, 15, 1))
SOFA_CREATININE = ((5, INF, 4), (3.5, 5, 3), (2, 3.5, 2), (1.2, 2, 1))


# SAPS II points (Le Gall 1993, Table 1), worst value in the window; units as stored (BUN mg/dL,
# bilirubin mg/dL, WBC 10^3/uL). PaO2/FiO2 points count only under mechanical ventilation.
SAPS2_BANDS: dict[str, tuple[tuple[float, float, int], ...]] = {
    "heart_rate": ((-INF, 40, 11), (40, 70, 2), (120, 160, 4), (160, INF, 7)),
    "systolic_bp": ((-INF, 70, 13), (70, 100, 5), (200, INF, 2)),
    "temperature": ((39, INF, 3),),
    "bun": ((28, 84, 6), (84, INF, 10)),
    "wbc": ((-INF, 1, 12), (20, INF, 3)),
    "potassium": ((-INF, 3, 3), (5, INF, 3)),
    "sodium": ((-INF, 125, 5), (145, INF, 1)),
    "bicarbonate": ((-INF, 15, 6), (15, 20, 3)),
    "bilirubin": ((4, 6, 4), (6, INF, 9)),
    "gcs": ((-INF, 6, 26), (6, 9, 13), (9, 11, 7), (11, 14, 5)),
}
SAPS2_AGE = ((40, 60, 7), (60, 70, 12), (70, 75, 15), (75, 80, 16), (80, INF, 18))
SAPS2_PF = ((-INF, 100, 11), (100, 200, 9), (200, INF, 6))
SAPS2_URINE_L = ((-INF, 0.5, 11), (0.5, 1.0, 4))
# APACHE II acute physiology points (Knaus 1985, Fig. 1); GCS contributes 15 - GCS.
APACHE2_BANDS: dict[str, tuple[tuple[float, float, int], ...]] = {
    "temperature": ((41, INF, 4), (39, 41, 3), (38.5, 39, 1), (34, 36, 1), (32, 34, 2), (30, 32, 3), (-INF, 30, 4)),
    "mean_bp": ((160, INF, 4), (130, 160, 3), (110, 130, 2), (50, 70, 2), (-INF, 50, 4)),
    "heart_rate": ((180, INF, 4), (140, 180, 3), (110, 140, 2), (55, 70, 2), (40, 55, 3), (-INF, 40, 4)),
    "respiratory_rate": ((50, INF, 4), (35, 50, 3), (25, 35, 1), (10, 12, 1), (6, 10, 2), (-INF, 6, 4)),
    "ph": ((7.7, INF, 4), (7.6, 7.7, 3), (7.5, 7.6, 1), (7.25, 7.33, 2), (7.15, 7.25, 3), (-INF, 7.15, 4)),
    "sodium": ((180, INF, 4), (160, 180, 3), (155, 160, 2), (150, 155, 1), (120, 130, 2), (111, 120, 3),
               (-INF, 111, 4)),
    "potassium": ((7, INF, 4), (6, 7, 3), (5.5, 6, 1), (3, 3.5, 1), (2.5, 3, 2), (-INF, 2.5, 4)),
    "creatinine": ((3.5, INF, 4), (2, 3.5, 3), (1.5, 2, 2), (-INF, 0.6, 2)),
    "hematocrit": ((60, INF, 4), (50, 60, 2), (46, 50, 1), (20, 30, 2), (-INF, 20, 4)),
    "wbc": ((40, INF, 4), (20, 40, 2), (15, 20, 1), (1, 3, 2), (-INF, 1, 4)),
}
APACHE2_AGE = ((45, 55, 2), (55, 65, 3), (65, 75, 5), (75, INF, 6))
APACHE2_AADO2 = ((500, INF, 4), (350, 500, 3), (200, 350, 2))  # FiO2 >= 50 %
APACHE2_PAO2 = ((-INF, 55, 4), (55, 61, 3), (61, 71, 1))  # FiO2 < 50 %
# Variables with early/late and time-weighted summaries (the curated trend block).
TREND: tuple[str, ...] = (
    "heart_rate", "respiratory_rate", "temperature", "systolic_bp", "mean_bp", "gcs", "bun", "creatinine", "lactate",
    "platelets", "wbc", "bicarbonate", "ph", "hematocrit", "sodium", "potassium", "glucose", "spo2", "fio2", "pao2",
    "paco2", "bilirubin",
)


def _worst_points(v: np.ndarray, table: Sequence[tuple[float, float, int]]) -> float:
    if len(v) == 0:
        return math.nan
    return max(_points(float(x), table) for x in (v.min(), v.max()))


def _pf_ratios(series: dict[str, tuple[np.ndarray, np.ndarray]], vent: Sequence[float]) -> np.ndarray:
    """PaO2/FiO2 at each PaO2, FiO2 carried forward (room air 21 % before any FiO2 when not ventilated)."""
    t_pa, pa = series.get("pao2", (np.array([]), np.array([])))
    if len(pa) == 0:
        return np.array([])
    t_fi, fi = series.get("fio2", (np.array([]), np.array([])))
    out = []
    for t, p in zip(t_pa, pa, strict=True):
        prior = fi[t_fi <= t + 1e-9]
        if len(prior):
            f = prior[-1]
        elif not any(h <= t for h in vent):
            f = 21.0
        else:
            continue
        if f > 0:
            out.append(p / (f / 100.0))
    return np.asarray(out, dtype=float)


def _paired(series: dict[str, tuple[np.ndarray, np.ndarray]], a: str, b: str) -> np.ndarray:
    """a/b at the times both were measured."""
    if a not in series or b not in series:
        return np.array([])
    ta, va = series[a]
    tb, vb = series[b]
    common, ia, ib = np.intersect1d(ta, tb, return_indices=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = va[ia] / vb[ib]
    return r[np.isfinite(r)] if len(common) else np.array([])


def _summ(prefix: str, v: np.ndarray) -> dict[str, float]:
    if len(v) == 0:
        return {f"{prefix}__min": math.nan, f"{prefix}__max": math.nan, f"{prefix}__last": math.nan}
    return {f"{prefix}__min": float(v.min()), f"{prefix}__max": float(v.max()), f"{prefix}__last": float(v[-1])}


def _scores(series: dict[str, tuple[np.ndarray, np.ndarray]], obs: Observations, lo: float, hi: float,
            tag: str) -> dict[str, float]:
    """SAPS-like and SOFA-like totals and components over [lo, hi) hours."""
    def window(name: str) -> np.ndarray:
        if name not in series:
            return np.array([])
        t, v = series[name]
        return v[(t >= lo) & (t < hi)]

    out: dict[str, float] = {}
    saps: list[float] = []
    ventilated = any(lo <= h < hi for h in obs.mech_vent_hours) or any(h < lo for h in obs.mech_vent_hours)
    for name, (_, table) in SAPS_BANDS.items():
        pts = 3.0 if name == "respiratory_rate" and ventilated else _worst_points(window(name), table)
        out[f"saps_{tag}__{name}"] = pts
        saps.append(pts)
    age_pts = _points(obs.age if obs.age is not None else math.nan, SAPS_AGE)
    urine = window("urine_output")
    hours = max(hi - lo, 1.0)
    urine_pts = _points(urine.sum() / 1000.0 * 24.0 / hours, SAPS_URINE_L) if len(urine) else math.nan
    saps += [age_pts, urine_pts]
    out[f"saps_{tag}__total"] = float(np.nansum(saps))
    out[f"saps_{tag}__measured"] = float(np.sum(~np.isnan(saps)))
    pf_t, _ = series.get("pao2", (np.array([]), np.array([])))
    sub = {k: (t[(t >= lo) & (t < hi)], v[(t >= lo) & (t < hi)]) for k, (t, v) in series.items()}
    pf = _pf_ratios(sub, obs.mech_vent_hours)
    resp = _points(float(pf.min()), SOFA_PF) if len(pf) else math.nan
    if resp == resp and resp >= 3 and not ventilated:
        resp = 2.0  # SOFA gives 3-4 points only with respiratory support
    mbp = window("mean_bp")
    renal_c = _worst_points(window("creatinine"), SOFA_CREATININE)
    urine_day = urine.sum() * 24.0 / hours if len(urine) else math.nan
    renal_u = 4.0 if urine_day < 200 else 3.0 if urine_day < 500 else 0.0 if urine_day == urine_day else math.nan
    sofa = {
        "respiration": resp,
        "coagulation": _worst_points(window("platelets"), SOFA_PLATELETS),
        "liver": _worst_points(window("bilirubin"), SOFA_BILIRUBIN),
        "cardiovascular": (1.0 if mbp.min() < 70 else 0.0) if len(mbp) else math.nan,
        "cns": _worst_points(window("gcs"), SOFA_GCS),
        "renal": float(np.nanmax([renal_c, renal_u])) if not (renal_c != renal_c and renal_u != renal_u) else math.nan,
    }
    for k, pts in sofa.items():
        out[f"sofa_{tag}__{k}"] = pts
    out[f"sofa_{tag}__total"] = float(np.nansum(list(sofa.values())))
    del pf_t
    return out


def _twmean(t: np.ndarray, v: np.ndarray, window: float) -> float:
    """Time-weighted mean: each value holds until the next measurement (the last until the window ends)."""
    if len(v) == 0:
        return math.nan
    w = np.diff(np.append(t, window))
    return float((v * w).sum() / w.sum()) if w.sum() > 0 else float(v[-1])


def _oxygenation(series: dict[str, tuple[np.ndarray, np.ndarray]], vent: Sequence[float], lo: float,
                 hi: float) -> list[tuple[float, float, float]]:
    """(PaO2, FiO2 %, PaCO2) at each PaO2 in [lo, hi): FiO2 carried forward (21 % before any FiO2 when not
    ventilated, unknown when ventilated), PaCO2 of the same time or 40 mmHg."""
    empty = (np.array([]), np.array([]))
    t_pa, pa = series.get("pao2", empty)
    t_fi, fi = series.get("fio2", empty)
    t_pc, pc = series.get("paco2", empty)
    out = []
    for t, p in zip(t_pa, pa, strict=True):
        if not lo <= t < hi:
            continue
        prior = fi[t_fi <= t + 1e-9]
        f = float(prior[-1]) if len(prior) else (21.0 if not any(h <= t for h in vent) else math.nan)
        same = pc[np.abs(t_pc - t) < 1e-6]
        out.append((float(p), f, float(same[0]) if len(same) else 40.0))
    return out


def _severity(series: dict[str, tuple[np.ndarray, np.ndarray]], obs: Observations, lo: float,
              hi: float) -> dict[str, dict[str, float]]:
    """SAPS II, APACHE II (acute physiology + age) and SOFA points per component, worst value in [lo, hi)
    hours; NaN = not measured (counted as 0 in the totals, as the scores do)."""
    def win(name: str) -> np.ndarray:
        if name not in series:
            return np.array([])
        t, v = series[name]
        return v[(t >= lo) & (t < hi)]

    ventilated = any(h < hi for h in obs.mech_vent_hours)
    urine = win("urine_output")
    urine_l_day = urine.sum() / 1000.0 * 24.0 / (hi - lo) if len(urine) else math.nan
    age = obs.age if obs.age is not None else math.nan
    ox = _oxygenation(series, obs.mech_vent_hours, lo, hi)
    pf = [p / (f / 100.0) for p, f, _ in ox if f == f and f > 0]
    saps2 = {k: _worst_points(win(k), table) for k, table in SAPS2_BANDS.items()}
    saps2["age"] = _points(age, SAPS2_AGE)
    saps2["urine"] = _points(urine_l_day, SAPS2_URINE_L)
    saps2["pf"] = (_points(min(pf), SAPS2_PF) if pf else math.nan) if ventilated else 0.0
    apache2 = {k: _worst_points(win(k), table) for k, table in APACHE2_BANDS.items()}
    gcs = win("gcs")
    apache2["gcs"] = float(15 - gcs.min()) if len(gcs) else math.nan
    apache2["age"] = _points(age, APACHE2_AGE)
    oxygen = [_points(f / 100 * 713 - c / 0.8 - p, APACHE2_AADO2) if f >= 50 else _points(p, APACHE2_PAO2)
              for p, f, c in ox if f == f]
    apache2["oxygenation"] = max(oxygen) if oxygen else math.nan
    resp = _points(min(pf), SOFA_PF) if pf else math.nan
    if resp == resp and resp >= 3 and not ventilated:
        resp = 2.0  # SOFA gives 3-4 points only with respiratory support
    mbp = win("mean_bp")
    renal_c = _worst_points(win("creatinine"), SOFA_CREATININE)
    urine_day = urine_l_day * 1000.0
    renal_u = 4.0 if urine_day < 200 else 3.0 if urine_day < 500 else 0.0 if urine_day == urine_day else math.nan
    sofa = {"respiration": resp, "coagulation": _worst_points(win("platelets"), SOFA_PLATELETS),
            "liver": _worst_points(win("bilirubin"), SOFA_BILIRUBIN),
            "cardiovascular": (1.0 if mbp.min() < 70 else 0.0) if len(mbp) else math.nan,
            "cns": _worst_points(gcs, SOFA_GCS),
            "renal": float(np.nanmax([renal_c, renal_u])) if renal_c == renal_c or renal_u == renal_u else math.nan}
    return {"saps2": saps2, "apache2": apache2, "sofa": sofa}


def curated_features(series: dict[str, tuple[np.ndarray, np.ndarray]], obs: Observations,
                     window: float = 48.0) -> dict[str, float]:
    """The curated block: SAPS II / APACHE II / SOFA points over the whole window (per component and
    total) and totals for the first and last 24 h; urine output per kg per hour; mean of the last 12 h
    minus mean of the first 12 h and the time-weighted mean of the main variables; lactate clearance.
    An empty ``series`` gives every name of the block (all NaN or 0)."""
    out: dict[str, float] = {}
    for tag, lo in (("48h", 0.0), ("first24", 0.0), ("last24", window - 24.0)):
        hi = 24.0 if tag == "first24" else window + 1e-9
        for score, points in _severity(series, obs, lo, hi).items():
            if score == "sofa" and tag != "48h":
                continue  # SOFA-like totals of the first and last 24 h: window_features' older block
            if tag == "48h":
                out.update({f"{score}_48h__{k}": v for k, v in points.items()})
            out[f"{score}_{tag}__total"] = float(np.nansum(list(points.values())))
    empty = (np.array([]), np.array([]))
    weight = float(np.median(series["weight"][1])) if "weight" in series else math.nan
    t, v = series.get("urine_output", empty)
    total, last24 = (float(v.sum()), float(v[t >= window - 24].sum())) if len(v) else (math.nan, math.nan)
    per_kg = weight == weight and weight > 0
    out["urine_output__ml_kg_h"] = total / weight / window if per_kg else math.nan
    out["urine_output__ml_h"] = total / window
    out["urine_output__ml_kg_h_last24"] = last24 / weight / 24.0 if per_kg else math.nan
    out["urine_output__ml_h_last24"] = last24 / 24.0
    for name in TREND:
        t, v = series.get(name, empty)
        early, late = v[t < RECENT_H], v[t >= window - RECENT_H]
        out[f"{name}__late_minus_early"] = float(late.mean() - early.mean()) if len(early) and len(late) else math.nan
        out[f"{name}__twmean"] = _twmean(t, v, window)
    t, v = series.get("lactate", empty)
    out["lactate__clearance"] = float((v[0] - v[-1]) / v[0]) if len(v) > 1 and v[0] > 0 else math.nan
    return out


def window_features(obs: Observations, window: float = 48.0) -> dict[str, float]:
    """All features of one record's observations over ``[0, window]`` hours after the index time."""
    f = obs.frame
    f = f[(f["hours"] >= 0) & (f["hours"] <= window)].sort_values("hours", kind="stable")
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {
        str(name): (g["hours"].to_numpy(dtype=float), g["value"].to_numpy(dtype=float))
        for name, g in f.groupby("name", sort=False)
    }
    out: dict[str, float] = {}
    for name in SERIES:
        t, v = series.get(name, (np.array([]), np.array([])))
        if name == "urine_output":
            out["urine_output__count"] = float(len(v))
            out["urine_output__sum"] = float(v.sum()) if len(v) else math.nan
            out["urine_output__sum_first24"] = float(v[t < 24].sum()) if len(v) else math.nan
            out["urine_output__sum_last24"] = float(v[t >= window - 24].sum()) if len(v) else math.nan
            out["urine_output__since_last"] = float(window - t[-1]) if len(v) else math.nan
            continue
        for stat, value in series_stats(t, v, window).items():
            out[f"{name}__{stat}"] = value
    out["age"] = obs.age if obs.age is not None else math.nan
    out["sex_male"] = {"male": 1.0, "female": 0.0}.get(obs.sex or "", math.nan)
    out["height"] = float(series["height"][1][0]) if "height" in series else math.nan
    w = out["weight__first"]
    h = out["height"]
    out["bmi"] = w / (h / 100) ** 2 if w == w and h == h and h > 0 else math.nan
    out["mech_vent"] = 1.0 if obs.mech_vent_hours else 0.0
    out["mech_vent__first_hour"] = obs.mech_vent_hours[0] if obs.mech_vent_hours else math.nan
    out["invasive_bp__count"] = float(obs.invasive_bp_count)
    for i, name in enumerate(("Coronary Care Unit", "Cardiac Surgery Recovery Unit", "Medical ICU", "Surgical ICU")):
        out[f"icu_type__{i + 1}"] = 1.0 if obs.icu_type == name else 0.0
    out["measured_variables"] = float(sum(1 for n in SERIES if n in series))
    out["measurements_per_hour"] = float(len(f)) / window
    pf = _pf_ratios(series, obs.mech_vent_hours)
    out.update(_summ("pf_ratio", pf))
    out.update(_summ("bun_creatinine", _paired(series, "bun", "creatinine")))
    out.update(_summ("shock_index", _paired(series, "heart_rate", "systolic_bp")))
    pp = (series["systolic_bp"][1].mean() - series["diastolic_bp"][1].mean()
          if "systolic_bp" in series and "diastolic_bp" in series else math.nan)
    out["pulse_pressure__mean"] = float(pp)
    out.update(_scores(series, obs, 0.0, 24.0, "first24"))
    out.update(_scores(series, obs, window - 24.0, window + 1e-9, "last24"))
    out["sofa__change"] = out["sofa_last24__total"] - out["sofa_first24__total"]
    out.update({k: v for k, v in curated_features(series, obs, window).items() if k not in out})
    return out


def record_features(record: PatientRecord, window: float = 48.0, index: datetime | None = None) -> dict[str, float]:
    """Features of one ICU stay: the first ``window`` hours after ``index`` (default: admission)."""
    obs, _ = observations(record, index)
    return window_features(obs, window)


def describe(feature: str, value: float, units: dict[str, str] | None = None, window: float = 48.0) -> str:
    """A feature and its value in plain words: ``lactate 4.1 mmol/L, highest in 48 h``."""
    units = units or {}
    if value != value:
        return f"{feature.replace('__', ' ').replace('_', ' ')} not measured"
    if "__" not in feature:
        return f"{feature.replace('_', ' ')} {value:.3g}"
    var, stat = feature.split("__", 1)
    words = STAT_WORDS.get(stat, stat.replace("_", " ")).format(w=int(window))
    if stat in ("count",):
        return f"{var.replace('_', ' ')} {words}: {value:.0f}"
    if stat == "since_last":
        return f"{var.replace('_', ' ')} {words}: {value:.1f}"
    unit = units.get(var) or _default_unit(var)
    unit_text = f" {unit}" if unit and not unit.startswith("{") else ""
    if stat in ("slope", "slope_recent"):
        unit_text += "/h" if unit_text else " per h"
    return f"{var.replace('_', ' ')} {value:.3g}{unit_text}, {words}"


def _default_unit(var: str) -> str | None:
    if var in codes.VITAL_BY_NAME:
        return codes.VITAL_BY_NAME[var].unit
    lab = codes.LAB_BY_NAME.get(var)
    return lab.unit if lab else None


__all__ = ["SERIES", "STATS", "Observations", "describe", "observations", "record_features", "series_stats",
           "window_features"]
