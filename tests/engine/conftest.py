"""Shared engine-test fixtures: one Dask LocalCluster per session (2 single-threaded worker processes;
worker start-up is most of a Dask test's time; the fault test, which kills a worker, starts its own) and
a small trained risk model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    pytest.importorskip("distributed")
    from hygeia.engine.executors import local_cluster

    with local_cluster(2) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logistic icu-mortality model trained on 300 synthetic rows (features of ``hygeia.risk``'s task)."""
    from hygeia.risk.data import Dataset
    from hygeia.risk.training import save, train

    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "age": rng.uniform(20, 90, n),
            "heart_rate__mean": rng.normal(90, 20, n),
            "respiratory_rate__max": rng.normal(20, 5, n),
            "systolic_bp__min": rng.normal(110, 20, n),
        }
    )
    logit = -2 + 0.03 * (X["age"] - 55) + 0.04 * (X["heart_rate__mean"] - 90) - 0.02 * (X["systolic_bp__min"] - 110)
    y = np.asarray(rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit)), dtype=int)
    groups = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "age_band": np.where(X["age"] < 65, "<65", "65+")})
    ids = pd.Series([f"p{i}" for i in range(n)], name="id")
    trained = train(
        "icu-mortality", Dataset(X, y, groups, ids, ids.copy(), "synthetic"), "logistic", folds=3, n_boot=10
    )
    return save(trained, tmp_path_factory.mktemp("registry"))
