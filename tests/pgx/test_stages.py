from __future__ import annotations

import math

import pytest

from hygeia.findings import Indicator
from hygeia.pgx.cds import SimpleRecord, assess_order, fhir_observations, findings_for_sample
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.matcher import GeneCall, SampleResult
from hygeia.pgx.phenotype import phenotype_sample
from hygeia.pgx.pipeline import OutsideCallError, apply_outside_calls, parse_outside_calls
from hygeia.pgx.recommend import recommend, report_html, report_json, report_tsv
from hygeia.pgx.warfarin import WarfarinInput, WarfarinInputError, iwpc_clinical, iwpc_pharmacogenetic, warfarin_dose


def _result(dip: str) -> SampleResult:
    return SampleResult("s1", {"GENEA": GeneCall("GENEA", diplotypes=[dip], reported=[dip])})


def test_phenotype_and_recommendation(kb: KnowledgeBase) -> None:
    ph = phenotype_sample(kb, _result("*2/*2"))["GENEA"]
    assert (ph.phenotype, ph.activity_score, ph.functions) == ("Poor Metabolizer", "0.0", ["No function"] * 2)
    recs = recommend(kb, {"GENEA": ph})
    assert [r.text for r in recs] == ["Avoid drugx; use an alternative."]
    rep = report_json("s1", kb, {"GENEA": ph}, recs)
    assert rep["kb_versions"] == {"test": "abc"}
    assert "drugx" in report_tsv([rep]) and "abc" in report_html([rep], kb)


def test_activity_score_without_table_row(kb: KnowledgeBase) -> None:
    ph = phenotype_sample(kb, _result("*1/*3"))["GENEA"]
    assert ph.activity_score == "1.5"


def test_assess_order_critical_with_source(kb: KnowledgeBase) -> None:
    ph = phenotype_sample(kb, _result("*2/*2"))
    order = {"resourceType": "MedicationRequest", "id": "m1", "medicationCodeableConcept": {"text": "drugx"}}
    found = assess_order(SimpleRecord("p1", ph), order, kb)
    assert len(found) == 1 and found[0].indicator == Indicator.CRITICAL and found[0].capability == "pgx"
    assert found[0].source.url == "https://example.org/g"
    normal = phenotype_sample(kb, _result("*1/*1"))
    assert assess_order(SimpleRecord("p1", normal), order, kb) == []
    assert findings_for_sample("p1", ph, kb)
    with pytest.raises(ValueError, match="identify the drug"):
        assess_order(SimpleRecord("p1", ph), {"resourceType": "MedicationRequest"}, kb)


def test_fhir_observations(kb: KnowledgeBase) -> None:
    obs = fhir_observations("p1", phenotype_sample(kb, _result("*1/*2")), kb)
    codes = [o["code"]["coding"][0]["code"] for o in obs]
    assert codes == ["84413-4", "53040-2"]
    assert obs[1]["valueCodeableConcept"]["text"] == "Intermediate Metabolizer"


def test_outside_calls() -> None:
    oc = parse_outside_calls("CYP2D6\t*1/*3\nHLA-B\t*57:01/*58:01\n")
    r = apply_outside_calls(SampleResult("s", {}), oc)
    assert r.genes["CYP2D6"].reported == ["*1/*3"] and r.genes["CYP2D6"].source == "outside"
    for bad in ("CYP2D6\n", "A\tB\tC\tD\tE\n", "CYP2D6\t*1/*1\nCYP2D6\t*1/*2\n"):
        with pytest.raises(OutsideCallError, match=r":[12]:"):
            parse_outside_calls(bad)


def test_warfarin_hand_computed() -> None:
    x = WarfarinInput(65, 170, 70, "white", "G/G", "*1/*1")
    # 5.6044 - 0.2614*6 + 0.0087*170 + 0.0128*70 = 6.4110 → 41.10 mg/week (Klein 2009)
    assert math.isclose(iwpc_pharmacogenetic(x), 6.4110**2, rel_tol=1e-6)
    # 4.0376 - 0.2546*6 + 0.0118*170 + 0.0134*70 = 5.4540 → 29.75 mg/week
    assert math.isclose(iwpc_clinical(x), 5.4540**2, rel_tol=1e-6)
    aa = WarfarinInput(65, 170, 70, "white", "A/A", "*3/*3", amiodarone=True)
    s = 6.4110 - 1.6974 - 2.3312 - 0.5503
    assert math.isclose(iwpc_pharmacogenetic(aa), s * s, rel_tol=1e-6)
    dose = warfarin_dose(WarfarinInput(65, 170, 70, "white", "G/G", "*1/*1", cyp4f2_star3_carrier=True))
    assert dose.cpic_adjusted_weekly_mg is not None and dose.pharmacogenetic_weekly_mg is not None
    assert math.isclose(dose.cpic_adjusted_weekly_mg, dose.pharmacogenetic_weekly_mg * 1.075)
    with pytest.raises(WarfarinInputError, match="weight_kg"):
        iwpc_clinical(WarfarinInput(65, 170, 5))
