"""Pharmacogenomics: VCF → named-allele match → phenotype → CPIC/DPWG recommendations (PharmCAT's stages)."""

from hygeia.pgx.cds import SimpleRecord, assess_order, fhir_observations, findings_for_sample
from hygeia.pgx.kb import KnowledgeBase, load_kb
from hygeia.pgx.matcher import GeneCall, MatchOptions, SampleResult, match_sample
from hygeia.pgx.patient import call_patient, record_phenotypes
from hygeia.pgx.phenotype import GenePhenotype, phenotype_sample
from hygeia.pgx.pipeline import iter_match_vcf, match_vcf, read_outside_calls
from hygeia.pgx.recommend import Recommendation, recommend
from hygeia.pgx.suggest import OrderAction, derive_action
from hygeia.pgx.warfarin import WarfarinInput, warfarin_dose

__all__ = [
    "GeneCall", "GenePhenotype", "KnowledgeBase", "MatchOptions", "OrderAction", "Recommendation", "SampleResult",
    "SimpleRecord", "WarfarinInput", "assess_order", "call_patient", "derive_action", "fhir_observations",
    "findings_for_sample", "iter_match_vcf", "load_kb", "match_sample", "match_vcf", "phenotype_sample",
    "read_outside_calls", "recommend", "record_phenotypes", "warfarin_dose",
]
