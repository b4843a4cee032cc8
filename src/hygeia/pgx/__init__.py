"""Pharmacogenomics: VCF → named-allele match → phenotype → CPIC/DPWG recommendations (PharmCAT's stages)."""

from hygeia.pgx.cds import SimpleRecord, assess_order, fhir_observations, findings_for_sample
from hygeia.pgx.kb import KnowledgeBase, load_kb
from hygeia.pgx.matcher import GeneCall, MatchOptions, SampleResult, match_sample
from hygeia.pgx.phenotype import GenePhenotype, phenotype_sample
from hygeia.pgx.pipeline import match_vcf, read_outside_calls
from hygeia.pgx.recommend import Recommendation, recommend
from hygeia.pgx.warfarin import WarfarinInput, warfarin_dose

__all__ = [
    "GeneCall", "GenePhenotype", "KnowledgeBase", "MatchOptions", "Recommendation", "SampleResult", "SimpleRecord",
    "WarfarinInput", "assess_order", "fhir_observations", "findings_for_sample", "load_kb", "match_sample",
    "match_vcf", "phenotype_sample", "read_outside_calls", "recommend", "warfarin_dose",
]
