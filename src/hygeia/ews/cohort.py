"""Scores over a whole stay (retrospective): NEWS2, qSOFA, SIRS and MEWS from a :class:`PatientRecord`.

Built for datasets such as the PhysioNet/CinC Challenge 2012 ICU stays (converted by
``hygeia.records.physionet2012``) and used to report how well the maximum score over the first hours
separates outcomes. Pure: a record in, numbers out.

How a stay is scored (assumptions, also in docs/ews.md):

* a timeline of every time with a measurement in ``[start, start + hours]`` (``start`` = the first
  vital sign); at each time each parameter carries its latest value forward for at most ``carry``
  (default 4 h), after which it is missing;
* **SpO2**: the record's ``spo2`` vital, which includes arterial SaO2 (LOINC 2708-6) when no pulse
  oximetry is recorded (PhysioNet 2012 has SaO2 only). SaO2 is a blood-gas value and typically reads
  somewhat higher than SpO2, so NEWS2's SpO2 component is, if anything, under-scored;
* **air or oxygen**: FiO2 (LOINC 3150-0) above 21 % means supplemental oxygen, 21 % or less air; a
  supplemental-oxygen flow above 0 means oxygen; with neither it is missing (not assumed);
* **SpO2 scale 1** throughout (no data on hypercapnic respiratory failure);
* **consciousness** from the GCS total: NEWS2 — 15 is Alert, below 15 counts as C/V/P/U (all score
  3 in NEWS2); MEWS — AVPU from GCS by Kelly et al. (Emerg Med J 2004;21:28-31: A ~ 15, V ~ 13,
  P ~ 8, U ~ 6): >= 14 A, 10-13 V, 7-9 P, <= 6 U; qSOFA — altered mentation = GCS < 15 (Sepsis-3).
  Sedated, ventilated ICU patients get low GCS without a change in acute illness;
* missing parameters add nothing (the totals are lower bounds, as the live scores report them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hygeia.ews.mews import mews_arrays
from hygeia.ews.news2 import score_news2_arrays
from hygeia.ews.sepsis import qsofa_arrays, score_sirs
from hygeia.records import codes
from hygeia.records.fhirpath import effective_time
from hygeia.records.record import PatientRecord

ROOM_AIR_FIO2 = 21.0
COLUMNS = ("rr", "spo2", "on_oxygen", "sbp", "pulse", "gcs", "temp_c", "wbc", "paco2")
_VITAL_COLUMN = {"respiratory_rate": "rr", "spo2": "spo2", "systolic_bp": "sbp", "heart_rate": "pulse",
                 "gcs": "gcs", "temperature": "temp_c"}
_LAB_COLUMN = {"6690-2": "wbc", "2019-8": "paco2"}  # LOINC: leukocytes (10*3/uL = 10^9/L), PaCO2 (mm[Hg])


@dataclass(frozen=True)
class StayScores:
    """Maximum of each score over the window (None: never assessable) and the number of time points."""

    patient_id: str
    points: int
    news2_max: int | None
    news2_complete_points: int
    qsofa_max: int | None
    sirs_max: int | None
    mews_max: int | None


def _carried(times: npt.NDArray[np.int64], t: npt.NDArray[np.int64], v: npt.NDArray[np.float64],
             carry_s: int) -> npt.NDArray[np.float64]:
    """Value at each of ``times``: the latest (t, v) at or before it, if not older than ``carry_s``."""
    out = np.full(len(times), np.nan)
    if len(t) == 0:
        return out
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    idx = np.searchsorted(t, times, side="right") - 1
    ok = idx >= 0
    age = np.where(ok, times - t[np.clip(idx, 0, None)], 0)
    ok &= age <= carry_s
    out[ok] = v[idx[ok]]
    return out


def stay_timeline(record: PatientRecord, hours: float = 48, carry: timedelta = timedelta(hours=4)) -> pd.DataFrame:
    """One row per time with a measurement in the window; columns :data:`COLUMNS` (NaN = missing)."""
    vitals = record.vitals()
    vitals = vitals[vitals["time"].notna()]
    if vitals.empty:
        return pd.DataFrame(columns=["time", *COLUMNS])
    start = vitals["time"].min()
    end = start + pd.Timedelta(hours=hours)
    series: dict[str, tuple[list[int], list[float]]] = {c: ([], []) for c in COLUMNS}

    def add(col: str, when: pd.Timestamp, value: float) -> None:
        if start <= when <= end and value is not None and not pd.isna(value):
            series[col][0].append(int(when.timestamp()))
            series[col][1].append(float(value))

    for when, name, value, unit in zip(vitals["time"], vitals["name"], vitals["value"], vitals["unit"], strict=True):
        col = _VITAL_COLUMN.get(name)
        if col is not None:
            add(col, when, value)
        elif name == "supplemental_oxygen" and value is not None and not pd.isna(value):
            add("on_oxygen", when, float(value > ROOM_AIR_FIO2) if unit == "%" else float(value > 0))
    for obs in record.resources("Observation"):  # the two labs SIRS uses (cheaper than record.labs())
        coding = next((c for c in (obs.get("code") or {}).get("coding") or []
                       if c.get("system") == codes.LOINC and c.get("code") in _LAB_COLUMN), None)
        qty = obs.get("valueQuantity") or {}
        when = effective_time(obs)
        if coding is not None and when is not None and isinstance(qty.get("value"), int | float):
            add(_LAB_COLUMN[coding["code"]], pd.Timestamp(when), float(qty["value"]))
    times = np.array(sorted({t for ts, _ in series.values() for t in ts}), dtype=np.int64)
    carry_s = int(carry.total_seconds())
    frame = {c: _carried(times, np.array(ts, dtype=np.int64), np.array(vs, dtype=np.float64), carry_s)
             for c, (ts, vs) in series.items()}
    return pd.DataFrame({"time": pd.to_datetime(times, unit="s", utc=True), **frame})


def _gcs_to_acvpu(gcs: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    out = np.full(gcs.shape, -1, dtype=np.int8)
    out[gcs >= 15] = 0  # A
    out[gcs < 15] = 1  # C (any of C/V/P/U scores 3 in NEWS2)
    return out


def _gcs_to_avpu(gcs: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    # Kelly CA, Upex A, Bateman DN. Emerg Med J 2004;21:28-31 (AVPU vs GCS): A~15, V~13, P~8, U~6.
    out = np.full(gcs.shape, -1, dtype=np.int8)
    out[gcs >= 14] = 0
    out[(gcs >= 10) & (gcs < 14)] = 1
    out[(gcs >= 7) & (gcs < 10)] = 2
    out[gcs < 7] = 3
    return out


def _max(values: npt.NDArray[np.integer[Any]], assessable: npt.NDArray[np.bool_]) -> int | None:
    return int(values[assessable].max()) if assessable.any() else None


def stay_scores(record: PatientRecord, hours: float = 48, carry: timedelta = timedelta(hours=4)) -> StayScores:
    """NEWS2, qSOFA, SIRS and MEWS maxima over the first ``hours`` of a stay (see the module notes)."""
    tl = stay_timeline(record, hours, carry)
    if tl.empty:
        return StayScores(record.id, 0, None, 0, None, None, None)
    col = {c: tl[c].to_numpy(dtype=np.float64) for c in COLUMNS}
    news = score_news2_arrays(rr=col["rr"], spo2=col["spo2"], on_oxygen=col["on_oxygen"], sbp=col["sbp"],
                              pulse=col["pulse"], acvpu=_gcs_to_acvpu(col["gcs"]), temp_c=col["temp_c"], scale=1)
    news_any = np.zeros(len(tl), dtype=bool)
    for s in news.parameter_scores.values():
        news_any |= s >= 0
    mentation = np.where(np.isnan(col["gcs"]), np.nan, (col["gcs"] < 15).astype(np.float64))
    q, q_missing = qsofa_arrays(col["rr"], col["sbp"], mentation)
    mews, _ = mews_arrays(col["sbp"], col["pulse"], col["rr"], col["temp_c"], _gcs_to_avpu(col["gcs"]))
    mews_any = ~(np.isnan(col["sbp"]) & np.isnan(col["pulse"]) & np.isnan(col["rr"]) & np.isnan(col["temp_c"])
                 & np.isnan(col["gcs"]))

    def opt(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    sirs = np.array([score_sirs(temp_c=opt(t), heart_rate=opt(h), rr=opt(r), paco2_mmhg=opt(p),
                                wbc_10e9_l=opt(w)).score
                     for t, h, r, p, w in zip(col["temp_c"], col["pulse"], col["rr"], col["paco2"], col["wbc"],
                                              strict=True)])
    sirs_any = ~(np.isnan(col["temp_c"]) & np.isnan(col["pulse"]) & np.isnan(col["rr"]) & np.isnan(col["paco2"])
                 & np.isnan(col["wbc"]))
    return StayScores(
        patient_id=record.id,
        points=len(tl),
        news2_max=_max(news.total, news_any),
        news2_complete_points=int(news.complete.sum()),
        qsofa_max=_max(q, q_missing < 3),
        sirs_max=_max(sirs, sirs_any),
        mews_max=_max(mews, mews_any),
    )


def auroc(scores: npt.ArrayLike, outcome: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); outcome 1 = event."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcome).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("AUROC needs both outcomes present")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


__all__ = ["StayScores", "auroc", "stay_scores", "stay_timeline"]
