from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.risk.data import DataError, holdout_mask, physionet2012_features

from .test_features import STAY


def test_holdout_is_patient_level_deterministic_and_about_the_fraction() -> None:
    ids = pd.Series([f"patient-{i % 5000}" for i in range(12000)])  # several rows per patient
    held = holdout_mask(ids)
    assert 0.18 < held.mean() < 0.22
    assert not set(ids[held]) & set(ids[~held])
    assert np.array_equal(held, holdout_mask(ids))
    shuffled = ids.sample(frac=1.0, random_state=1)
    assert np.array_equal(holdout_mask(shuffled), held[shuffled.index.to_numpy()])  # row order does not matter
    assert not np.array_equal(held, holdout_mask(ids, salt="other"))
    with pytest.raises(ValueError, match="fraction"):
        holdout_mask(ids, fraction=1.5)


def test_subset_comes_from_the_cached_whole_folder(tmp_path: Path) -> None:
    folder, cache = tmp_path / "set-a", tmp_path / "cache"
    folder.mkdir()
    for rid in ("999001", "999002", "999003"):
        (folder / f"{rid}.txt").write_text(STAY.replace("999001", rid))
    whole = physionet2012_features(folder, cache)
    assert list(whole.index) == ["999001", "999002", "999003"] and len(list(cache.iterdir())) == 1
    subset = physionet2012_features(folder, cache, limit=2)
    pd.testing.assert_frame_equal(subset, whole.iloc[:2])
    assert len(list(cache.iterdir())) == 1  # nothing converted or cached again
    with pytest.raises(DataError, match=r"no \*\.txt stay files"):
        physionet2012_features(tmp_path / "cache", None)
    with pytest.raises(DataError, match="not a directory"):
        physionet2012_features(tmp_path / "missing", None)
