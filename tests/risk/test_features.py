from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.records.physionet2012 import stay_bundle
from hygeia.records.record import PatientRecord
from hygeia.risk.features import describe, record_features, series_stats

STAY = """Time,Parameter,Value
00:00,RecordID,999001
00:00,Age,77
00:00,Gender,1
00:00,Height,175
00:00,ICUType,3
00:00,Weight,70
00:30,HR,100
00:30,NISysABP,100
00:30,MechVent,1
01:00,Lactate,2.0
01:00,PaO2,80
01:00,FiO2,0.5
10:00,HR,120
10:00,NISysABP,80
20:00,Lactate,4.1
30:00,HR,140
30:00,SysABP,70
40:00,Urine,100
47:00,GCS,7
"""


@pytest.fixture()
def record(tmp_path: Path) -> PatientRecord:
    path = tmp_path / "999001.txt"
    path.write_text(STAY)
    return PatientRecord.from_resources([stay_bundle(path)])


def test_series_stats_known_values() -> None:
    s = series_stats(np.array([0.0, 10.0, 20.0]), np.array([1.0, 2.0, 3.0]), 48.0)
    assert s["count"] == 3 and s["first"] == 1 and s["last"] == 3 and s["min"] == 1 and s["max"] == 3
    assert s["slope"] == pytest.approx(0.1)
    assert s["since_last"] == pytest.approx(28.0)
    assert math.isnan(s["recent_mean"])  # nothing in the last 12 h
    empty = series_stats(np.array([]), np.array([]), 48.0)
    assert empty["count"] == 0 and math.isnan(empty["last"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 48), st.floats(-1e3, 1e3)), min_size=0, max_size=30))
def test_series_stats_properties(points: list[tuple[float, float]]) -> None:
    points.sort()
    t = np.array([p[0] for p in points])
    v = np.array([p[1] for p in points])
    s = series_stats(t, v, 48.0)
    assert s["count"] == len(points)
    if points:
        assert s["min"] <= s["mean"] + 1e-9 and s["mean"] <= s["max"] + 1e-9
        assert 0 <= s["since_last"] <= 48


def test_record_features_from_a_stay(record: PatientRecord) -> None:
    f = record_features(record)
    assert f["age"] == 77 and f["sex_male"] == 1.0
    assert f["lactate__max"] == pytest.approx(4.1) and f["lactate__count"] == 2
    assert f["heart_rate__max"] == 140 and f["heart_rate__slope"] > 0
    assert f["pf_ratio__min"] == pytest.approx(160.0)  # 80 / 0.50
    assert f["shock_index__max"] == pytest.approx(2.0)  # 140 / 70
    assert f["mech_vent"] == 1.0 and f["invasive_bp__count"] == 1
    assert f["icu_type__3"] == 1.0 and f["icu_type__1"] == 0.0
    assert f["saps_first24__respiratory_rate"] == 3.0  # ventilated: 3 points (Le Gall 1984)
    assert f["sofa_last24__cns"] == 3.0  # GCS 7
    assert math.isnan(f["albumin__last"]) and f["albumin__count"] == 0
    assert f["urine_output__sum"] == 100


def test_describe_plain_words() -> None:
    assert describe("lactate__max", 4.1, {"lactate": "mmol/L"}) == "lactate 4.1 mmol/L, highest in 48 h"
    assert describe("age", 77.0) == "age 77"
    assert "not measured" in describe("albumin__last", float("nan"))
    assert describe("heart_rate__count", 12.0).startswith("heart rate measurements in 48 h: 12")


def test_curated_block_hand_computed(record: PatientRecord) -> None:
    f = record_features(record)
    # SAPS II (Le Gall 1993): HR 140 -> 4, SBP 70 -> 5, GCS 7 -> 13, age 77 -> 16, urine 0.05 L/day -> 11,
    # ventilated with PaO2/FiO2 160 -> 9; unmeasured components count 0 in the total.
    assert f["saps2_48h__heart_rate"] == 4 and f["saps2_48h__systolic_bp"] == 5 and f["saps2_48h__gcs"] == 13
    assert f["saps2_48h__age"] == 16 and f["saps2_48h__urine"] == 11 and f["saps2_48h__pf"] == 9
    assert math.isnan(f["saps2_48h__bilirubin"])
    assert f["saps2_48h__total"] == 58
    # APACHE II (Knaus 1985): 15 - GCS 7 = 8, age 77 -> 6, HR 140 -> 3, FiO2 50 %: A-aDO2 = 0.5*713 - 40/0.8 - 80
    # = 226.5 -> 2.
    assert f["apache2_48h__gcs"] == 8 and f["apache2_48h__age"] == 6 and f["apache2_48h__oxygenation"] == 2
    assert f["apache2_48h__total"] == 19
    assert f["urine_output__ml_kg_h"] == pytest.approx(100 / 70 / 48)
    # HR 100 @0.5 h, 120 @10 h, 140 @30 h, each held until the next (the last until 48 h).
    assert f["heart_rate__twmean"] == pytest.approx((100 * 9.5 + 120 * 20 + 140 * 18) / 47.5)
    assert math.isnan(f["heart_rate__late_minus_early"])  # nothing in the last 12 h
    assert f["lactate__clearance"] == pytest.approx((2.0 - 4.1) / 2.0)
    assert describe("heart_rate__twmean", 123.6).startswith("heart rate 124 /min, time-weighted mean over 48 h")
