"""Pathology results as Findings (capability ``pathology``) carrying a FHIR DiagnosticReport."""

from __future__ import annotations

from hygeia.findings import Evidence, Finding, Indicator, Source, Suggestion
from hygeia.imaging.fhir import diagnostic_report
from hygeia.pathology.ihc import IhcResult
from hygeia.pathology.wsi import SlideReport

VERSION = "1.0.0"
SOURCE = Source(label="Hygeia digital pathology (colour deconvolution, Ruifrok & Johnston 2001)")


def ihc_finding(result: IhcResult, patient_id: str, marker: str = "Ki-67") -> Finding:
    """A Ki-67-style index. Indicator warning at ≥ 20 % (a commonly used high-proliferation cut-off in
    breast cancer, St Gallen 2013 consensus; Nielsen et al., JNCI 2021 — confirm locally)."""
    index = result.positive_index
    summary = (f"{marker} index {index:.0%} ({result.n_positive}/{result.n_nuclei} nuclei); "
               f"DAB area {result.dab_area_fraction:.1%}")
    observations: list[tuple[str, float | str, str | None]] = [
        (f"{marker} positive nuclei fraction", round(index, 4), "1"),
        ("DAB-positive area fraction", round(result.dab_area_fraction, 4), "1"),
        ("nuclei counted", result.n_nuclei, None),
    ]
    report = diagnostic_report(patient_id, "pathology", f"{marker} immunohistochemistry quantification", summary,
                               observations, method=f"colour deconvolution, DAB OD > {result.dab_threshold}")
    return Finding(
        patient_id=patient_id, capability="pathology", kind=f"ihc-{marker.lower()}", summary=summary[:140],
        indicator=Indicator.WARNING if index >= 0.20 else Indicator.INFO,
        detail=(f"Automated count of {result.n_nuclei} nuclei; positive when mean DAB optical density exceeds "
                f"{result.dab_threshold}. The ≥ 20 % cut-off is a commonly used, not universal, threshold. "
                "A pathologist should confirm the hotspot/region and exclude non-tumour nuclei."),
        evidence=[Evidence(label=label, value=value, unit=unit)
                  for label, value, unit in observations],
        suggestions=[Suggestion(label="Pathologist review of the scored region")],
        source=SOURCE, version=VERSION, resources=[report],
    )


def slide_finding(report: SlideReport, patient_id: str, slide_name: str = "slide") -> Finding:
    """Slide-level summary: tissue analysed, nuclei density and the share of atypical nuclei."""
    density = f", {report.nuclei_per_mm2:.0f} nuclei/mm²" if report.nuclei_per_mm2 else ""
    summary = (f"{slide_name}: {report.n_analysed}/{report.n_tiles} tiles with tissue, {report.n_nuclei} nuclei"
               f"{density}, {report.atypical_fraction:.1%} atypical")
    observations: list[tuple[str, float | str, str | None]] = [
        ("tiles analysed", report.n_analysed, None), ("nuclei", report.n_nuclei, None),
        ("atypical nuclei fraction", round(report.atypical_fraction, 4), "1"),
    ]
    if report.tissue_area_mm2:
        observations.append(("tissue area analysed", round(report.tissue_area_mm2, 4), "mm2"))
    if report.nuclei_per_mm2:
        observations.append(("nuclear density", round(report.nuclei_per_mm2, 1), "/mm2"))
    resource = diagnostic_report(patient_id, "pathology", "Whole-slide image analysis", summary, observations,
                                 method=f"tiles {report.tile_size} px at level {report.level}")
    return Finding(
        patient_id=patient_id, capability="pathology", kind="whole-slide", summary=summary[:140],
        indicator=Indicator.WARNING if report.atypical_fraction > 0.10 else Indicator.INFO,
        detail=("Atypical nuclei are outliers in size, shape or staining against the slide's own nuclei "
                "(robust z-score > 3.5); they point to regions to review, not to a diagnosis."),
        evidence=[Evidence(label=label, value=value, unit=unit) for label, value, unit in observations],
        suggestions=[Suggestion(label="Review tiles with the most atypical nuclei")] if report.n_atypical else [],
        source=SOURCE, version=VERSION, resources=[resource],
    )
