"""HAI surveillance (48 h rule, ward at specimen time, Poisson scan) and outcome control charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.operations.quality import (
    QualityInputError,
    admission_outcomes,
    control_chart,
    detect_clusters,
    hospital_onset_cultures,
    surveillance_table,
)


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    admissions = pd.DataFrame({
        "subject_id": [1, 2, 1], "hadm_id": [10, 20, 11],
        "admittime": ["2100-01-01 08:00", "2100-01-02 08:00", "2100-01-20 08:00"],
        "dischtime": ["2100-01-10 08:00", "2100-01-05 08:00", "2100-01-22 08:00"],
        "hospital_expire_flag": [0, 1, 0]})
    transfers = pd.DataFrame({
        "hadm_id": [10, 10, 20, 11], "careunit": ["ED", "Ward A", "ICU", "Ward A"],
        "intime": ["2100-01-01 08:00", "2100-01-01 12:00", "2100-01-02 08:00", "2100-01-20 08:00"],
        "outtime": ["2100-01-01 12:00", "2100-01-10 08:00", "2100-01-05 08:00", "2100-01-22 08:00"]})
    micro = pd.DataFrame({
        "subject_id": [1, 1, 1, 2, 2], "hadm_id": [10, 10, 10, 20, 20],
        "org_name": ["E. COLI", "E. COLI", None, "S. AUREUS", "CANCELLED"],
        "charttime": ["2100-01-04 09:00", "2100-01-06 09:00", "2100-01-05 09:00", "2100-01-03 07:00",
                      "2100-01-04 10:00"],
        "chartdate": ["2100-01-04", "2100-01-06", "2100-01-05", "2100-01-03", "2100-01-04"]})
    return micro, admissions, transfers


def test_hospital_onset_rule_and_ward_at_specimen_time() -> None:
    micro, admissions, transfers = _tables()
    ev = hospital_onset_cultures(micro, admissions, transfers)
    # E. coli at 73 h counts once (repeat isolate dropped); S. aureus at 23 h is community-onset;
    # negative and cancelled cultures are not events
    assert ev["organism"].tolist() == ["E. COLI"]
    assert ev["ward"].tolist() == ["Ward A"]
    assert ev["hours_after_admission"].iloc[0] == pytest.approx(73.0)
    assert surveillance_table(ev)["cases"].tolist() == [1]


def test_poisson_scan_flags_a_burst_only() -> None:
    rng = np.random.default_rng(3)
    base = pd.Timestamp("2100-01-01")
    background = [base + pd.Timedelta(days=float(d)) for d in rng.uniform(0, 720, 12)]
    burst = [base + pd.Timedelta(days=400 + i) for i in range(6)]
    events = pd.DataFrame({"organism": "KLEBSIELLA", "ward": "ICU", "time": background + burst})
    clusters = detect_clusters(events, window_days=28, alpha=0.01)
    assert len(clusters) == 1
    assert clusters[0].cases >= 6 and clusters[0].start <= burst[0] < clusters[0].end
    calm = pd.DataFrame({"organism": "KLEBSIELLA", "ward": "ICU", "time": background})
    assert detect_clusters(calm) == []


def test_outcomes_and_control_limits() -> None:
    _, admissions, transfers = _tables()
    out = admission_outcomes(admissions, transfers).set_index("hadm_id")
    assert out.loc[10, "readmit30"] == 1 and out.loc[11, "readmit30"] == 0  # back 10 days later
    assert out.loc[20, "died"] == 1 and out.loc[20, "readmit30"] == 0
    assert out.loc[10, "los_days"] == pytest.approx(9.0) and out.loc[20, "ward"] == "ICU"
    chart = control_chart(out.reset_index())
    assert set(chart["ward"]) == {"Ward A", "ICU"}
    row = chart[chart["ward"] == "Ward A"].iloc[0]
    assert row["readmit30_lcl"] <= row["readmit30_rate"] <= row["readmit30_ucl"]


def test_control_chart_flags_a_bad_month() -> None:
    months = pd.date_range("2100-01-01", periods=12, freq="MS")
    rows = [{"ward": "W", "month": m, "los_days": 5.0 + (i % 3) * 0.1, "died": 0, "readmit30": int(i % 10 == 0)}
            for m in months for i in range(30)]
    rows += [{"ward": "W", "month": months[5], "los_days": 5.0, "died": 1, "readmit30": 0} for _ in range(15)]
    chart = control_chart(pd.DataFrame(rows))
    flagged = chart[chart["out_of_control"].str.contains("mortality")]
    assert flagged["month"].tolist() == [months[5]]


def test_missing_columns_are_named() -> None:
    micro, admissions, transfers = _tables()
    with pytest.raises(QualityInputError, match="microbiologyevents: missing column"):
        hospital_onset_cultures(micro.drop(columns=["org_name"]), admissions, transfers)
    bad = admissions.copy()
    bad.loc[1, "dischtime"] = "2099-01-01"
    with pytest.raises(QualityInputError, match="row 1"):
        admission_outcomes(bad, transfers)
