"""Early-warning backfill: NEWS2 (RCP 2017) at every time a vital sign was recorded, for every patient.

For each patient the stored vitals (``PatientRecord.vitals()``) become a timeline: every time with a
measurement; at each time each parameter carries its latest value forward for at most ``carry_hours``
(default 4 h; older is missing, not normal). Air/oxygen: supplemental oxygen FiO2 > 21 % or a flow
> 0 means oxygen. Consciousness: the ACVPU letter where charted, else GCS (15 = A, < 15 = C, which
scores 3 like V/P/U). SpO2 scale 1 throughout. Scored with ``hygeia.ews.score_news2_arrays``;
totals with missing parameters are lower bounds (``complete`` false). With ``resources=True`` each
row also carries a FHIR NEWS2 Observation (``hygeia.ews.news2_observation``, scalar path) for the
store. Decision support for a clinician: RCP, National Early Warning Score (NEWS) 2, 2017.
"""

from __future__ import annotations

import hashlib
import pickle
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd

from hygeia.engine.core import Job, Partition, Row, chunks, fingerprint
from hygeia.engine.jobs.store import open_store, patient_partitions
from hygeia.ews import news2_observation, score_news2, score_news2_arrays
from hygeia.ews.batch import score_rows
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store

JOB_VERSION = "ews-backfill/1"
ROOM_AIR_FIO2 = 21.0
_COLUMN = {
    "respiratory_rate": "rr",
    "spo2": "spo2",
    "systolic_bp": "sbp",
    "heart_rate": "pulse",
    "temperature": "temp_c",
    "gcs": "gcs",
}
_ACVPU = "ACVPU"
PARAMS = ("rr", "spo2", "on_oxygen", "sbp", "pulse", "acvpu", "temp_c")


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("patient_id", pa.string()),
            ("time", pa.string()),
            ("news2_total", pa.int64()),
            ("complete", pa.bool_()),
            ("any_red_3", pa.bool_()),
            ("risk", pa.string()),
            ("missing", pa.string()),
            ("resource", pa.string()),
        ]
    )


def _carried(
    times: npt.NDArray[np.int64], t: npt.NDArray[np.int64], v: npt.NDArray[np.float64], carry_s: int
) -> npt.NDArray[np.float64]:
    out = np.full(len(times), np.nan)
    if len(t) == 0:
        return out
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    idx = np.searchsorted(t, times, side="right") - 1
    ok = idx >= 0
    ok &= np.where(ok, times - t[np.clip(idx, 0, None)], 0) <= carry_s
    out[ok] = v[idx[ok]]
    return out


def timeline(
    vitals: pd.DataFrame, carry_hours: float = 4.0
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    """Epoch seconds of every measurement time, and each NEWS2 parameter carried forward to them."""
    vitals = vitals[vitals["time"].notna()]
    series: dict[str, tuple[list[int], list[float]]] = {c: ([], []) for c in (*PARAMS, "gcs")}
    for when, name, value, text, unit in zip(
        vitals["time"], vitals["name"], vitals["value"], vitals["value_str"], vitals["unit"], strict=True
    ):
        t = int(pd.Timestamp(when).timestamp())
        col = _COLUMN.get(name)
        if col is not None and not pd.isna(value):
            series[col][0].append(t)
            series[col][1].append(float(value))
        elif name == "supplemental_oxygen" and not pd.isna(value):
            series["on_oxygen"][0].append(t)
            series["on_oxygen"][1].append(float(value > ROOM_AIR_FIO2) if unit == "%" else float(value > 0))
        elif name == "consciousness" and isinstance(text, str) and text.strip().upper()[:1] in _ACVPU:
            series["acvpu"][0].append(t)
            series["acvpu"][1].append(float(_ACVPU.index(text.strip().upper()[:1])))
    times = np.array(sorted({t for ts, _ in series.values() for t in ts}), dtype=np.int64)
    carry_s = int(carry_hours * 3600)
    cols = {
        c: _carried(times, np.array(ts, dtype=np.int64), np.array(vs, dtype=np.float64), carry_s)
        for c, (ts, vs) in series.items()
    }
    gcs = cols.pop("gcs")
    from_gcs = np.where(np.isnan(gcs), np.nan, np.where(gcs >= 15, 0.0, 1.0))  # 15 = A; < 15 scores as C
    cols["acvpu"] = np.where(np.isnan(cols["acvpu"]), from_gcs, cols["acvpu"])
    return times, cols


def _observation_id(patient_id: str, t: int) -> str:
    rid = f"news2-bf-{patient_id}-{t}"
    return rid if len(rid) <= 64 else "news2-bf-" + hashlib.sha256(rid.encode()).hexdigest()[:40]


def _resource(patient_id: str, when: pd.Timestamp, t: int, values: dict[str, float]) -> str | None:
    readings: dict[str, Any] = {}
    for name, v in values.items():
        if not np.isnan(v):
            value: Any = _ACVPU[int(v)] if name == "acvpu" else (bool(v) if name == "on_oxygen" else v)
            readings[name] = (value, when.to_pydatetime())
    try:
        result = score_news2(readings, now=when.to_pydatetime(), max_age=timedelta(days=3650))
    except ValueError:
        return None  # an implausible value (the row still has the vectorised score; nothing is stored)
    return orjson.dumps(news2_observation(patient_id, result, _observation_id(patient_id, t))).decode()


def backfill_partition(payload: tuple[str, list[str], tuple[float, bool]]) -> list[Row]:
    """NEWS2 rows for a partition of patients (reads the store; writes nothing)."""
    url, ids, (carry_hours, resources) = payload
    store = open_store(url)
    rows: list[Row] = []
    for pid in ids:
        times, cols = timeline(PatientRecord.load(store, pid).vitals(), carry_hours)
        if len(times) == 0:
            continue
        args: dict[str, Any] = {c: cols[c] for c in PARAMS}
        args["acvpu"] = np.where(np.isnan(cols["acvpu"]), -1, cols["acvpu"]).astype(np.int8)  # -1 = missing
        batch = score_news2_arrays(**args, scale=1)
        risk = batch.risk()
        for i, t in enumerate(times.tolist()):
            when = pd.Timestamp(t, unit="s", tz="UTC")
            values = {c: float(cols[c][i]) for c in PARAMS}
            rows.append(
                {
                    "patient_id": pid,
                    "time": when.isoformat(),
                    "news2_total": int(batch.total[i]),
                    "complete": bool(batch.complete[i]),
                    "any_red_3": bool(batch.any_red_3[i]),
                    "risk": str(risk[i]),
                    "missing": ",".join(c for c in PARAMS if np.isnan(values[c])),
                    "resource": _resource(pid, when, t, values) if resources else None,
                }
            )
    return rows


def score_rows_partition(payload: tuple[list[dict[str | None, object]], int]) -> list[Row]:
    """``hygeia ews score``'s rows: CSV rows (as ``csv.DictReader`` yields them) scored by
    ``hygeia.ews.batch.score_rows``, output columns added."""
    rows, n_fields = payload
    return score_rows(rows, n_fields)


def plan_csv_rows(rows: list[dict[str | None, object]], n_fields: int, *, partition_size: int = 20_000) -> Job:
    """NEWS2 for CSV rows in partitions of ``partition_size`` rows (output in input order via a MemorySink)."""
    parts = tuple(
        Partition(
            f"{k:06d}",
            (group, n_fields),
            len(group),
            fingerprint("ews-csv/1", n_fields, pickle.dumps(group, protocol=pickle.HIGHEST_PROTOCOL)),
        )
        for k, group in enumerate(chunks(rows, partition_size))
    )
    return Job("ews-score", score_rows_partition, parts)


def plan_ews_backfill(
    store: Store,
    *,
    partition_size: int = 200,
    carry_hours: float = 4.0,
    resources: bool = False,
    patient_ids: list[str] | None = None,
) -> Job:
    params = (JOB_VERSION, carry_hours, resources)
    return Job(
        "ews-backfill",
        backfill_partition,
        patient_partitions(store, partition_size, params, patient_ids, (carry_hours, resources)),
        _schema(),
    )


__all__ = [
    "JOB_VERSION",
    "backfill_partition",
    "plan_csv_rows",
    "plan_ews_backfill",
    "score_rows_partition",
    "timeline",
]
