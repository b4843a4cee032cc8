"""Recommend stage: CPIC and DPWG guideline recommendations matching a sample's phenotypes.

Guidelines are PharmCAT's reporter guideline files (ClinPGx/PharmGKB guideline annotations of
CPIC and DPWG). A recommendation applies when every gene in its ``lookupKey`` matches the
patient's lookup key for that gene (phenotype, activity score or allele status).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.phenotype import GenePhenotype

_TAG = re.compile(r"<[^>]+>")


def strip_html(text: str | None) -> str:
    return html.unescape(_TAG.sub(" ", text or "")).replace("\n", " ").strip()


@dataclass
class Recommendation:
    drug: str
    source: str  # CPIC or DPWG
    guideline: str
    url: str | None
    genes: dict[str, str]  # gene -> lookup key used
    text: str
    classification: str | None
    implications: list[str] = field(default_factory=list)
    population: str | None = None
    alternate_drug: bool = False
    dosing_information: bool = False
    citations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def drugs_of(guideline: dict[str, Any]) -> list[str]:
    g = guideline.get("guideline", {})
    return [str(c.get("name")) for c in g.get("relatedChemicals", [])]


@dataclass(frozen=True)
class _Compiled:
    """A guideline recommendation with its text already cleaned, ready to be matched."""

    lookup: tuple[tuple[str, str], ...]
    drugs: tuple[str, ...]
    source: str
    guideline: str
    url: str | None
    text: str
    classification: str | None
    implications: tuple[str, ...]
    population: str | None
    alternate_drug: bool
    dosing_information: bool
    citations: tuple[str, ...]


def _as_number(value: str | None) -> float | None:
    try:
        x = float(value) if value is not None else None
    except ValueError:
        return None
    return None if x is None or math.isnan(x) else x


def _compile(kb: KnowledgeBase) -> tuple[list[_Compiled], dict[tuple[str, object], list[int]]]:
    """Every recommendation of the KB, and an index (gene, key) → recommendations that want it."""
    cached = kb.cache.get("recommendations")
    if cached is not None:
        return cached
    recs: list[_Compiled] = []
    index: dict[tuple[str, object], list[int]] = {}
    for doc in kb.guidelines:
        g = doc.get("guideline", {})
        cites = tuple(f"PMID:{c['pmid']}" for c in doc.get("citations", []) if c.get("pmid"))
        for rec in doc.get("recommendations", []):
            lookup = rec.get("lookupKey") or {}
            if not lookup:
                continue
            chems = tuple(str(c.get("name")) for c in rec.get("relatedChemicals", [])) or tuple(drugs_of(doc))
            impl = rec.get("implications") or []
            n = len(recs)
            recs.append(_Compiled(
                lookup=tuple((str(gene), str(k)) for gene, k in lookup.items()),
                drugs=chems, source=str(g.get("source", "")), guideline=str(g.get("name", "")), url=g.get("url"),
                text=strip_html((rec.get("text") or {}).get("html")),
                classification=(rec.get("classification") or {}).get("term"),
                implications=tuple(strip_html(i if isinstance(i, str) else str(i)) for i in impl),
                population=rec.get("population"), alternate_drug=bool(rec.get("alternateDrugAvailable")),
                dosing_information=bool(rec.get("dosingInformation")), citations=cites,
            ))
            for gene, k in recs[-1].lookup:
                index.setdefault((gene, k), []).append(n)
                num = _as_number(k)
                if num is not None:
                    index.setdefault((gene, num), []).append(n)
    kb.cache["recommendations"] = (recs, index)
    return recs, index


def _patient_keys(p: GenePhenotype) -> set[object]:
    keys: set[object] = {k for k in (p.lookup_key, p.phenotype, p.activity_score) if k}
    num = _as_number(p.activity_score)
    if num is not None:
        keys.add(num)
    return keys


def recommend(kb: KnowledgeBase, phenotypes: dict[str, GenePhenotype], drug: str | None = None) -> list[Recommendation]:
    """Every CPIC/DPWG recommendation whose lookup keys all match the patient's phenotypes.

    A lookup key matches the patient's lookup key, phenotype or activity score (numerically for scores).
    """
    recs, index = _compile(kb)
    hits: dict[int, set[str]] = {}
    for gene, p in phenotypes.items():
        for key in _patient_keys(p):
            for n in index.get((gene, key), ()):
                hits.setdefault(n, set()).add(gene)
    out: list[Recommendation] = []
    wanted = drug.lower() if drug is not None else None
    for n in sorted(hits):
        c = recs[n]
        if len(hits[n]) != len(c.lookup):
            continue
        for chem in c.drugs:
            if wanted is not None and chem.lower() != wanted:
                continue
            out.append(Recommendation(
                drug=chem, source=c.source, guideline=c.guideline, url=c.url, genes=dict(c.lookup), text=c.text,
                classification=c.classification, implications=list(c.implications), population=c.population,
                alternate_drug=c.alternate_drug, dosing_information=c.dosing_information,
                citations=list(c.citations),
            ))
    out.sort(key=lambda r: (r.drug.lower(), r.source))
    return out


def report_json(sample: str, kb: KnowledgeBase, phenotypes: dict[str, GenePhenotype],
                recs: list[Recommendation]) -> dict[str, Any]:
    return {
        "sample": sample,
        "notice": DECISION_SUPPORT_NOTICE,
        "kb_versions": kb.versions,
        "genes": {g: p.to_json() for g, p in sorted(phenotypes.items())},
        "recommendations": [r.to_json() for r in recs],
    }


def report_tsv(reports: list[dict[str, Any]]) -> str:
    cols = ["sample", "drug", "source", "genes", "classification", "recommendation", "guideline_url"]
    lines = ["\t".join(cols)]
    for rep in reports:
        for r in rep["recommendations"]:
            genes = "; ".join(f"{g}={k}" for g, k in r["genes"].items())
            row = [rep["sample"], r["drug"], r["source"], genes, r["classification"] or "", r["text"], r["url"] or ""]
            lines.append("\t".join(str(c).replace("\t", " ") for c in row))
    return "\n".join(lines) + "\n"


def report_html(reports: list[dict[str, Any]], kb: KnowledgeBase) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Hygeia pharmacogenomics report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}</style></head><body>",
        "<h1>Pharmacogenomics report</h1>",
        f"<p><strong>{e(DECISION_SUPPORT_NOTICE)}</strong></p>",
        "<p>Knowledge base: " + ", ".join(f"{e(k)} {e(v)}" for k, v in kb.versions.items()) + ". Sources: "
        "PharmCAT allele definitions and phenotype tables, CPIC (cpicpgx.org) and DPWG guideline annotations "
        "(ClinPGx/PharmGKB).</p>",
    ]
    for rep in reports:
        parts.append(f"<h2>Sample {e(rep['sample'])}</h2><h3>Genotypes</h3><table>"
                     "<tr><th>Gene</th><th>Diplotype</th><th>Phenotype</th><th>Activity score</th><th>Source</th></tr>")
        for g, p in rep["genes"].items():
            parts.append(f"<tr><td>{e(g)}</td><td>{e(str(p['diplotype'] or 'not called'))}</td>"
                         f"<td>{e(str(p['phenotype'] or ''))}</td><td>{e(str(p['activity_score'] or ''))}</td>"
                         f"<td>{e(p['source'])}</td></tr>")
        parts.append("</table><h3>Recommendations</h3><table><tr><th>Drug</th><th>Source</th><th>Genes</th>"
                     "<th>Strength</th><th>Recommendation</th><th>Implications</th></tr>")
        for r in rep["recommendations"]:
            genes = "; ".join(f"{g}: {k}" for g, k in r["genes"].items())
            link = f"<a href='{e(r['url'])}'>{e(r['source'])}</a>" if r["url"] else e(r["source"])
            parts.append(f"<tr><td>{e(r['drug'])}</td><td>{link}</td><td>{e(genes)}</td>"
                         f"<td>{e(r['classification'] or '')}</td><td>{e(r['text'])}</td>"
                         f"<td>{e(' '.join(r['implications']))}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
