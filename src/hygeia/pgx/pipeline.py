"""Stage 1–2 glue: VCF (+ outside calls) → per-sample match results (PharmCAT's matcher stage)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.matcher import CallMemo, GeneCall, MatchOptions, SampleResult, match_sample
from hygeia.pgx.phenotype import GenePhenotype
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


# ---------------------------------------------------------------- stage files (PharmCAT-style, re-runnable)
STAGE_SCHEMA_VERSION = 1
STAGES = ("match", "phenotype")


class StageFileError(ValueError):
    """A stage file that cannot be used; the message names the file and what is wrong."""


def stage_document(stage: str, kb_versions: dict[str, str], notice: str,
                   samples: list[dict[str, Any]]) -> dict[str, Any]:
    """A versioned stage document: the next stage can be re-run from it."""
    return {"stage": stage, "schemaVersion": STAGE_SCHEMA_VERSION, "kb_versions": kb_versions, "notice": notice,
            "samples": samples}


def looks_like_stage_file(head: bytes) -> bool:
    """True when a file's first bytes open JSON (a VCF starts with '#' or the gzip magic)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def parse_stage(text: str, name: str, expected: tuple[str, ...]) -> dict[str, Any]:
    """Parse and validate a stage document: JSON object, known stage in ``expected``, known schema version."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StageFileError(f"{name}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(doc, dict) or "stage" not in doc:
        raise StageFileError(f"{name}: not a Hygeia stage file (no top-level \"stage\" field)")
    stage = doc["stage"]
    if stage not in expected:
        raise StageFileError(f"{name}: stage is {stage!r}, expected {' or '.join(repr(s) for s in expected)}")
    version = doc.get("schemaVersion")
    if version != STAGE_SCHEMA_VERSION:
        raise StageFileError(f"{name}: unknown schemaVersion {version!r} (this Hygeia reads {STAGE_SCHEMA_VERSION})")
    if not isinstance(doc.get("samples"), list):
        raise StageFileError(f"{name}: \"samples\" must be a list")
    if not isinstance(doc.get("kb_versions", {}), dict):
        raise StageFileError(f"{name}: \"kb_versions\" must be an object")
    return doc


def _check(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise StageFileError(f"{where}: {what}")


def _strs(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _sample_entries(doc: dict[str, Any], name: str) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(where, sample name, genes, raw entry) for every sample, checking the common shape."""
    for i, s in enumerate(doc["samples"]):
        where = f"{name}: samples[{i}]"
        _check(isinstance(s, dict) and isinstance(s.get("sample"), str), where, "needs a string \"sample\"")
        _check(isinstance(s.get("genes"), dict), where, "needs an object \"genes\"")
        yield where, s["sample"], s["genes"], s


_CALL_LISTS = ("diplotypes", "reported", "haplotypes", "missing_positions", "warnings")


def match_results_from_stage(doc: dict[str, Any], name: str) -> list[SampleResult]:
    """The match results of a validated match-stage document (see :func:`parse_stage`)."""
    out: list[SampleResult] = []
    for where, sample, genes, raw in _sample_entries(doc, name):
        warnings = raw.get("warnings", [])
        _check(_strs(warnings), where, "\"warnings\" must be a list of strings")
        calls: dict[str, GeneCall] = {}
        for gene, c in genes.items():
            w = f"{where}.genes.{gene}"
            _check(isinstance(c, dict), w, "must be an object")
            for key in _CALL_LISTS:
                _check(_strs(c.get(key, [])), w, f"\"{key}\" must be a list of strings")
            scores = c.get("scores", [])
            _check(isinstance(scores, list) and all(isinstance(x, int) for x in scores), w,
                   "\"scores\" must be a list of integers")
            _check(isinstance(c.get("phased", False), bool) and isinstance(c.get("called", True), bool), w,
                   "\"phased\" and \"called\" must be true or false")
            _check(isinstance(c.get("source", "matcher"), str), w, "\"source\" must be a string")
            calls[gene] = GeneCall(gene, **{k: list(c.get(k, [])) for k in _CALL_LISTS}, scores=list(scores),
                                   phased=c.get("phased", False), source=c.get("source", "matcher"),
                                   called=c.get("called", True))
        out.append(SampleResult(sample, calls, list(warnings)))
    return out


_PH_OPTIONAL = ("diplotype", "phenotype", "activity_score", "lookup_key")


def phenotypes_from_stage(doc: dict[str, Any], name: str) -> list[tuple[str, dict[str, GenePhenotype]]]:
    """(sample, phenotypes per gene) of a validated phenotype-stage document (see :func:`parse_stage`)."""
    out: list[tuple[str, dict[str, GenePhenotype]]] = []
    for where, sample, genes, _ in _sample_entries(doc, name):
        phs: dict[str, GenePhenotype] = {}
        for gene, p in genes.items():
            w = f"{where}.genes.{gene}"
            _check(isinstance(p, dict), w, "must be an object")
            for key in _PH_OPTIONAL:
                _check(p.get(key) is None or isinstance(p.get(key), str), w, f"\"{key}\" must be a string or null")
            _check(_strs(p.get("functions", [])), w, "\"functions\" must be a list of strings")
            _check(isinstance(p.get("source", "matcher"), str), w, "\"source\" must be a string")
            _check(isinstance(p.get("ambiguous", False), bool), w, "\"ambiguous\" must be true or false")
            phs[gene] = GenePhenotype(gene, p.get("diplotype"), p.get("phenotype"), p.get("activity_score"),
                                      list(p.get("functions", [])), p.get("lookup_key"),
                                      p.get("source", "matcher"), p.get("ambiguous", False))
        out.append((sample, phs))
    return out
