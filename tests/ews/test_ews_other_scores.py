"""qSOFA, SIRS and MEWS."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.ews import (
    SUBBE_2001,
    MewsConfig,
    QsofaConfig,
    mews_arrays,
    qsofa_arrays,
    score_mews,
    score_qsofa,
    score_sirs,
)


def test_qsofa_thresholds_are_inclusive() -> None:
    assert score_qsofa(rr=21, sbp=101, altered_mentation=False).score == 0
    assert score_qsofa(rr=22, sbp=101, altered_mentation=False).score == 1
    assert score_qsofa(rr=21, sbp=100, altered_mentation=False).score == 1
    r = score_qsofa(rr=22, sbp=100, altered_mentation=True)
    assert r.score == 3 and r.positive and r.complete


def test_qsofa_gcs_and_site_threshold() -> None:
    assert score_qsofa(rr=10, sbp=120, gcs=14).met["altered_mentation"] is True
    seymour = QsofaConfig(gcs_below=14)  # GCS <= 13
    assert score_qsofa(rr=10, sbp=120, gcs=14, config=seymour).met["altered_mentation"] is False


def test_qsofa_missing_reported() -> None:
    r = score_qsofa(rr=25, sbp=None, gcs=math.nan)
    assert r.score == 1 and not r.positive and r.missing == ("altered_mentation", "systolic_bp")


def test_qsofa_arrays_match_scalar() -> None:
    rr = [16, 22, np.nan, 30]
    sbp = [120, 100, 90, np.nan]
    mental = [0, 1, np.nan, 1]
    score, missing = qsofa_arrays(rr, sbp, mental)
    assert list(score) == [0, 3, 1, 2]
    assert list(missing) == [0, 0, 2, 1]


def test_sirs_strict_inequalities() -> None:
    assert score_sirs(temp_c=38.0, heart_rate=90, rr=20, paco2_mmhg=32, wbc_10e9_l=12).score == 0
    r = score_sirs(temp_c=38.1, heart_rate=91, rr=21, wbc_10e9_l=3.9)
    assert r.score == 4 and r.positive
    assert score_sirs(temp_c=35.9).met == {"temperature": True}
    assert score_sirs(rr=12, paco2_mmhg=30).met["respiratory"] is True
    assert score_sirs(wbc_10e9_l=8, bands_pct=11).met["white_cells"] is True
    assert score_sirs(heart_rate=100).missing == ("temperature", "respiratory", "white_cells")


@pytest.mark.parametrize(
    ("readings", "total"),
    [
        ({"systolic_bp": 70, "heart_rate": 40, "respiratory_rate": 8, "temperature": 34.9, "avpu": "U"}, 12),
        ({"systolic_bp": 101, "heart_rate": 51, "respiratory_rate": 9, "temperature": 35.0, "avpu": "A"}, 0),
        (
            {"systolic_bp": 199, "heart_rate": 100, "respiratory_rate": 14, "temperature": 38.4, "avpu": "A"},
            0,
        ),
        (
            {"systolic_bp": 200, "heart_rate": 130, "respiratory_rate": 30, "temperature": 38.5, "avpu": "P"},
            12,
        ),
        ({"systolic_bp": 80, "heart_rate": 110, "respiratory_rate": 15, "temperature": 37, "avpu": "V"}, 5),
    ],
)
def test_mews_default_subbe(readings: dict[str, object], total: int) -> None:
    r = score_mews(readings)  # type: ignore[arg-type]
    assert r.total == total and r.complete
    assert r.triggered == (total >= 5)


def test_mews_missing_and_confusion_not_scored() -> None:
    r = score_mews({"systolic_bp": 120, "avpu": "C"})
    assert r.missing == ("heart_rate", "respiratory_rate", "temperature", "avpu")
    with pytest.raises(ValueError, match="avpu"):
        score_mews({"avpu": "Q"})


def test_mews_site_config() -> None:
    doc = {
        "systolic_bp": {"bands": [[None, 70, 3], [71, 80, 2], [81, 100, 1], [101, 199, 0], [200, None, 2]]},
        "heart_rate": {
            "bands": [[None, 40, 2], [41, 50, 1], [51, 100, 0], [101, 110, 1], [111, 129, 2], [130, None, 3]]
        },
        "respiratory_rate": {"bands": [[None, 9, 2], [10, 14, 0], [15, 20, 1], [21, 29, 2], [30, None, 3]]},
        "temperature": {"resolution": 0.1, "bands": [[None, 35.0, 2], [35.1, 38.4, 0], [38.5, None, 2]]},
        "trigger_at": 4,
    }
    site = MewsConfig.from_dict(doc)
    assert score_mews({"respiratory_rate": 9}, site).total == 2
    assert score_mews({"respiratory_rate": 9}).total == 0
    assert site.trigger_at == 4
    with pytest.raises(ValueError, match="temperature"):
        MewsConfig.from_dict({k: v for k, v in doc.items() if k != "temperature"})
    doc["heart_rate"] = {"bands": [[None, 40, 2], [45, None, 0]]}
    with pytest.raises(ValueError, match="heart_rate"):
        MewsConfig.from_dict(doc)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.floats(40, 300),
            st.none() | st.floats(20, 250),
            st.none() | st.floats(0, 60),
            st.none() | st.floats(30, 43),
            st.none() | st.sampled_from("AVPU"),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_mews_arrays_equal_scalar(rows: list[tuple[object, ...]]) -> None:
    def col(i: int) -> list[float]:
        return [math.nan if r[i] is None else float(r[i]) for r in rows]  # type: ignore[arg-type]

    avpu = [-1 if r[4] is None else "AVPU".index(str(r[4])) for r in rows]
    total, complete = mews_arrays(col(0), col(1), col(2), col(3), avpu, SUBBE_2001)
    for i, r in enumerate(rows):
        keys = ("systolic_bp", "heart_rate", "respiratory_rate", "temperature", "avpu")
        s = score_mews(dict(zip(keys, r, strict=True)))  # type: ignore[arg-type]
        assert total[i] == s.total and bool(complete[i]) == s.complete
