"""Small synthetic data sets for the risk tests (no reference data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.risk.data import Dataset


def make_dataset(n: int = 400, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 90, n)
    lactate = rng.lognormal(0.5, 0.5, n)
    hr = rng.normal(90, 15, n)
    noise = rng.normal(0, 1, n)
    logit = -3.0 + 0.04 * (age - 60) + 0.8 * (lactate - 1.8) + 0.03 * (hr - 90)
    y = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    lactate_obs = np.where(rng.uniform(0, 1, n) < 0.2, np.nan, lactate)
    X = pd.DataFrame({"age": age, "lactate__max": lactate_obs, "heart_rate__mean": hr, "noise": noise})
    groups = pd.DataFrame({"sex": rng.choice(["female", "male"], n),
                           "age_band": np.where(age < 65, "<65", "65+")})
    ids = pd.Series([f"p{i}" for i in range(n)], name="id")
    return Dataset(X, y, groups, ids, ids.copy(), "synthetic")


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return make_dataset()


SMALL_LGBM = {"n_estimators": 40, "learning_rate": 0.1, "n_jobs": 1, "min_child_samples": 10}
