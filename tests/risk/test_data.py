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


def _eicu(folder: Path, status: tuple[str | None, ...] = ("Alive", "Expired", None)) -> None:
    from hygeia.risk.data import EICU_APS, EICU_PRED

    folder.mkdir(exist_ok=True)
    n = len(status)
    pd.DataFrame({"patientunitstayid": range(1, n + 1), "uniquepid": ["a", "a", "b"][:n], "gender": "Male",
                  "age": ["> 89", "60", "70"][:n], "ethnicity": "Caucasian", "unittype": "MICU",
                  "admissionheight": 170, "admissionweight": 80,
                  "hospitaldischargestatus": list(status)}).to_csv(folder / "patient.csv.gz", index=False)
    aps = pd.DataFrame({"patientunitstayid": range(1, n + 1), **{c: [-1, 5, 5][:n] for c in EICU_APS}})
    aps.to_csv(folder / "apacheApsVar.csv.gz", index=False)
    pd.DataFrame({"patientunitstayid": range(1, n + 1), **{c: 0 for c in EICU_PRED}}).to_csv(
        folder / "apachePredVar.csv.gz", index=False)
    pd.DataFrame({"patientunitstayid": [1, 1, 2], "apacheversion": ["IV", "IVa", "IVa"],
                  "predictedhospitalmortality": [0.5, 0.1, -1]}).to_csv(folder / "apachePatientResult.csv.gz",
                                                                        index=False)


def test_eicu_dataset_and_errors(tmp_path: Path) -> None:
    from hygeia.risk.data import eicu_dataset

    _eicu(tmp_path / "ok")
    data, apache = eicu_dataset(tmp_path / "ok")
    assert data.n == 2 and list(data.y) == [0, 1]  # the stay without a discharge status is left out
    assert data.X["age"].iloc[0] == 90 and np.isnan(data.X["heartrate"].iloc[0])  # -1 = not recorded
    assert data.X["gcs_total"].iloc[1] == 15 and data.X["unit__MICU"].iloc[0] == 1
    assert apache[0] == 0.1 and np.isnan(apache[1])  # IVa only; -1 = no prediction
    assert list(data.split_groups) == ["a", "a"]
    _eicu(tmp_path / "bad", ("Alive", "dead", "Alive"))
    with pytest.raises(DataError, match=r"patient.csv.gz, line 3, field hospitaldischargestatus"):
        eicu_dataset(tmp_path / "bad")
    pd.DataFrame({"patientunitstayid": [1], "hospitaldischargestatus": ["Alive"]}).to_csv(
        tmp_path / "bad" / "patient.csv.gz", index=False)
    with pytest.raises(DataError, match="missing column"):
        eicu_dataset(tmp_path / "bad")
    (tmp_path / "ok" / "patient.csv.gz").write_bytes(b"\x1f\x8bnot gzip")
    with pytest.raises(DataError, match="cannot read"):
        eicu_dataset(tmp_path / "ok")
    with pytest.raises(DataError, match="not the eICU demo folder"):
        eicu_dataset(tmp_path / "nowhere")
