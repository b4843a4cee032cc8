"""Digital pathology: stain separation and normalisation, tissue detection, IHC quantification, nuclei
segmentation and morphology, whole-slide tiling — results as Findings for a pathologist to review."""

from hygeia.pathology.findings import ihc_finding, slide_finding
from hygeia.pathology.ihc import IhcResult, quantify_ihc
from hygeia.pathology.nuclei import (
    MatchResult,
    NucleiParams,
    Nucleus,
    match_instances,
    morphology_table,
    segment_nuclei,
)
from hygeia.pathology.stain import (
    DAB,
    EOSIN,
    HDAB_MATRIX,
    HE_MATRIX,
    HEMATOXYLIN,
    deconvolve,
    macenko_normalise,
    macenko_stains,
    tissue_mask,
)
from hygeia.pathology.wsi import SlideReport, TileResult, analyse_slide, analyse_tile, open_slide

__all__ = [
    "DAB", "EOSIN", "HDAB_MATRIX", "HEMATOXYLIN", "HE_MATRIX", "IhcResult", "MatchResult", "NucleiParams", "Nucleus",
    "SlideReport", "TileResult", "analyse_slide", "analyse_tile", "deconvolve", "ihc_finding", "macenko_normalise",
    "macenko_stains", "match_instances", "morphology_table", "open_slide", "quantify_ihc", "segment_nuclei",
    "slide_finding", "tissue_mask",
]
