"""Order suggestions read from guideline text, one Finding per drug–gene pair, DPYD HapB3 strands."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hygeia.pgx.cds import finding_for, group_recommendations, order_suggestions
from hygeia.pgx.kb import GeneDefinition, KnowledgeBase, Locus, NamedAllele
from hygeia.pgx.matcher import MatchOptions, call_gene
from hygeia.pgx.phenotype import GenePhenotype
from hygeia.pgx.recommend import Recommendation
from hygeia.pgx.suggest import derive_action
from hygeia.pgx.vcf import Call

ORDER = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft",
         "medicationCodeableConcept": {"text": "drugx"},
         "dosageInstruction": [{"text": "400 mg daily",
                                "doseAndRate": [{"doseQuantity": {"value": 400, "unit": "mg"}}]}]}


def test_dose_changes() -> None:
    cases = {
        "Reduce starting dose by 50% followed by titration of dose based on toxicity.": (0.5, 0.5),
        "Start with reduced starting doses (30%-80% of normal dose) if normal starting dose is high.": (0.3, 0.8),
        "Start with reduced doses (50% to 80% of normal dose).": (0.5, 0.8),
        "Start with 50% of the standard dose or avoid drugx.": (0.5, 0.5),
        "For malignancy, start with drastically reduced doses (reduce daily dose by 10-fold and dose thrice "
        "weekly).": (0.1, 0.1),
        "Increase starting dose 1.5 to 2 times recommended starting dose.": (1.5, 2.0),
        "Reduce starting doses to 25% of normal dose and adjust doses.": (0.25, 0.25),
    }
    for text, expected in cases.items():
        dose = derive_action(text, "drugx").dose
        assert dose is not None and (dose.low, dose.high) == expected, text


def test_avoid_alternatives_and_reports() -> None:
    a = derive_action("Choose an alternative agent that is not dependent on CYP2C19 metabolism. Such agents include "
                      "isavuconazole, liposomal amphotericin B, and posaconazole.", "voriconazole")
    assert a.avoid and a.alternatives == ("isavuconazole", "liposomal amphotericin b", "posaconazole")
    b = derive_action("Select alternative drug not predominantly metabolized by CYP2D6 (i.e., granisetron).", "x")
    assert b.avoid and b.alternatives == ("granisetron",) and b.dose is None
    c = derive_action("Avoid use of 5-fluorouracil or 5-fluorouracil prodrug-based regimens.", "fluorouracil")
    assert c.avoid and not c.alternatives and c.dose is None
    # a report of what one patient tolerated is not advice; a conditional sentence is only a fallback
    d = derive_action("Avoid drugx. A patient tolerated 0.8% of the standard dose. If it is not possible to avoid "
                      "drugx: use 10% of the standard dose.", "drugx")
    assert d.avoid and d.dose is not None and d.dose.low == 0.1
    e = derive_action("Initiate therapy with recommended starting dose. If no response, consider an alternative.", "x")
    assert e.empty


@given(st.text(max_size=300))
def test_derive_action_never_crashes(text: str) -> None:
    action = derive_action(text, "drugx")
    assert action.dose is None or action.dose.low <= action.dose.high


def _rec(text: str, population: str | None = "general", source: str = "CPIC", genes: tuple[str, ...] = ("GENEA",),
         classification: str = "Strong") -> Recommendation:
    return Recommendation("drugx", source, "Guideline", "https://example.org", dict.fromkeys(genes, "Poor Metabolizer"),
                          text, classification, population=population)


def test_suggestions_are_cds_actions() -> None:
    dose = order_suggestions(_rec("Reduce starting dose by 50%."), ORDER)
    assert len(dose) == 1 and dose[0].actions[0]["type"] == "update"
    new = dose[0].actions[0]["resource"]
    assert new["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 200
    assert ORDER["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 400  # not mutated
    ranged = order_suggestions(_rec("Start with 30%-80% of normal dose."), ORDER)[0].actions[0]["resource"]
    assert ranged["dosageInstruction"][0]["doseAndRate"][0]["doseRange"]["low"]["value"] == 120
    switch = order_suggestions(_rec("Avoid drugx. Use alpha or beta at standard dose."), ORDER)
    assert [s.label.split(" (")[0] for s in switch] == ["Replace with alpha", "Replace with beta"]
    assert switch[0].is_recommended and not switch[1].is_recommended
    assert [a["type"] for a in switch[0].actions] == ["delete", "create"]
    cancel = order_suggestions(_rec("Avoid drugx."), ORDER)
    assert [a["type"] for a in cancel[0].actions] == ["delete"]


def test_one_finding_per_drug_gene_pair(kb: KnowledgeBase) -> None:
    recs = [_rec("Use standard dose.", "pediatrics"), _rec("Avoid drugx.", "adults"),
            _rec("Choose an alternative.", "general", "DPWG"), _rec("Other gene.", genes=("GENEB",))]
    groups = group_recommendations(recs)
    assert [len(g) for g in groups] == [3, 1]
    assert (groups[0][0].source, groups[0][0].population) == ("CPIC", "adults")  # CPIC, then default population
    kids = group_recommendations(recs, "pediatrics")[0]
    assert kids[0].population == "pediatrics"
    ph = {"GENEA": GenePhenotype("GENEA", "*2/*2", "Poor Metabolizer")}
    f = finding_for("p1", kids[0], ph, kb, ORDER, kids[1:])
    assert "Other recommendations" in f.detail and "adults" in f.detail and "DPWG" in f.detail


def test_dpyd_hapb3_exonic_apart_from_intronic_gives_both_orientations() -> None:
    loci = (Locus("chr1", 10, "rsX", "C", ("T",)), Locus("chr1", 20, "rs56038477", "C", ("T",)),
            Locus("chr1", 30, "rs75017182", "G", ("C",)))
    alleles = (NamedAllele("Reference", ("C", "C", "G"), True), NamedAllele("X", ("T", None, None), False),
               NamedAllele("intronic", (None, None, "C"), False), NamedAllele("HapB3", (None, "T", "C"), False))
    dpyd = GeneDefinition("DPYD", "chr1", "t", loci, alleles)
    calls = {("chr1", 10): Call(("C", "T"), True, "1"), ("chr1", 20): Call(("C", "T"), True, "1"),
             ("chr1", 30): Call(("G", "C"), True, "2")}
    got = call_gene(dpyd, calls, MatchOptions())
    # exonic and intronic on one strand: HapB3; apart: the exonic proxy is ignored where the intronic is reference
    assert got.diplotypes == ["Reference/[HapB3 + X]", "X/intronic"]
    same = {**calls, ("chr1", 30): Call(("G", "C"), True, "1")}
    assert call_gene(dpyd, same, MatchOptions()).diplotypes == ["Reference/[HapB3 + X]"]
