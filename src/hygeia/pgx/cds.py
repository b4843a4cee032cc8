"""Point of care: Findings per actionable gene–drug pair, FHIR Observations, and ``assess_order``.

FHIR follows the HL7 Genomics Reporting IG (STU2): a *genotype* Observation (LOINC 84413-4
"Genotype display name", component gene-studied 48018-6 with an HGNC code) and a *metabolizer
phenotype* Observation (LOINC 53040-2 "Genetic variation's effect on drug metabolism").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.findings import Evidence, Finding, Indicator, Source, Suggestion
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.phenotype import GenePhenotype
from hygeia.pgx.recommend import Recommendation, recommend
from hygeia.pgx.suggest import cancel_suggestion, derive_action, dose_suggestion, replace_suggestion

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
PGX_CODES = "https://hygeia.example.org/fhir/CodeSystem/pgx"  # Hygeia's codes for activity score / lookup key


class PgxRecord(Protocol):
    """A record that knows its PGx phenotypes (tests, other sources). A ``hygeia.records.PatientRecord`` is
    accepted by ``assess_order`` directly (phenotypes read by :func:`hygeia.pgx.patient.record_phenotypes`)."""

    patient_id: str

    def pgx_phenotypes(self) -> dict[str, GenePhenotype]: ...


@dataclass
class SimpleRecord:
    patient_id: str
    phenotypes: dict[str, GenePhenotype]

    def pgx_phenotypes(self) -> dict[str, GenePhenotype]:
        return self.phenotypes


def is_actionable(rec: Recommendation, phenotypes: dict[str, GenePhenotype]) -> bool:
    """A recommendation matters when some gene it uses is not in a normal/uninformative state, or when its
    text asks to avoid the drug or change the dose (e.g. tacrolimus in CYP3A5 normal metabolisers, CPIC 2015)."""
    if not derive_action(rec.text, rec.drug).empty:
        return True
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


def _why(rec: Recommendation) -> str:
    return f"{rec.source}{' ' + rec.classification.lower() if rec.classification else ''}"


def order_suggestions(rec: Recommendation, order: dict[str, Any]) -> list[Suggestion]:
    """CDS Hooks suggestions for ``order`` derived from the recommendation's own text (see
    :mod:`hygeia.pgx.suggest`): replace with each named alternative, change the dose, or cancel.
    Where the text says to switch but names no agent, the CPIC-named alternatives in ``ALTERNATIVES`` are used."""
    action = derive_action(rec.text, rec.drug)
    why = _why(rec)
    out: list[Suggestion] = []
    switch = action.avoid or bool(action.alternatives)
    rxnorm = {a.drug: a.rxnorm for alts in ALTERNATIVES.values() for a in alts}
    named = [Alternative(a, rxnorm.get(a), why) for a in action.alternatives]
    if switch and not named:
        named = ALTERNATIVES.get(rec.drug.lower(), [])
    for alt in named:
        out.append(replace_suggestion(order, alt.drug, alt.rxnorm, alt.source, recommended=not out))
    if action.dose is not None:
        out.append(dose_suggestion(order, rec.drug, action.dose, why, recommended=not out))
    if action.avoid and not named:
        cancel = cancel_suggestion(order, rec.drug, why, recommended=not out)
        if cancel is not None:
            out.append(cancel)
    return out


def _population_rank(rec: Recommendation, population: str | None) -> int:
    pop = (rec.population or "").strip().lower()
    if population and pop and (pop == population.lower() or population.lower() in pop):
        return 0
    if pop in ("", "general"):
        return 1
    if not population and pop == "adults":  # CPIC's default population where a guideline splits by age
        return 2
    return 3


_SOURCE_RANK = {"CPIC": 0, "DPWG": 1}


def group_recommendations(recs: list[Recommendation], population: str | None = None) -> list[list[Recommendation]]:
    """One group per drug–gene pair (recommendations for the same drug whose genes overlap, across sources and
    populations), each ordered best first: the patient's population when known, then CPIC before DPWG, then the
    general population, then CPIC's default "adults"."""
    groups: list[list[Recommendation]] = []
    for rec in recs:
        for g in groups:
            if g[0].drug.lower() == rec.drug.lower() and any(set(r.genes) & set(rec.genes) for r in g):
                g.append(rec)
                break
        else:
            groups.append([rec])
    for g in groups:
        g.sort(key=lambda r: (_population_rank(r, population) > 0, _SOURCE_RANK.get(r.source, 2),
                              _population_rank(r, population)))
    return groups


def finding_for(patient_id: str, rec: Recommendation, phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase,
                medication_request: dict[str, Any] | None = None,
                others: list[Recommendation] | None = None) -> Finding:
    """The Finding for one drug–gene pair: ``rec`` is the recommendation used, ``others`` the ones not chosen
    (other populations or sources), which the detail lists."""
    genes = ", ".join(f"{g} {phenotypes[g].phenotype or phenotypes[g].activity_score or ''}".strip()
                      for g in rec.genes if g in phenotypes)
    summary = f"{rec.drug}: {genes} — {rec.source} guideline applies"
    evidence = [Evidence(label=f"{g} diplotype", value=phenotypes[g].diplotype) for g in rec.genes if g in phenotypes]
    evidence += [Evidence(label=f"{g} phenotype", value=phenotypes[g].phenotype or phenotypes[g].activity_score)
                 for g in rec.genes if g in phenotypes]
    suggestions = order_suggestions(rec, medication_request) if medication_request is not None else []
    population = f" for population '{rec.population}'" if rec.population else ""
    detail = (f"**{rec.source} recommendation**{population} ({rec.classification or 'unclassified'}): {rec.text}\n\n"
              + (f"Implications: {' '.join(rec.implications)}\n\n" if rec.implications else "")
              + f"Guideline: {rec.guideline}. {' '.join(rec.citations)}")
    if others:
        detail += "\n\n**Other recommendations for this drug and genotype:**\n" + "\n".join(
            f"- {o.source}{' (' + o.population + ')' if o.population else ''}, {o.classification or 'unclassified'}: "
            f"{o.text[:300]}{'…' if len(o.text) > 300 else ''}" for o in others)
    version = "; ".join(f"{k} {v[:12]}" for k, v in kb.versions.items()) or "unversioned"
    return Finding(
        patient_id=patient_id, capability="pgx", kind="drug-gene",
        summary=summary[:140], indicator=_indicator(rec), detail=detail, evidence=evidence,
        suggestions=suggestions, source=Source(label=f"{rec.source} via PharmCAT KB", url=rec.url),
        version=version,
    )


def _findings(patient_id: str, recs: list[Recommendation], phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase,
              medication_request: dict[str, Any] | None, population: str | None) -> list[Finding]:
    actionable = [r for r in recs if is_actionable(r, phenotypes)]
    return [finding_for(patient_id, g[0], phenotypes, kb, medication_request, g[1:])
            for g in group_recommendations(actionable, population)]


def findings_for_sample(patient_id: str, phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase,
                        population: str | None = None) -> list[Finding]:
    """One Finding per actionable drug–gene pair."""
    return _findings(patient_id, recommend(kb, phenotypes), phenotypes, kb, None, population)


def assess_order(
    record: Any, medication_request: dict[str, Any], kb: KnowledgeBase | None = None,
    population: str | None = None,
) -> list[Finding]:
    """Findings (one per drug–gene pair) for a drug being ordered, given the patient's known PGx phenotypes.

    ``record`` is a :class:`hygeia.records.PatientRecord` (phenotypes read from its genotype/phenotype
    Observations, population from its age) or any object with ``patient_id`` and ``pgx_phenotypes()``.
    ``population`` (e.g. "adults", "pediatrics") picks among population-specific recommendations.
    """
    if kb is None:
        from hygeia.pgx.kb import cached_kb, default_kb_dir

        kb = cached_kb(str(default_kb_dir()))
    drug = _medication_name(medication_request)
    if hasattr(record, "pgx_phenotypes"):
        patient_id, phenotypes = str(record.patient_id), record.pgx_phenotypes()
    else:
        from hygeia.pgx.patient import record_phenotypes, record_population

        patient_id, phenotypes = str(record.id), record_phenotypes(record)
        population = population or record_population(record)
    return _findings(patient_id, recommend(kb, phenotypes, drug=drug), phenotypes, kb, medication_request, population)


def observation_id(patient_id: str, gene: str, kind: str) -> str:
    """A stable FHIR id (``[A-Za-z0-9.-]{1,64}``) per patient, gene and kind, so re-calling updates in place."""
    raw = re.sub(r"[^A-Za-z0-9.-]", "-", f"pgx-{patient_id}-{gene}-{kind}")
    if len(raw) <= 64:
        return raw
    return f"pgx-{hashlib.sha256(raw.encode()).hexdigest()[:40]}-{kind}"


def fhir_observations(patient_id: str, phenotypes: dict[str, GenePhenotype], kb: KnowledgeBase,
                      issued: str | None = None) -> list[dict[str, Any]]:
    """Genotype and phenotype Observations (HL7 Genomics Reporting IG profiles); ``issued``: an ISO instant."""
    out: list[dict[str, Any]] = []
    when = {"issued": issued, "effectiveDateTime": issued} if issued else {}
    note = [{"text": DECISION_SUPPORT_NOTICE}]
    method = {"text": "Hygeia PGx (PharmCAT-compatible named allele matcher); KB "
                      + ", ".join(f"{k} {v[:12]}" for k, v in kb.versions.items())}
    for gene, p in sorted(phenotypes.items()):
        if not p.diplotype:
            continue
        gene_component = {"code": {"coding": [{"system": LOINC, "code": "48018-6", "display": "Gene studied [ID]"}]},
                          "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId",
                                                               "display": gene}], "text": gene}}
        gid = observation_id(patient_id, gene, "genotype")
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
            "method": method, "note": note, **when,
        })
        if p.phenotype or p.activity_score:
            value = p.phenotype or f"activity score {p.activity_score}"
            comps = [gene_component]
            if p.activity_score:
                comps.append({"code": {"coding": [{"system": PGX_CODES, "code": "activity-score",
                                                   "display": "Activity score"}], "text": "activity score"},
                              "valueString": p.activity_score})
            if p.lookup_key and p.lookup_key not in (p.phenotype, p.activity_score):
                comps.append({"code": {"coding": [{"system": PGX_CODES, "code": "lookup-key",
                                                   "display": "Guideline lookup key"}]},
                              "valueString": p.lookup_key})
            out.append({
                "resourceType": "Observation", "id": observation_id(patient_id, gene, "phenotype"),
                "meta": {"profile": [f"{IG}/StructureDefinition/therapeutic-implication"]},
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "53040-2",
                                     "display": "Genetic variation's effect on drug metabolism"}]},
                "subject": {"reference": f"Patient/{patient_id}"},
                "valueCodeableConcept": {"text": value},
                "derivedFrom": [{"reference": f"Observation/{gid}"}],
                "component": comps, "method": method, "note": note, **when,
            })
    return out
