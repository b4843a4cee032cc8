"""PharmCAT's own test assertions (cases/expected_full.tsv) and the full-panel example (cases/e2e)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from hygeia.pgx.kb import KnowledgeBase, load_kb
from hygeia.pgx.matcher import MatchOptions
from hygeia.pgx.phenotype import phenotype_gene, phenotype_sample
from hygeia.pgx.pipeline import match_vcf, read_outside_calls
from hygeia.pgx.recommend import recommend

# Cases this implementation does not reproduce yet (reported, not hidden): none at present.
KNOWN_GAPS: set[tuple[str, str, str]] = set()


def _rows(cases: Path) -> list[dict[str, str]]:
    with open(cases / "expected_full.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def cases(reference: Callable[..., Path]) -> Path:
    return reference("pgx", "cases")


@pytest.fixture(scope="module")
def kb(reference: Callable[..., Path]) -> KnowledgeBase:
    return load_kb(reference("pgx", "kb"))


def _vcf(cases: Path, rel: str) -> Path:
    path = cases / rel
    return path if path.exists() else cases / "e2e" / Path(rel).name


def test_all_expected_cases(cases: Path, kb: KnowledgeBase) -> None:
    rows = _rows(cases)
    assert len(rows) >= 163
    failures = []
    for row in rows:
        mode = row["mode"]
        opts = MatchOptions(
            top_candidates_only=not ("all-candidates" in mode or "all-matches" in mode),
            find_combinations="findCombinations" in mode,
        )
        call = match_vcf(kb, _vcf(cases, row["vcf_path"]), opts)[0].genes[row["gene"]]
        if row["field"] == "diplotypes":
            got = call.diplotypes or ["NO_CALL"]
        elif row["field"] == "activityScore":
            got = [str(phenotype_gene(kb, call).activity_score)]
        else:
            got = call.reported
        key = (Path(row["vcf_path"]).name, row["gene"], row["field"])
        if got != row["expected"].split(";") and key not in KNOWN_GAPS:
            failures.append(f"{key} [{mode}]: expected {row['expected']!r}, got {';'.join(got)!r}")
    passed = len(rows) - len(failures)
    assert not failures, f"{passed}/{len(rows)} pass; failures:\n" + "\n".join(failures)


def test_e2e_full_panel(cases: Path, kb: KnowledgeBase, reference: Callable[..., Path]) -> None:
    outside_tsv = reference("pgx", "kb") / "pharmcat-HEAD/docs/examples/pharmcat.example.outsideCall.tsv"
    outside = read_outside_calls(outside_tsv) if outside_tsv.exists() else None
    result = match_vcf(kb, cases / "e2e" / "pharmcat.example.vcf", outside=outside)[0]
    phenos = phenotype_sample(kb, result)
    lines = (cases / "e2e" / "pharmcat.example.report.tsv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(lines[2:], delimiter="\t"))
    checked = 0
    for row in rows:
        if len(row) < 4 or not row[0] or row[0] not in phenos:
            if checked and (not row or not row[0]):
                break
            continue
        gene, diplotype, phenotype, score = row[0], row[1], row[2].strip(), row[3]
        p = phenos[gene]
        assert result.genes[gene].reported == [diplotype], gene
        assert (p.phenotype or "") == phenotype, gene
        assert (p.activity_score or "") == score, gene
        checked += 1
    assert checked >= 19
    drugs = {r.drug for r in recommend(kb, phenos)}
    assert {"clopidogrel", "codeine", "fluorouracil", "simvastatin", "warfarin"} <= drugs


def test_warfarin_vectors(reference: Callable[..., Path]) -> None:
    from hygeia.pgx.warfarin import WarfarinInput, iwpc_clinical, iwpc_pharmacogenetic

    path = reference("pgx", "warfarin") / "iwpc_test_vectors.tsv"
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows
    for r in rows:
        race = r["race"].lower() if r["race"].lower() in ("white", "asian", "black") else "mixed"
        vk = r["VKORC1_rs9923231"] if "/" in r["VKORC1_rs9923231"] else None
        c9 = r["CYP2C9"] if "/" in r["CYP2C9"] else None
        x = WarfarinInput(float(r["age_years"]), float(r["height_cm"]), float(r["weight_kg"]), race, vk, c9,
                          r["enzyme_inducer"] == "1", r["amiodarone"] == "1")
        assert round(iwpc_pharmacogenetic(x), 2) == pytest.approx(float(r["pgx_weekly_mg(age=floor decade)"]), abs=0.01)
        by_years = float(r["pgx_weekly_mg(age=years/10)"])
        assert round(iwpc_pharmacogenetic(x, False), 2) == pytest.approx(by_years, abs=0.01)
        assert round(iwpc_clinical(x), 2) == pytest.approx(float(r["clinical_weekly_mg(age=floor decade)"]), abs=0.01)


def _order(drug: str) -> dict[str, object]:
    return {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"text": drug},
            "dosageInstruction": [{"doseAndRate": [{"doseQuantity": {"value": 100, "unit": "mg"}}]}]}


@pytest.mark.parametrize(
    ("drug", "genes", "expect"),
    [
        ("clopidogrel", {"CYP2C19": ("*2/*2", "Poor Metabolizer", None)}, "replace:prasugrel"),
        ("fluorouracil", {"DPYD": ("c.1905+1G>A (*2A)/Reference", None, "1.0")}, "update:50"),
        ("capecitabine", {"DPYD": ("c.1905+1G>A (*2A)/c.1905+1G>A (*2A)", None, "0.0")}, "delete"),
        ("azathioprine", {"TPMT": ("*1/*3A", "Intermediate Metabolizer", None),
                          "NUDT15": ("*1/*1", "Normal Metabolizer", None)}, "range:30-80"),
        ("tacrolimus", {"CYP3A5": ("*1/*1", "Normal Metabolizer", None)}, "range:150-200"),
        ("voriconazole", {"CYP2C19": ("*17/*17", "Ultrarapid Metabolizer", None)}, "replace:isavuconazole"),
        ("ondansetron", {"CYP2D6": ("*1/*1x3", "Ultrarapid Metabolizer", "3.0")}, "replace:granisetron"),
    ],
)
def test_assess_order_one_finding_with_text_derived_suggestion(
        kb: KnowledgeBase, drug: str, genes: dict[str, tuple[str, str | None, str | None]], expect: str) -> None:
    from hygeia.pgx.cds import SimpleRecord, assess_order
    from hygeia.pgx.phenotype import GenePhenotype

    phenotypes = {g: GenePhenotype(g, d, p, a, lookup_key=p or a) for g, (d, p, a) in genes.items()}
    findings = assess_order(SimpleRecord("p1", phenotypes), _order(drug), kb)
    assert len(findings) == 1, [f.summary for f in findings]
    first = findings[0].suggestions[0]
    kind, _, arg = expect.partition(":")
    action = first.actions[-1]
    if kind == "replace":
        assert action["type"] == "create" and action["resource"]["medicationCodeableConcept"]["text"] == arg
    elif kind == "delete":
        assert [a["type"] for a in first.actions] == ["delete"]
    else:
        assert action["type"] == "update"
        rate = action["resource"]["dosageInstruction"][0]["doseAndRate"][0]
        if kind == "update":
            assert rate["doseQuantity"]["value"] == float(arg)
        else:
            low, high = (float(x) for x in arg.split("-"))
            assert (rate["doseRange"]["low"]["value"], rate["doseRange"]["high"]["value"]) == (low, high)
