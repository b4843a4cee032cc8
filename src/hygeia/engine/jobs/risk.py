"""Batch risk scoring: a trained ``hygeia.risk`` model over the patients of the store, or over feature rows.

Store path: per partition of patients, features from each ``PatientRecord`` with the task's own feature
code (``task.record_features``: the code that built the training set), then one vectorised
``TrainedModel.predict`` for the partition and the band of ``hygeia.risk.scoring.band``. Feature path
(``plan_risk_features``): precomputed feature rows (a table), scored the same way. Rows: ``patient_id,
probability, band, model``. The model folder is read (and its SHA-256 checked) once per worker process;
on a cluster it must be at the same path on every worker. Decision support for a clinician: see the
model card of the version used.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hygeia.engine.core import Job, Partition, Row, chunks, fingerprint
from hygeia.engine.jobs.store import open_store, patient_partitions
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store

if TYPE_CHECKING:
    from hygeia.risk.training import TrainedModel

JOB_VERSION = "risk-score/1"


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [("patient_id", pa.string()), ("probability", pa.float64()), ("band", pa.string()), ("model", pa.string())]
    )


@lru_cache(maxsize=2)
def load_model(model_dir: str) -> TrainedModel:
    """The model of ``model_dir`` (a version folder, or a registry with LATEST), once per process."""
    from hygeia.risk.training import load

    return load(Path(model_dir))


def _score(trained: TrainedModel, ids: list[str], X: pd.DataFrame) -> list[Row]:
    from hygeia.risk.scoring import band

    if not ids:
        return []
    p = trained.predict(X)
    prevalence = float(trained.metadata.get("prevalence", 0.0))
    return [
        {
            "patient_id": pid,
            "probability": float(v),
            "band": band(float(v), prevalence, trained.task.high_risk),
            "model": trained.version,
        }
        for pid, v in zip(ids, p.tolist(), strict=True)
    ]


def score_store_partition(payload: tuple[str, list[str], str]) -> list[Row]:
    url, ids, model_dir = payload
    trained = load_model(model_dir)
    store = open_store(url)
    rows = [trained.task.record_features(PatientRecord.load(store, pid)) for pid in ids]
    X = pd.DataFrame(
        [{n: r.get(n, np.nan) for n in trained.feature_names} for r in rows], columns=trained.feature_names, dtype=float
    )
    return _score(trained, ids, X)


def score_features_partition(payload: tuple[str, list[str], np.ndarray]) -> list[Row]:
    model_dir, ids, values = payload
    trained = load_model(model_dir)
    return _score(trained, ids, pd.DataFrame(values, columns=trained.feature_names, dtype=float))


def findings_partition(payload: tuple[str, list[str], str]) -> list[Row]:
    """``hygeia risk score``'s Finding (probability, band, drivers) per patient: ``{"patient_id", "finding"}``."""
    from hygeia.risk.scoring import score_record

    url, ids, model_dir = payload
    trained = load_model(model_dir)
    store = open_store(url)
    return [{"patient_id": pid, "finding": score_record(trained, PatientRecord.load(store, pid))} for pid in ids]


def _model_id(model_dir: Path | str) -> tuple[str, str]:
    trained = load_model(str(Path(model_dir).resolve()))
    return trained.version, str(trained.metadata.get("model_sha256"))


def plan_risk_store(
    store: Store, model_dir: Path | str, *, partition_size: int = 200, patient_ids: list[str] | None = None
) -> Job:
    """Score the store's patients with the model in ``model_dir`` (raises RegistryError/ValueError if unusable)."""
    trained = load_model(str(Path(model_dir).resolve()))
    if not trained.task.from_record:
        raise ValueError(
            f"task {trained.task.name} builds its features from a table, not from patient records; "
            "score feature rows instead (plan_risk_features)"
        )
    params = (JOB_VERSION, _model_id(model_dir))
    return Job(
        "risk-score",
        score_store_partition,
        patient_partitions(store, partition_size, params, patient_ids, str(Path(model_dir).resolve())),
        _schema(),
    )


def plan_risk_findings(
    store: Store, model_dir: Path | str, *, partition_size: int = 200, patient_ids: list[str] | None = None
) -> Job:
    """Findings for the store's patients (or ``patient_ids``, in that order): rows hold Finding objects, for
    a MemorySink (``hygeia risk score --engine …``)."""
    folder = str(Path(model_dir).resolve())
    trained = load_model(folder)
    if not trained.task.from_record:
        raise ValueError(f"task {trained.task.name} builds its features from a table, not from patient records")
    ids = list(patient_ids) if patient_ids is not None else store.patient_ids()
    params = ("risk-findings/1", _model_id(model_dir))
    parts = tuple(
        Partition(f"{k:05d}", (store.url, group, folder), len(group), fingerprint(params, group))
        for k, group in enumerate(chunks(ids, partition_size))
    )
    return Job("risk-score", findings_partition, parts)


def plan_risk_features(
    model_dir: Path | str, ids: list[str], features: pd.DataFrame, *, partition_size: int = 5000
) -> Job:
    """Score precomputed feature rows (one per id; columns by feature name, missing ones NaN)."""
    trained = load_model(str(Path(model_dir).resolve()))
    if len(ids) != len(features):
        raise ValueError(f"{len(ids)} ids for {len(features)} feature rows")
    X = features.reindex(columns=trained.feature_names).to_numpy(dtype=float)
    params = (JOB_VERSION, _model_id(model_dir))
    folder = str(Path(model_dir).resolve())
    parts = []
    for k, start in enumerate(range(0, len(ids), partition_size)):
        group, block = ids[start : start + partition_size], X[start : start + partition_size]
        parts.append(
            Partition(f"{k:05d}", (folder, group, block), len(group), fingerprint(params, group, block.tobytes()))
        )
    return Job("risk-score", score_features_partition, tuple(parts), _schema())


__all__ = [
    "JOB_VERSION",
    "findings_partition",
    "load_model",
    "plan_risk_features",
    "plan_risk_findings",
    "plan_risk_store",
    "score_features_partition",
    "score_store_partition",
]
