from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.risk.data import DataError, diabetes130_dataset, read_outcomes
from hygeia.risk.history import REQUIRED, icd9_value


def _table() -> pd.DataFrame:
    rows = []
    for enc, pat, readm in ((10, 1, "<30"), (20, 1, ">30"), (30, 1, "NO"), (15, 2, "NO")):
        row = {c: 1 for c in REQUIRED}
        row.update({"encounter_id": enc, "patient_nbr": pat, "readmitted": readm, "race": "Caucasian",
                    "gender": "Female", "age": "[70-80)", "diag_1": "428", "diag_2": "250.01", "diag_3": "V45",
                    "time_in_hospital": 3, "insulin": "Up", "payer_code": "MC"})
        rows.append(row)
    return pd.DataFrame(rows)


def test_prior_history_uses_only_earlier_encounters(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    _table().to_csv(path, index=False)
    d = diabetes130_dataset(path)
    X = d.X
    assert list(X["prior_encounters"]) == [0, 1, 2, 0]
    assert list(X["prior_readmit_lt30"]) == [0, 1, 1, 0]
    assert list(X["prior_readmit_gt30"]) == [0, 0, 1, 0]
    assert list(d.y) == [1, 0, 0, 0]
    assert X["diag_1__circulatory"].iloc[0] == 1 and X["diag_2__diabetes"].iloc[0] == 1
    assert set(d.groups.columns) == {"race", "sex", "age_band", "payer"}
    assert list(d.split_groups) == ["1", "1", "1", "2"]
    assert X["diag_1__icd9"].iloc[0] == 428 and X["comorbidity__heart_failure"].iloc[0] == 1
    assert X["comorbidity__count"].iloc[0] == 1  # 428 heart failure; 250.01 and V45 are in no group
    assert np.isnan(X["previous_discharge_disposition"].iloc[0]) and X["previous_discharge_disposition"].iloc[1] == 1
    assert X["previous_diag_1__icd9"].iloc[2] == 428 and np.isnan(X["previous_diag_1__icd9"].iloc[3])


def test_icd9_value() -> None:
    assert icd9_value("428.0") == 428.0 and icd9_value("V45") == 1045.0 and icd9_value("E909") == 2909.0
    for bad in (None, "", "?", "Vxx", float("nan")):
        assert np.isnan(icd9_value(bad))


def test_malformed_tables_name_line_and_field(tmp_path: Path) -> None:
    bad = _table()
    bad.loc[2, "readmitted"] = "maybe"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"line 4, field readmitted"):
        diabetes130_dataset(path)
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="missing column"):
        diabetes130_dataset(tmp_path / "cols.csv")
    nonnum = _table()
    nonnum.loc[1, "time_in_hospital"] = "x"
    nonnum.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"line 3, field time_in_hospital"):
        diabetes130_dataset(path)
    with pytest.raises(DataError, match="cannot read"):
        diabetes130_dataset(tmp_path / "missing.csv")


def test_outcomes_file_errors(tmp_path: Path) -> None:
    p = tmp_path / "o.txt"
    p.write_text("RecordID,In-hospital_death\n1,0\n2,7\n")
    with pytest.raises(DataError, match="line 3, field In-hospital_death"):
        read_outcomes(p)
    p.write_text("RecordID,SAPS-I\n1,0\n")
    with pytest.raises(DataError, match="missing column"):
        read_outcomes(p)
