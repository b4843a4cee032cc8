"""Retrospective stay scoring (hygeia.ews.cohort) and the PhysioNet outcomes reader, on synthetic data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygeia.ews.cohort import auroc, stay_scores, stay_timeline
from hygeia.ews.physionet import OutcomesFormatError, read_outcomes
from hygeia.records import codes
from hygeia.records.record import PatientRecord

T0 = datetime(2000, 1, 1, tzinfo=UTC)


def _obs(i: int, code: str, value: float, unit: str, minutes: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"o{i}", "status": "final",
            "code": {"coding": [{"system": codes.LOINC, "code": code}]}, "subject": {"reference": "Patient/s1"},
            "effectiveDateTime": (T0 + timedelta(minutes=minutes)).isoformat(),
            "valueQuantity": {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}}


def _record(items: list[tuple[str, float, str, int]]) -> PatientRecord:
    resources = [{"resourceType": "Patient", "id": "s1"}]
    resources += [_obs(i, *item) for i, item in enumerate(items)]
    return PatientRecord.from_resources(resources)


def test_stay_is_scored_with_carry_forward_and_the_documented_mappings() -> None:
    rec = _record([
        ("8867-4", 70, "/min", 0), ("9279-1", 16, "/min", 0), ("8480-6", 120, "mm[Hg]", 0),
        ("8310-5", 37.0, "Cel", 0), ("9269-2", 15, "{score}", 0), ("2708-6", 97, "%", 0), ("3150-0", 21, "%", 0),
        # an hour later: tachycardic, tachypnoeic, hypotensive, confused, on oxygen
        ("8867-4", 135, "/min", 60), ("9279-1", 26, "/min", 60), ("8480-6", 88, "mm[Hg]", 60),
        ("9269-2", 12, "{score}", 60), ("3150-0", 40, "%", 60), ("6690-2", 14, "10*3/uL", 60),
        # 49 h in: outside the 48 h window
        ("8867-4", 200, "/min", 49 * 60),
    ])
    tl = stay_timeline(rec)
    assert len(tl) == 2 and tl["on_oxygen"].tolist() == [0.0, 1.0]
    s = stay_scores(rec)
    assert s.points == 2 and s.news2_complete_points == 2
    # rr 26 (3) + SpO2 97 on scale 1 (0) + oxygen (2) + SBP 88 (3) + pulse 135 (3) + GCS 12 -> C (3) + 37.0 (0)
    assert s.news2_max == 14
    assert s.qsofa_max == 3 and s.sirs_max == 3 and s.mews_max is not None and s.mews_max >= 5


def test_values_older_than_the_carry_window_are_missing() -> None:
    rec = _record([("8867-4", 70, "/min", 0), ("9279-1", 16, "/min", 5 * 60)])
    tl = stay_timeline(rec, carry=timedelta(hours=4))
    assert np.isnan(tl["pulse"].iloc[1]) and tl["rr"].iloc[1] == 16
    empty = stay_scores(PatientRecord.from_resources([{"resourceType": "Patient", "id": "s1"}]))
    assert empty.points == 0 and empty.news2_max is None


def test_auroc_matches_the_pairwise_definition() -> None:
    assert auroc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert auroc([1, 1, 1, 1], [0, 1, 0, 1]) == 0.5
    with pytest.raises(ValueError, match="both outcomes"):
        auroc([1, 2], [0, 0])


@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=2, max_size=40))
def test_auroc_property(pairs: list[tuple[int, bool]]) -> None:
    s = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    if all(y) or not any(y):
        return
    pos = [a for a, b in pairs if b]
    neg = [a for a, b in pairs if not b]
    expected = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    assert auroc(s, y) == pytest.approx(expected)


def test_malformed_outcomes_name_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "Outcomes.txt"
    bad.write_text("RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n1,5,2,3,-1,0\n2,x,2,3,-1,0\n")
    with pytest.raises(OutcomesFormatError, match=r"line 3, field SAPS-I"):
        read_outcomes(bad)
    bad.write_text("RecordID,SOFA\n1,2\n")
    with pytest.raises(OutcomesFormatError, match="missing column"):
        read_outcomes(bad)
    good = tmp_path / "ok.txt"
    good.write_text("RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n7,-1,4,3,-1,1\n")
    assert read_outcomes(good)["7"].saps_i is None and read_outcomes(good)["7"].death
