"""Tiny synthetic PGx knowledge base for unit tests (no reference data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.pgx.kb import GeneDefinition, KnowledgeBase, Locus, NamedAllele


def _gene(name: str, chrom: str = "chr1") -> GeneDefinition:
    loci = (
        Locus(chrom, 100, "rs1", "C", ("T",)),
        Locus(chrom, 200, "rs2", "G", ("A",)),
        Locus(chrom, 300, "rs3", "A", ("G",)),
    )
    alleles = (
        NamedAllele("*1", ("C", "G", "A"), True),
        NamedAllele("*2", ("T", None, None), False),
        NamedAllele("*3", (None, "A", None), False),
        NamedAllele("*4", ("T", None, "G"), False),
    )
    return GeneDefinition(name, chrom, "test", loci, alleles)


@pytest.fixture
def gene() -> GeneDefinition:
    return _gene("GENEA")


@pytest.fixture
def kb() -> KnowledgeBase:
    table = {
        "gene": "GENEA",
        "namedAlleles": [
            {"name": "*1", "functionValue": "Normal function", "activityValue": "1.0"},
            {"name": "*2", "functionValue": "No function", "activityValue": "0.0"},
            {"name": "*3", "functionValue": "Decreased function", "activityValue": "0.5"},
        ],
        "activityValues": {"*1": "1.0", "*2": "0.0", "*3": "0.5"},
        "diplotypes": [
            {"diplotypekey": {"*1": 2}, "phenotype": "Normal Metabolizer", "lookupkey": "Normal Metabolizer",
             "activityScore": "2.0"},
            {"diplotypekey": {"*1": 1, "*2": 1}, "phenotype": "Intermediate Metabolizer",
             "lookupkey": "Intermediate Metabolizer", "activityScore": "1.0"},
            {"diplotypekey": {"*2": 2}, "phenotype": "Poor Metabolizer", "lookupkey": "Poor Metabolizer",
             "activityScore": "0.0"},
        ],
    }
    guideline = {
        "guideline": {"name": "Test guideline for drugx and GENEA", "source": "CPIC", "url": "https://example.org/g",
                      "relatedChemicals": [{"name": "drugx"}]},
        "recommendations": [
            {"lookupKey": {"GENEA": "Poor Metabolizer"}, "classification": {"term": "Strong"},
             "text": {"html": "<p>Avoid drugx; use an alternative.</p>"}, "implications": ["No activity"],
             "relatedChemicals": [{"name": "drugx"}], "alternateDrugAvailable": True},
            {"lookupKey": {"GENEA": "Normal Metabolizer"}, "classification": {"term": "Strong"},
             "text": {"html": "<p>Use label-recommended dose.</p>"}, "relatedChemicals": [{"name": "drugx"}]},
        ],
        "citations": [{"pmid": "1"}],
    }
    return KnowledgeBase(Path("."), {"test": "abc"}, {"GENEA": _gene("GENEA")}, {"CPIC:GENEA": table}, [guideline])
