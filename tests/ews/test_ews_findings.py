"""NEWS2 findings, their FHIR Observation, and the rising-trend detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.observation import Observation

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.ews import news2_finding, rising_trend, score_news2, trend_finding
from hygeia.findings import Indicator, to_cds_card, to_fhir
from hygeia.records.codes import NEWS2_TOTAL_SNOMED, SNOMED

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
NORMAL = {"rr": 16, "spo2": 97, "on_oxygen": False, "sbp": 120, "pulse": 70, "acvpu": "A", "temp_c": 37.0}


@pytest.mark.parametrize(
    ("changes", "indicator"),
    [
        ({}, Indicator.INFO),
        ({"pulse": 95}, Indicator.INFO),
        ({"rr": 26}, Indicator.WARNING),
        ({"rr": 22, "pulse": 115, "temp_c": 38.5}, Indicator.WARNING),
        ({"rr": 26, "sbp": 95, "pulse": 115}, Indicator.CRITICAL),
    ],
)
def test_indicator_by_band(changes: dict[str, object], indicator: Indicator) -> None:
    f = news2_finding("p1", score_news2({**NORMAL, **changes}))
    assert f.indicator == indicator
    assert f.capability == "ews" and f.kind == "news2"
    assert "rcp.ac.uk" in (f.source.url or "")


def test_finding_evidence_and_fhir_observation() -> None:
    readings = {
        "rr": (26, NOW - timedelta(minutes=4), "Observation/rr-1"),
        "spo2": (95, NOW - timedelta(minutes=4), "Observation/spo2-1"),
        "on_oxygen": (False, NOW - timedelta(minutes=4)),
        "sbp": (115, NOW - timedelta(minutes=30), "Observation/bp-1"),
        "pulse": (88, NOW - timedelta(minutes=4)),
        "acvpu": ("A", NOW - timedelta(minutes=30)),
        "temp_c": (37.2, NOW - timedelta(hours=2)),
    }
    f = news2_finding("p1", score_news2(readings, now=NOW))
    assert len(f.evidence) == 7
    refs = {e.reference for e in f.evidence if e.reference}
    assert refs == {"Observation/rr-1", "Observation/spo2-1", "Observation/bp-1"}
    assert f.summary.startswith("NEWS2 4") and len(f.summary) <= 140
    obs = to_fhir(f)
    assert obs["code"]["coding"][0] == {
        "system": SNOMED,
        "code": NEWS2_TOTAL_SNOMED,
        "display": obs["code"]["coding"][0]["display"],
    }
    assert obs["valueInteger"] == 4 and obs["status"] == "final"
    assert len(obs["component"]) == 7
    assert {d["reference"] for d in obs["derivedFrom"]} == refs
    Observation.model_validate(obs)  # valid FHIR R4B
    card = to_cds_card(f)
    assert DECISION_SUPPORT_NOTICE in card["detail"]
    assert "minimum 1 hourly" in card["detail"]  # red 3 -> urgent ward-based response
    assert "30 min ago" in f.detail


def test_incomplete_finding_says_so() -> None:
    f = news2_finding("p1", score_news2({"rr": 16, "pulse": 70}))
    assert "incomplete" in f.summary
    assert "Not measured" in f.detail
    obs = to_fhir(f)
    assert obs["status"] == "preliminary"
    Observation.model_validate(obs)


def test_rising_trend_rules() -> None:
    h = [
        (NOW - timedelta(hours=5), 0),
        (NOW - timedelta(hours=3), 2),
        (NOW - timedelta(hours=1), 3),
        (NOW, 4),
    ]
    t = rising_trend(h)
    assert t is not None and (t.baseline, t.latest, t.rise) == (2, 4, 2)
    assert rising_trend([(NOW - timedelta(hours=5), 0), (NOW, 4)]) is None  # outside 4 h
    assert rising_trend([(NOW - timedelta(hours=1), 3), (NOW, 4)]) is None  # +1 only
    assert rising_trend([(NOW, 4)]) is None
    assert rising_trend(list(reversed(h))) == t  # order does not matter
    boundary = rising_trend([(NOW - timedelta(hours=4), 1), (NOW, 3)])
    assert boundary is not None  # exactly 4 h counts


def test_trend_finding() -> None:
    t = rising_trend([(NOW - timedelta(hours=2), 3), (NOW, 7)])
    assert t is not None
    f = trend_finding("p1", t)
    assert f.kind == "news2-rising-trend" and f.indicator == Indicator.CRITICAL
    assert "+4" in f.summary and "120 min" in f.summary
    f2 = trend_finding("p1", rising_trend([(NOW - timedelta(hours=2), 1), (NOW, 3)]))  # type: ignore[arg-type]
    assert f2.indicator == Indicator.WARNING
