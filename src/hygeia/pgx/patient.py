"""The PGx pipeline on the spine: read a patient's PGx Observations, and genotype a patient into the store.

* :func:`record_phenotypes` turns the genotype (LOINC 84413-4) and phenotype (LOINC 53040-2)
  Observations of a :class:`hygeia.records.PatientRecord` (as :func:`hygeia.pgx.cds.fhir_observations`
  writes them, HL7 Genomics Reporting IG) back into :class:`GenePhenotype` per gene, the latest per gene.
* :func:`call_patient` runs match → phenotype → recommend for one patient's VCF, writes the Observations
  in one all-or-nothing ``store.write`` and returns one Finding per actionable drug–gene pair.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hygeia.findings import Finding
from hygeia.pgx.cds import PGX_CODES, fhir_observations, findings_for_sample
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.phenotype import GenePhenotype, phenotype_sample
from hygeia.pgx.pipeline import OutsideCall, match_vcf
from hygeia.records import PatientRecord
from hygeia.records.store import NotFound, Store


class PatientCallError(ValueError):
    """The patient or the VCF does not fit (no such patient, no or ambiguous sample)."""


def _component_value(observation: dict[str, Any], code: str, text: str) -> str | None:
    for comp in observation.get("component") or []:
        cc = comp.get("code") or {}
        codes = {c.get("code") for c in cc.get("coding") or [] if c.get("system") == PGX_CODES}
        if code in codes or (not codes and cc.get("text") == text):
            value = comp.get("valueString")
            return str(value) if value is not None else None
    return None


def record_phenotypes(record: PatientRecord) -> dict[str, GenePhenotype]:
    """Gene → phenotype from the record's genotype/phenotype Observations (the latest of each per gene)."""
    rows = [r for r in record.genotype_rows() if r["gene"] is not None]  # plain rows: no pandas per request
    undated = datetime.min.replace(tzinfo=UTC)
    rows.sort(key=lambda r: r["time"] or undated)  # stable: undated first, then by time
    latest = {(str(r["gene"]), r["kind"]): r for r in rows}
    out: dict[str, GenePhenotype] = {}
    for gene in sorted({g for g, _ in latest}):
        geno, pheno = latest.get((gene, "genotype")), latest.get((gene, "phenotype"))
        p = GenePhenotype(gene, str(geno["value"]) if geno is not None and geno["value"] else None, None,
                          source="record")
        if pheno is not None:
            value = str(pheno["value"]) if pheno["value"] else None
            res = pheno["resource"] or {}
            p.activity_score = _component_value(res, "activity-score", "activity score")
            if value and value.startswith("activity score "):
                p.activity_score = p.activity_score or value.removeprefix("activity score ")
            else:
                p.phenotype = value
            p.lookup_key = _component_value(res, "lookup-key", "lookup key") or p.phenotype or p.activity_score
        out[str(gene)] = p
    return out


def record_population(record: PatientRecord) -> str | None:
    """CPIC's age populations: "adults" from 18 years, else "pediatrics"; None when the age is unknown."""
    age = record.demographics().age()
    if age is None:
        return None
    return "adults" if age >= 18 else "pediatrics"


def call_patient(store: Store, patient_id: str, vcf_path: Path | str, kb: KnowledgeBase,
                 sample: str | None = None, outside: list[OutsideCall] | None = None) -> list[Finding]:
    """Genotype one patient from a VCF: write genotype/phenotype Observations (one transaction) and return
    one Finding per actionable drug–gene pair. Raises :class:`PatientCallError`, ``VcfError`` or
    ``OutsideCallError`` before anything is written."""
    try:
        record = PatientRecord.load(store, patient_id)
    except NotFound:
        raise PatientCallError(f"no Patient/{patient_id} in the store (ingest the patient first)") from None
    results = match_vcf(kb, vcf_path, outside=outside)
    names = [r.sample for r in results]
    if sample is not None:
        chosen = [r for r in results if r.sample == sample]
        if not chosen:
            raise PatientCallError(f"{vcf_path}: no sample {sample!r} (samples: {', '.join(names) or 'none'})")
    elif len(results) == 1:
        chosen = results
    else:
        raise PatientCallError(f"{vcf_path}: {len(results)} samples ({', '.join(names[:5])}"
                               f"{'…' if len(names) > 5 else ''}); say which one belongs to {patient_id}")
    phenotypes = phenotype_sample(kb, chosen[0])
    issued = datetime.now(UTC).isoformat(timespec="seconds")
    store.write(fhir_observations(patient_id, phenotypes, kb, issued=issued))
    return findings_for_sample(patient_id, phenotypes, kb, record_population(record))
