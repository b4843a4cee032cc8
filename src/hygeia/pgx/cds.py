"""Point of care: Findings per actionable gene–drug pair, FHIR Observations, and ``assess_order``.

FHIR follows the HL7 Genomics Reporting IG (STU2): a *genotype* Observation (LOINC 84413-4
"Genotype display name", component gene-studied 48018-6 with an HGNC code) and a *metabolizer
phenotype* Observation (LOINC 53040-2 "Genetic variation's effect on drug metabolism").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.findings import Evidence, Finding, Indicator, Source, Suggestion
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.phenotype import GenePhenotype
from hygeia.pgx.recommend import Recommendation, recommend

IG = "http://hl7.org/fhir/uv/genomics-reporting"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NORMAL = {"Normal Metabolizer", "Normal Function", "Normal", "Rapid Metabolizer", "-1639 GG",
          "Uncertain Susceptibility", "Negative"}


@dataclass(frozen=True)
class Alternative:
    """A drug to switch to, with the guideline that names it."""

    drug: str
    rxnorm: str | None
    source: str


# Alternatives named by CPIC guidelines for the phenotypes where they advise avoiding the drug.
# clopidogrel: CPIC 2022 (Lee et al., PMID 35034351) — prasugrel or ticagrelor in CYP2C19 IM/PM.
# codeine/tramadol: CPIC 2021 (Crews et al., PMID 33387367) — a non-CYP2D6 opioid such as morphine.
# simvastatin: CPIC 2022 (Cooper-DeHoff et al., PMID 35152405) — rosuvastatin or pravastatin.
ALTERNATIVES: dict[str, list[Alternative]] = {
    "clopidogrel": [Alternative("prasugrel", "613391", "CPIC 2022 (PMID 35034351)"),
                    Alternative("ticagrelor", "1116632", "CPIC 2022 (PMID 35034351)")],
    "codeine": [Alternative("morphine", "7052", "CPIC 2021 (PMID 33387367)")],
    "tramadol": [Alternative("morphine", "7052", "CPIC 2021 (PMID 33387367)")],
    "simvastatin": [Alternative("rosuvastatin", "301542", "CPIC 2022 (PMID 35152405)"),
                    Alternative("pravastatin", "42463", "CPIC 2022 (PMID 35152405)")],
}
_AVOID_WORDS = ("avoid", "alternative", "not recommended", "contraindicated", "do not use", "select an")


class PgxRecord(Protocol):
    """What ``assess_order`` needs from a patient record (the lead adapts PatientRecord to it)."""

    patient_id: str

    def pgx_phenotypes(self) -> dict[str, GenePhenotype]: ...


@dataclass
class SimpleRecord:
    patient_id: str
    phenotypes: dict[str, GenePhenotype]

    def pgx_phenotypes(self) -> dict[str, GenePhenotype]:
        return self.phenotypes


def is_actionable(rec: Recommendation, phenotypes: dict[str, GenePhenotype]) -> bool:
    """A recommendation matters when some gene it uses is not in a normal/uninformative state."""
    for gene in rec.genes:
        p = phenotypes.get(gene)
        if p is None:
            continue
        if p.phenotype and p.phenotype not in NORMAL and "Normal" not in p.phenotype:
            return True
        if p.activity_score and p.activity_score not in ("2.0", "2"):
            try:
                if float(p.activity_score) < 2.0 and gene in ("DPYD", "CYP2C9", "CYP2D6"):
                    return True
            except ValueError:
                pass
    return False


def _indicator(rec: Recommendation) -> Indicator:
    text = rec.text.lower()
    avoid = any(w in text for w in _AVOID_WORDS) or rec.alternate_drug
    if avoid and (rec.classification or "").lower() in ("strong", "moderate"):
        return Indicator.CRITICAL
    return Indicator.WARNING


def _medication_name(medication_request: dict[str, Any]) -> str:
    cc = medication_request.get("medicationCodeableConcept") or {}
    name = cc.get("text") or next((c.get("display") for c in cc.get("coding", []) if c.get("display")), None)
    if not name:
        ref = (medication_request.get("medicationReference") or {}).get("display")
        name = ref
    if not name:
        raise ValueError("MedicationRequest has no medicationCodeableConcept.text/coding.display to identify the drug")
    return str(name).strip()


def _switch_suggestion(medication_request: dict[str, Any], alt: Alternative) -> Suggestion:
    new = {k: v for k, v in medication_request.items() if k not in ("id", "medicationCodeableConcept")}
    new["resourceType"] = "MedicationRequest"
    coding = [{"system": RXNORM, "code": alt.rxnorm, "display": alt.drug}] if alt.rxnorm else []
    new["medicationCodeableConcept"] = {"text": alt.drug, "coding": coding}
    actions: list[dict[str, Any]] = []
    if medication_request.get("id"):
        actions.append({"type": "delete", "description": "Remove the original order",
                        "resourceId": f"MedicationRequest/{medication_request['id']}"})
    actions.append({"type": "create", "description": f"Order {alt.drug} instead", "resource": new})
    return Suggestion(label=f"Replace with {alt.drug} ({alt.source})", is_recommended=True, actions=actions)


def finding_for(patient_id: str, rec: Recommendation, phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase,
                medication_request: dict[str, Any] | None = None) -> Finding:
    genes = ", ".join(f"{g} {phenotypes[g].phenotype or phenotypes[g].activity_score or ''}".strip()
                      for g in rec.genes if g in phenotypes)
    summary = f"{rec.drug}: {genes} — {rec.source} guideline applies"
    evidence = [Evidence(label=f"{g} diplotype", value=phenotypes[g].diplotype) for g in rec.genes if g in phenotypes]
    evidence += [Evidence(label=f"{g} phenotype", value=phenotypes[g].phenotype or phenotypes[g].activity_score)
                 for g in rec.genes if g in phenotypes]
    suggestions = []
    if medication_request is not None:
        suggestions = [_switch_suggestion(medication_request, a) for a in ALTERNATIVES.get(rec.drug.lower(), [])]
    detail = (f"**{rec.source} recommendation** ({rec.classification or 'unclassified'}): {rec.text}\n\n"
              + (f"Implications: {' '.join(rec.implications)}\n\n" if rec.implications else "")
              + f"Guideline: {rec.guideline}. {' '.join(rec.citations)}")
    version = "; ".join(f"{k} {v[:12]}" for k, v in kb.versions.items()) or "unversioned"
    return Finding(
        patient_id=patient_id, capability="pgx", kind="drug-gene",
        summary=summary[:140], indicator=_indicator(rec), detail=detail, evidence=evidence,
        suggestions=suggestions, source=Source(label=f"{rec.source} via PharmCAT KB", url=rec.url),
        version=version,
    )


def findings_for_sample(patient_id: str, phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase) -> list[Finding]:
    """A Finding per actionable gene–drug pair."""
    recs = [r for r in recommend(kb, phenotypes) if is_actionable(r, phenotypes)]
    return [finding_for(patient_id, r, phenotypes, kb) for r in recs]


def assess_order(
    record: PgxRecord, medication_request: dict[str, Any], kb: KnowledgeBase | None = None
) -> list[Finding]:
    """Findings for a drug being ordered, given the patient's known PGx phenotypes."""
    if kb is None:
        from hygeia.pgx.kb import cached_kb, default_kb_dir

        kb = cached_kb(str(default_kb_dir()))
    drug = _medication_name(medication_request)
    phenotypes = record.pgx_phenotypes()
    recs = [r for r in recommend(kb, phenotypes, drug=drug) if is_actionable(r, phenotypes)]
    return [finding_for(record.patient_id, r, phenotypes, kb, medication_request) for r in recs]


def fhir_observations(patient_id: str, phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Genotype and phenotype Observations (HL7 Genomics Reporting IG profiles)."""
    out: list[dict[str, Any]] = []
    note = [{"text": DECISION_SUPPORT_NOTICE}]
    method = {"text": "Hygeia PGx (PharmCAT-compatible named allele matcher); KB "
                      + ", ".join(f"{k} {v[:12]}" for k, v in kb.versions.items())}
    for gene, p in sorted(phenotypes.items()):
        if not p.diplotype:
            continue
        gene_component = {"code": {"coding": [{"system": LOINC, "code": "48018-6", "display": "Gene studied [ID]"}]},
                          "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId",
                                                               "display": gene}], "text": gene}}
        gid = f"pgx-{patient_id}-{gene}-genotype".replace(" ", "_")
        out.append({
            "resourceType": "Observation", "id": gid,
            "meta": {"profile": [f"{IG}/StructureDefinition/genotype"]},
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": "84413-4", "display": "Genotype display name"}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "valueCodeableConcept": {"text": p.diplotype},
            "component": [gene_component],
            "method": method, "note": note,
        })
        if p.phenotype or p.activity_score:
            value = p.phenotype or f"activity score {p.activity_score}"
            comps = [gene_component]
            if p.activity_score:
                comps.append({"code": {"text": "activity score"}, "valueString": p.activity_score})
            out.append({
                "resourceType": "Observation", "id": f"pgx-{patient_id}-{gene}-phenotype".replace(" ", "_"),
                "meta": {"profile": [f"{IG}/StructureDefinition/therapeutic-implication"]},
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "53040-2",
                                     "display": "Genetic variation's effect on drug metabolism"}]},
                "subject": {"reference": f"Patient/{patient_id}"},
                "valueCodeableConcept": {"text": value},
                "derivedFrom": [{"reference": f"Observation/{gid}"}],
                "component": comps, "method": method, "note": note,
            })
    return out
