"""Stage 1–2 glue: VCF (+ outside calls) → per-sample match results (PharmCAT's matcher stage)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.matcher import CallMemo, GeneCall, MatchOptions, SampleResult, match_sample
from hygeia.pgx.vcf import VcfData, read_vcf


class OutsideCallError(ValueError):
    """Malformed outside-call TSV; the message names the line."""


@dataclass(frozen=True)
class OutsideCall:
    """A call made by another tool (PharmCAT's outside-call TSV: gene, diplotype, phenotype, activity)."""

    gene: str
    diplotype: str | None
    phenotype: str | None = None
    activity_score: str | None = None


def parse_outside_calls(text: str, name: str = "<outside calls>") -> list[OutsideCall]:
    out: list[OutsideCall] = []
    seen: set[str] = set()
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2 or not cells[0]:
            raise OutsideCallError(f"{name}:{n}: expected GENE<TAB>DIPLOTYPE[<TAB>PHENOTYPE<TAB>ACTIVITY]")
        if len(cells) > 4:
            raise OutsideCallError(f"{name}:{n}: too many columns ({len(cells)}; at most 4)")
        gene = cells[0]
        if gene in seen:
            raise OutsideCallError(f"{name}:{n}: gene {gene} appears twice")
        seen.add(gene)
        cells += [""] * (4 - len(cells))
        if not (cells[1] or cells[2] or cells[3]):
            raise OutsideCallError(f"{name}:{n}: {gene} has no diplotype, phenotype or activity score")
        out.append(OutsideCall(gene, cells[1] or None, cells[2] or None, cells[3] or None))
    return out


def read_outside_calls(path: Path | str) -> list[OutsideCall]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise OutsideCallError(f"{p}: cannot read ({exc})") from exc
    return parse_outside_calls(text, str(p))


def apply_outside_calls(result: SampleResult, outside: list[OutsideCall]) -> SampleResult:
    """Outside calls replace the matcher's call for their gene (as PharmCAT does)."""
    for oc in outside:
        dip = oc.diplotype or ""
        call = GeneCall(oc.gene, diplotypes=[dip] if dip else [], reported=[dip] if dip else [],
                        source="outside")
        if oc.phenotype:
            call.warnings.append(f"outside phenotype: {oc.phenotype}")
        if oc.activity_score:
            call.warnings.append(f"outside activity score: {oc.activity_score}")
        if oc.gene in result.genes and result.genes[oc.gene].called:
            call.warnings.append("outside call overrides the matcher's call")
        result.genes[oc.gene] = call
    return result


def read_sample_data(kb: KnowledgeBase, vcf: Path | str) -> VcfData:
    return read_vcf(vcf, kb.positions().keys(), kb.reference_bases())


def iter_match_vcf(kb: KnowledgeBase, vcf: Path | str, opts: MatchOptions | None = None,
                   outside: list[OutsideCall] | None = None) -> Iterator[SampleResult]:
    """Match every sample of a VCF, one at a time (the file is read once, only at PGx positions)."""
    data = read_sample_data(kb, vcf)
    memo: CallMemo = {}  # samples of this file with the same genotypes at a gene share its call
    for name, calls in zip(data.samples, data.calls, strict=True):
        r = match_sample(kb, name, calls, opts, data.warnings, memo)
        if outside:
            apply_outside_calls(r, outside)
        yield r


def match_vcf(kb: KnowledgeBase, vcf: Path | str, opts: MatchOptions | None = None,
              outside: list[OutsideCall] | None = None) -> list[SampleResult]:
    """Match every sample of a VCF (see :func:`iter_match_vcf`)."""
    return list(iter_match_vcf(kb, vcf, opts, outside))
