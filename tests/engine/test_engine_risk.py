"""Batch risk scoring: store patients and feature rows, identical locally and on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hygeia.engine import DaskExecutor, FileSink, InProcessExecutor, read_rows, run_job
from hygeia.engine.jobs.risk import load_model, plan_risk_features, plan_risk_store
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store
from hygeia.risk.scoring import score_record

from .fixtures import populate_store

FEATURES = ["age", "heart_rate__mean", "respiratory_rate__max", "systolic_bp__min"]


def test_store_scoring_local_equals_dask_and_the_single_patient_path(
    sqlite_store: Store, model_dir: Path, tmp_path: Path, dask_cluster: Any
) -> None:
    ids = populate_store(sqlite_store, 7)
    job = plan_risk_store(sqlite_store, model_dir, partition_size=3)
    run_job(job, InProcessExecutor(), FileSink(tmp_path / "l"))
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), FileSink(tmp_path / "d"))
    rows = read_rows(tmp_path / "l")
    assert rows == read_rows(tmp_path / "d") and [r["patient_id"] for r in rows] == ids
    trained = load_model(str(model_dir.resolve()))
    one = score_record(trained, PatientRecord.load(sqlite_store, ids[2]))  # the per-patient path of hygeia.risk
    assert abs(one.evidence[0].value - rows[2]["probability"]) < 1e-4 and one.evidence[1].value == rows[2]["band"]


def test_feature_rows_local_equals_dask(model_dir: Path, tmp_path: Path, dask_cluster: Any) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(80, 20, (500, 4)), columns=FEATURES)
    ids = [f"f{i}" for i in range(500)]
    job = plan_risk_features(model_dir, ids, frame, partition_size=120)
    run_job(job, InProcessExecutor(), FileSink(tmp_path / "l"))
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), FileSink(tmp_path / "d"))
    rows = read_rows(tmp_path / "l")
    assert rows == read_rows(tmp_path / "d") and len(rows) == 500
    with pytest.raises(ValueError, match="3 ids for 500"):
        plan_risk_features(model_dir, ids[:3], frame)
