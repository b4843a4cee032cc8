"""Phenotype stage: allele function, activity score and phenotype per gene (PharmCAT's Phenotyper).

Looks each reported diplotype up in the gene's phenotype table (PharmCAT ``phenotype/*.json``,
built from CPIC allele functionality and diplotype–phenotype tables). Lowest-function genes
(DPYD, RYR1) combine the two lowest-function alleles, as CPIC's DPYD guideline prescribes
(Amstutz et al., Clin Pharmacol Ther 2018;103:210–216): the DPYD activity score is the sum of the
two lowest allele activity values. G6PD in males uses the single allele's function.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.matcher import GeneCall, SampleResult, _split_dip

_HOM = " (homozygous)"
_HET = " (heterozygous)"


@dataclass
class GenePhenotype:
    """The phenotype of one gene: the diplotype used, functions, activity score, phenotype, lookup key."""

    gene: str
    diplotype: str | None
    phenotype: str | None
    activity_score: str | None = None
    functions: list[str] = field(default_factory=list)
    lookup_key: str | None = None
    source: str = "matcher"
    ambiguous: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _components(name: str) -> list[str]:
    name = name.removesuffix(_HOM).removesuffix(_HET)
    if name.startswith("[") and name.endswith("]"):
        return [p.strip() for p in name[1:-1].split(" + ")]
    return [name]


def _value(table: dict[str, Any], allele: str) -> float | None:
    v = table.get("activityValues", {}).get(allele) or table.get("haplotypes", {}).get(allele)
    try:
        return float(v) if v is not None else None
    except (TypeError, ValueError):
        return None


_FUNCTIONS: dict[int, tuple[dict[str, Any], dict[str, str | None]]] = {}


def _function(table: dict[str, Any], allele: str) -> str | None:
    cached = _FUNCTIONS.get(id(table))
    if cached is None or cached[0] is not table:
        by_name: dict[str, str | None] = {}
        for na in table.get("namedAlleles", []):
            by_name.setdefault(str(na.get("name")), str(na.get("functionValue") or "") or None)
        cached = (table, by_name)
        _FUNCTIONS[id(table)] = cached
    return cached[1].get(allele)


def _lowest(table: dict[str, Any], names: list[str]) -> str:
    """The lowest-activity allele among combination components (unknown values rank last)."""
    return min(names, key=lambda n: _rank(table, n))


def _rank(table: dict[str, Any], allele: str) -> float:
    v = _value(table, allele)
    return 9.0 if v is None else v


_INDEX: dict[int, tuple[dict[str, Any], dict[frozenset[tuple[str, int]], dict[str, Any]]]] = {}


def _lookup(table: dict[str, Any], alleles: list[str]) -> dict[str, Any] | None:
    cached = _INDEX.get(id(table))
    if cached is None or cached[0] is not table:
        index = {frozenset(Counter(r.get("diplotypekey", {})).items()): r for r in table.get("diplotypes", [])}
        cached = (table, index)
        _INDEX[id(table)] = cached
    rec = cached[1].get(frozenset(Counter(alleles).items()))
    return dict(rec) if rec is not None else None


def _fmt_score(x: float) -> str:
    return f"{x:.1f}" if x * 10 == int(x * 10) else f"{x:g}"


def phenotype_gene(kb: KnowledgeBase, call: GeneCall, source: str = "CPIC") -> GenePhenotype:
    """The phenotype of one gene call (memoised per KB on what the call says)."""
    key = (source, call.gene, call.source, call.called, tuple(call.haplotypes), tuple(call.diplotypes[:1]),
           call.reported[0] if call.reported else None, len(call.reported) > 1,
           tuple(call.warnings) if call.source == "outside" else ())
    memo: dict[tuple[object, ...], GenePhenotype] = kb.cache.setdefault("phenotype_memo", {})
    found = memo.get(key)
    if found is None:
        found = _phenotype_gene(kb, call, source)
        if len(memo) > 100_000:
            memo.clear()
        memo[key] = found
    return replace(found, functions=list(found.functions))


def _phenotype_gene(kb: KnowledgeBase, call: GeneCall, source: str) -> GenePhenotype:
    gene = call.gene
    table = kb.phenotypes.get(f"{source}:{gene}") or kb.phenotypes.get(f"CPIC:{gene}") or {}
    out = GenePhenotype(gene, None, None, source=call.source)
    if call.source == "outside":
        for w in call.warnings:
            if w.startswith("outside phenotype: "):
                out.phenotype = w.split(": ", 1)[1]
                out.lookup_key = out.phenotype
            if w.startswith("outside activity score: "):
                out.activity_score = w.split(": ", 1)[1]
                out.lookup_key = out.activity_score
    if not call.called and call.source != "outside":
        return out
    alleles: list[str]
    if call.haplotypes:  # lowest-function, unphased: the two lowest-function alleles
        expanded: list[str] = []
        for h in call.haplotypes:
            expanded += [h.removesuffix(_HOM)] * (2 if h.endswith(_HOM) else 1)
        ranked = sorted(expanded, key=lambda n: _rank(table, n))
        alleles = ranked[:2] if len(ranked) >= 2 else [*ranked, str(table and _ref_name(table))]
        out.diplotype = "/".join(alleles)
    else:
        reported = call.reported[0] if call.reported else None
        dip = call.diplotypes[0] if call.diplotypes else reported
        if dip is None:
            return out
        out.ambiguous = len(call.reported) > 1
        parts = _split_dip(dip)
        alleles = [_lowest(table, _components(p)) if p.startswith("[") else p for p in parts]
        if len(parts) == 1 and call.source != "outside" and gene != "G6PD":
            alleles = parts
        out.diplotype = "/".join(alleles)
    subs = kb.definitions[gene].suballeles if gene in kb.definitions else {}
    alleles = [subs.get(a, a) for a in alleles]
    out.functions = [f for f in (_function(table, a) or _supplement(kb, gene, a) or "Unknown" for a in alleles)]
    rec = _lookup(table, alleles) if table else None
    if rec is not None:
        out.phenotype = out.phenotype or rec.get("phenotype") or rec.get("generesult")
        out.activity_score = out.activity_score or rec.get("activityScore")
        out.lookup_key = out.lookup_key or rec.get("lookupkey")
    else:
        vals = [_value(table, a) for a in alleles]
        if vals and all(v is not None for v in vals) and table.get("activityValues"):
            out.activity_score = out.activity_score or _fmt_score(sum(v for v in vals if v is not None))
            out.lookup_key = out.lookup_key or out.activity_score
        out.phenotype = out.phenotype or _rule_phenotype(gene, out.functions)
    return out


def _rule_phenotype(gene: str, functions: list[str]) -> str | None:
    """RYR1 and G6PD phenotypes from allele functions (supplement tables; CPIC RYR1/CACNA1S 2019,
    Gonsalves et al.; CPIC G6PD 2022, Gammal et al.)."""
    if gene == "RYR1":
        if any("Malignant Hyperthermia associated" in f for f in functions):
            return "Malignant Hyperthermia Susceptibility"
        return "Uncertain Susceptibility"
    if gene == "G6PD" and functions:
        plain = [f.split("/", 1)[-1].strip() for f in functions]
        if len(plain) == 1:  # males (hemizygous): the allele's function without the WHO class
            return plain[0]
        deficient = sum("Deficient" in f for f in plain)
        if deficient == 0 and all(f == "Normal" for f in plain):
            return "Normal"
        if deficient == 2:
            return "Deficient with CNSHA" if all("CNSHA" in f for f in plain) else "Deficient"
        return "Variable"
    return None


def _ref_name(table: dict[str, Any]) -> str:
    nas = table.get("namedAlleles", [])
    return str(nas[0]["name"]) if nas else "Reference"


def _supplement(kb: KnowledgeBase, gene: str, allele: str) -> str | None:
    return kb.function_tables.get(gene, {}).get(allele)


def phenotype_sample(kb: KnowledgeBase, result: SampleResult) -> dict[str, GenePhenotype]:
    return {g: phenotype_gene(kb, c) for g, c in result.genes.items()}
