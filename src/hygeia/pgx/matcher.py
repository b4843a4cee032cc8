"""Named-allele matcher following PharmCAT's documented semantics (Named Allele Matcher 101/201).

* Each gene's named alleles are matched against every *permutation* (possible strand) of the
  sample's alleles at the definition positions; phased heterozygotes follow their strand (per
  phase set), unphased ones branch both ways.
* Blank definition cells default to the reference allele; IUPAC codes match any of their bases.
* Positions absent from the VCF are *missing*: they are removed from every definition, alleles
  left with no defined position are dropped, and scores count only the positions that remain.
* A haplotype's score is its number of defined positions; a diplotype's score is the sum. The
  candidates are ordered by score, then by name; the top-scoring ones are reported by default.
* DPYD and RYR1 use PharmCAT's lowest-function approach: a diplotype only when the data is
  (effectively) phased, otherwise the list of detected alleles; with several phase sets every
  orientation is named. DPYD HapB3: the intronic c.1129-5923C>G decides per strand, the exonic
  proxy c.1236G>A counts only where the intronic one is missing. CACNA1S, CFTR and RYR1 use
  CPIC-style names (``X (heterozygous)``). G6PD in males (haploid chrX calls) gives one allele.
* ``find_combinations`` (research mode in PharmCAT) builds combination (``[a + b]``) and partial
  (``g.POSref>alt``) alleles when no exact diplotype fits.

This is an independent implementation written from PharmCAT's documentation and behaviour;
no PharmCAT code is copied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations_with_replacement, product

from hygeia.pgx.kb import IUPAC, GeneDefinition, KnowledgeBase
from hygeia.pgx.vcf import Call, SampleCalls

# PharmCAT treats undocumented ALT alleles as reference for these genes (NamedAlleleMatcher 101).
TREAT_UNDOCUMENTED_AS_REFERENCE = frozenset({"CACNA1S", "DPYD", "G6PD", "NUDT15", "RYR1", "TPMT"})
LOWEST_FUNCTION_GENES = frozenset({"DPYD", "RYR1"})
CPIC_STYLE_NAMES = frozenset({"CACNA1S", "CFTR", "RYR1"})
NO_CALL = "Unknown/Unknown"


@dataclass(frozen=True)
class MatchOptions:
    top_candidates_only: bool = True
    find_combinations: bool = False
    skip_genes: frozenset[str] = frozenset({"CYP2D6"})  # PharmCAT expects CYP2D6 as an outside call


@dataclass
class GeneCall:
    """The matcher's result for one gene of one sample."""

    gene: str
    diplotypes: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    haplotypes: list[str] = field(default_factory=list)
    missing_positions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    phased: bool = False
    source: str = "matcher"
    called: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "diplotypes": self.diplotypes,
            "reported": self.reported,
            "scores": self.scores,
            "haplotypes": self.haplotypes,
            "missing_positions": self.missing_positions,
            "warnings": self.warnings,
            "phased": self.phased,
            "source": self.source,
            "called": self.called,
        }


# ---------------------------------------------------------------- names and ordering
_SPLIT = re.compile(r"(\d+)")


def name_key(name: str) -> tuple[object, ...]:
    """Natural order (``*4`` < ``*17``); combinations (``[a + b]``) after single alleles."""
    parts: list[tuple[int, int, str]] = []
    for tok in _SPLIT.split(name):
        if tok.isdigit():
            parts.append((0, int(tok), ""))
        elif tok:
            parts.append((1, 0, tok))
    combo = name.startswith("[")
    return (combo, name.count(" + ") if combo else 0, tuple(parts))


def diplotype_name(a: str, b: str) -> str:
    x, y = sorted((a, b), key=name_key)
    return f"{x}/{y}"


# ---------------------------------------------------------------- per-gene preparation
@dataclass(frozen=True)
class _Hap:
    name: str
    alleles: tuple[str | None, ...]  # over available positions (after missing removal)
    score: int
    reference: bool
    diffs: tuple[tuple[int, str], ...] = ()  # positions where the allele is not the reference's


@dataclass(frozen=True)
class _Prepared:
    idx: tuple[int, ...]  # available locus indices
    haps: tuple[_Hap, ...]
    ref: tuple[str | None, ...] | None = None  # the reference allele's values
    # (position, observed allele) → the non-reference haplotypes whose allele there matches it; filled lazily
    _by_value: dict[tuple[int, str | None], tuple[_Hap, ...]] = field(default_factory=dict, compare=False)

    def matching(self, seq: tuple[str | None, ...], where: Iterable[int] | None = None) -> list[_Hap]:
        """Haplotypes matching a strand; only positions that differ from the reference are compared.

        ``where`` (optional) lists the only positions at which ``seq`` may differ from the reference.
        """
        if self.ref is None:
            return [h for h in self.haps if _matches(h, seq)]
        ref = self.ref
        positions = range(len(ref)) if where is None else where
        diff = [i for i in positions if ref[i] != seq[i]]
        if not diff:  # the strand is the reference: cached
            found = self._by_value.get((-1, None))
            if found is None:
                found = tuple(h for h in self.haps
                              if h.reference or all(_allele_matches(e, ref[i]) for i, e in h.diffs))
                self._by_value[(-1, None)] = found
            return list(found)
        # A matching haplotype must match at the first differing position: look those up, then check fully.
        first = (diff[0], seq[diff[0]])
        cands = self._by_value.get(first)
        if cands is None:
            cands = tuple(h for h in self.haps if not h.reference and _allele_matches(h.alleles[first[0]], first[1]))
            self._by_value[first] = cands
        return [
            h for h in cands
            if all(_allele_matches(e, seq[i]) for i, e in h.diffs)
            and all(_allele_matches(h.alleles[i], seq[i]) for i in diff)
        ]


def _allele_matches(expected: str | None, observed: str | None) -> bool:
    if expected is None:
        return True
    if observed is None:
        return False
    if expected == observed:
        return True
    bases = IUPAC.get(expected)
    return bases is not None and observed in bases


@lru_cache(maxsize=512)
def _prepare(defn: GeneDefinition, available: tuple[int, ...], assume_reference: bool) -> _Prepared:
    ref = defn.reference_allele
    haps: list[_Hap] = []
    for na in defn.alleles:
        vals = [na.alleles[i] for i in available]
        score = sum(v is not None for v in vals)
        if score == 0:
            continue
        if assume_reference and not na.reference:
            filled: list[str | None] = []
            for v, i in zip(vals, available, strict=True):
                if v is None:
                    r = ref.alleles[i]
                    v = defn.loci[i].ref if (r is None or r in IUPAC) else r
                filled.append(v)
            vals = filled
        haps.append(_Hap(na.name, tuple(vals), score, na.reference))
    ref_vals = next((h.alleles for h in haps if h.reference), None)
    if ref_vals is not None:
        haps = [
            _Hap(h.name, h.alleles, h.score, h.reference,
                 tuple((i, v) for i, v in enumerate(h.alleles) if v is not None and v != ref_vals[i]))
            for h in haps
        ]
    return _Prepared(available, tuple(haps), ref_vals)


# ---------------------------------------------------------------- sample permutations
Seq = tuple[str | None, ...]  # one strand: an allele per available position


@dataclass(frozen=True)
class _Sample:
    alleles: tuple[tuple[str | None, ...], ...]  # per available position
    groups: tuple[tuple[int, ...], ...]  # heterozygous positions that flip together
    haploid: bool
    phased_groups: int = 0
    # A gene-specific reading of one strand before it is named (DPYD HapB3, see _hapb3_strand_rule).
    strand_rule: Callable[[Seq], Seq] | None = field(default=None, compare=False)

    def sequences(self) -> list[tuple[str | None, ...]]:
        if self.haploid:
            return [tuple(a[0] for a in self.alleles)]
        seqs = []
        for bits in product((0, 1), repeat=len(self.groups)):
            seq = [a[0] for a in self.alleles]
            for g, b in zip(self.groups, bits, strict=True):
                if b:
                    for i in g:
                        seq[i] = self.alleles[i][1]
            seqs.append(tuple(seq))
        return seqs

    def complement(self, seq: tuple[str | None, ...]) -> tuple[str | None, ...]:
        out = list(seq)
        for g in self.groups:
            for i in g:
                a, b = self.alleles[i][0], self.alleles[i][1]
                out[i] = b if seq[i] == a else a
        return tuple(out)

    @property
    def effectively_phased(self) -> bool:
        return len(self.groups) <= 1

    def read(self, seq: Seq) -> Seq:
        return seq if self.strand_rule is None else self.strand_rule(seq)


def _variable_positions(prep: _Prepared, sample: _Sample) -> list[int] | None:
    """Positions where some sample allele differs from the reference allele (None: compare everywhere)."""
    if prep.ref is None:
        return None
    if sample.haploid:
        return [i for i, (al, r) in enumerate(zip(sample.alleles, prep.ref, strict=True)) if al[0] != r]
    return [i for i, (al, r) in enumerate(zip(sample.alleles, prep.ref, strict=True)) if al[0] != r or al[-1] != r]


def _build_sample(alleles: list[tuple[str | None, ...]], calls: list[Call]) -> _Sample:
    haploid = all(len(a) == 1 for a in alleles)
    groups: dict[str, list[int]] = {}
    singles: list[tuple[int, ...]] = []
    for i in [i for i, a in enumerate(alleles) if len(a) > 1 and a[0] != a[1]]:
        c = calls[i]
        if c.phased:
            groups.setdefault(c.phase_set or "", []).append(i)
        else:
            singles.append((i,))
    all_groups = tuple(tuple(g) for g in groups.values()) + tuple(singles)
    return _Sample(tuple(alleles), all_groups, haploid, len(groups))


# ---------------------------------------------------------------- core matching
def _matches(hap: _Hap, seq: tuple[str | None, ...]) -> bool:
    return all(_allele_matches(e, o) for e, o in zip(hap.alleles, seq, strict=True))


@dataclass(frozen=True)
class _Dip:
    a: str
    b: str
    score: int

    @property
    def name(self) -> str:
        return diplotype_name(self.a, self.b)


def _sort_dips(dips: Iterable[_Dip]) -> list[_Dip]:
    uniq: dict[str, _Dip] = {}
    for d in dips:
        if d.name not in uniq or uniq[d.name].score < d.score:
            uniq[d.name] = d
    return sorted(
        uniq.values(), key=lambda d: (-d.score, *sorted((name_key(d.a), name_key(d.b))))
    )


def exact_diplotypes(prep: _Prepared, sample: _Sample) -> list[_Dip]:
    """All diplotypes whose two haplotypes explain complementary strands exactly."""
    seqs = sample.sequences()
    where = _variable_positions(prep, sample)
    matched: dict[str, tuple[_Hap, set[tuple[str | None, ...]]]] = {}
    for s in seqs:
        for hap in prep.matching(sample.read(s), where):
            matched.setdefault(hap.name, (hap, set()))[1].add(s)
    if len(seqs) == 1:
        names = sorted(matched, key=name_key)
        return [
            _Dip(x, y, matched[x][0].score + matched[y][0].score)
            for x, y in combinations_with_replacement(names, 2)
        ]
    dips = []
    for x, y in combinations_with_replacement(sorted(matched, key=name_key), 2):
        hx, sx = matched[x]
        hy, sy = matched[y]
        if x == y and len(sx) < 2:
            continue
        if any(sample.complement(s) in sy for s in sx):
            dips.append(_Dip(x, y, hx.score + hy.score))
    return _sort_dips(dips)


def _combination_name(prep: _Prepared, ref_seq: tuple[str | None, ...], seq: tuple[str | None, ...],
                      defn: GeneDefinition, partials: bool) -> tuple[str, int, int] | None:
    """Name a strand as one allele, a combination ``[a + b]`` or with partials; None if impossible."""
    variant = {i for i, (r, s) in enumerate(zip(ref_seq, seq, strict=True)) if s is not None and s != r}
    if not variant:
        ref = next(h for h in prep.haps if h.reference)
        return ref.name, ref.score, 0
    cands = []
    for hap in prep.haps:
        if hap.reference:
            continue
        hv = {i for i, v in enumerate(hap.alleles) if v is not None and v != ref_seq[i]}
        if hv and hv <= variant and _matches(hap, seq):
            cands.append((hap, hv))
    cands.sort(key=lambda t: (-len(t[1]), name_key(t[0].name)))
    chosen: list[_Hap] = []
    covered: set[int] = set()
    for hap, hv in cands:
        if not hv & covered:
            chosen.append(hap)
            covered |= hv
    rest = sorted(variant - covered)
    if rest and not partials:
        return None
    names = [h.name for h in chosen]
    for i in rest:
        locus = defn.loci[prep.idx[i]]
        names.append(f"g.{locus.position}{locus.ref}>{seq[i]}")
    names.sort(key=name_key)
    score = sum(h.score for h in chosen)
    name = names[0] if len(names) == 1 else "[" + " + ".join(names) + "]"
    return name, score, len(names)


def combination_diplotypes(prep: _Prepared, sample: _Sample, defn: GeneDefinition, partials: bool) -> list[_Dip]:
    ref_hap = next((h for h in prep.haps if h.reference), None)
    if ref_hap is None:
        return []
    ref_seq = ref_hap.alleles
    seqs = sample.sequences()
    dips = []
    seen: set[tuple[str | None, ...]] = set()
    for s in seqs:
        if s in seen:
            continue
        c = sample.complement(s)
        seen.update((s, c))
        n1 = _combination_name(prep, ref_seq, sample.read(s), defn, partials)
        n2 = _combination_name(prep, ref_seq, sample.read(c), defn, partials)
        if n1 is None or n2 is None:
            continue
        dips.append(_Dip(n1[0], n2[0], n1[1] + n2[1] - n1[2] - n2[2]))
    return _sort_dips(dips)


def _detected_alleles(prep: _Prepared, sample: _Sample) -> list[str]:
    """Lowest-function genes, unphased: every allele seen on some strand; ``(homozygous)`` marks both."""
    seqs = sample.sequences()
    where = _variable_positions(prep, sample)
    hit = {h.name for s in seqs for h in prep.matching(sample.read(s), where)}
    found = [h for h in prep.haps if h.name in hit]
    if len(found) > 2:
        found = [h for h in found if not h.reference]
    ref_hap = next((h for h in prep.haps if h.reference), None)
    out = []
    for h in sorted(found, key=lambda x: name_key(x.name)):
        hom = False
        if not h.reference and ref_hap is not None:
            pos = [i for i, v in enumerate(h.alleles) if v is not None and v != ref_hap.alleles[i]]
            hom = bool(pos) and all(
                len(sample.alleles[i]) > 1 and sample.alleles[i][0] == sample.alleles[i][1] for i in pos
            )
        out.append(f"{h.name} (homozygous)" if hom else h.name)
    return out


def cpic_style(gene: str, diplotype: str, reference: str) -> str:
    """CACNA1S/CFTR/RYR1 print ``X (heterozygous)`` for reference/X (PharmCAT reporter convention)."""
    if gene not in CPIC_STYLE_NAMES or "/" not in diplotype:
        return diplotype
    parts = _split_dip(diplotype)
    if len(parts) != 2:
        return diplotype
    a, b = parts
    if a == reference and b != reference:
        return f"{b} (heterozygous)"
    if b == reference and a != reference:
        return f"{a} (heterozygous)"
    return diplotype


def _parent_names(defn: GeneDefinition, diplotype: str) -> str:
    """Report sub-alleles (e.g. SLCO1B1 ``*45.001``) under their parent allele name."""
    if not defn.suballeles:
        return diplotype
    return "/".join(defn.suballeles.get(p, p) for p in _split_dip(diplotype))


def _split_dip(d: str) -> list[str]:
    """Split ``a/b`` at the top-level slash (names in brackets may not contain one, but be safe)."""
    depth = 0
    for i, ch in enumerate(d):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "/" and depth == 0:
            return [d[:i], d[i + 1:]]
    return [d]


# ---------------------------------------------------------------- gene entry point
@dataclass(frozen=True)
class _GeneIndex:
    """Per-definition lookups computed once: VCF keys, documented alleles and labels of each locus."""

    keys: tuple[tuple[str, int], ...]
    documented: tuple[frozenset[str], ...]
    labels: tuple[str, ...]


_GENE_INDEX: dict[GeneDefinition, _GeneIndex] = {}  # GeneDefinition hashes by identity


def _gene_index(defn: GeneDefinition) -> _GeneIndex:
    found = _GENE_INDEX.get(defn)
    if found is None:
        documented = []
        for i, locus in enumerate(defn.loci):
            vals = {locus.ref, *locus.alts}
            vals.update(a.alleles[i] for a in defn.alleles if a.alleles[i] is not None)  # type: ignore[misc]
            documented.append(frozenset(vals))
        labels = tuple(f"{lc.chrom}:{lc.position}" + (f" ({lc.rsid})" if lc.rsid else "") for lc in defn.loci)
        found = _GeneIndex(tuple((lc.chrom, lc.position) for lc in defn.loci), tuple(documented), labels)
        if len(_GENE_INDEX) > 4096:  # many KBs loaded in one process (tests): start again
            _GENE_INDEX.clear()
        _GENE_INDEX[defn] = found
    return found


# DPYD HapB3: c.1236G>A (rs56038477) is the exonic tag of the HapB3 haplotype, which carries the
# intronic c.1129-5923C>G (rs75017182) on the same strand (CPIC DPYD guideline 2017, Amstutz et al.).
HAPB3_EXON_RSID = "rs56038477"
HAPB3_INTRON_RSID = "rs75017182"


def _infer_hapb3_intron(defn: GeneDefinition, available: list[int], alleles: list[tuple[str | None, ...]]) -> None:
    """Where a strand carries the HapB3 exonic variant and its intronic allele is missing, infer it."""
    where = {defn.loci[i].rsid: k for k, i in enumerate(available)}
    ex, intr = where.get(HAPB3_EXON_RSID), where.get(HAPB3_INTRON_RSID)
    if ex is None or intr is None:
        return
    ex_locus, in_locus = defn.loci[available[ex]], defn.loci[available[intr]]
    if not in_locus.alts:
        return
    ea, ia = list(alleles[ex]), list(alleles[intr])
    if len(ea) != len(ia):
        return
    for k in range(len(ia)):
        if ea[k] is not None and ea[k] != ex_locus.ref and ia[k] is None:
            ia[k] = in_locus.alts[0]
    alleles[intr] = tuple(ia)


CallMemo = dict[tuple[object, ...], GeneCall]


def _hapb3_strand_rule(defn: GeneDefinition, available: list[int]) -> Callable[[Seq], Seq] | None:
    """PharmCAT's DPYD HapB3 rule for one strand (PharmCAT 2.8 DPYD matcher, pharmcat.org "Gene Definition
    Exceptions"; CPIC DPYD 2017): the intronic c.1129-5923C>G is the causal HapB3 variant. Where it is called
    on a strand it decides, and the exonic proxy c.1236G>A on a strand whose intronic allele is the reference
    is ignored (read as reference). Where it is missing, the exonic variant stands for it
    (:func:`_infer_hapb3_intron`)."""
    where = {defn.loci[i].rsid: k for k, i in enumerate(available)}
    ex, intr = where.get(HAPB3_EXON_RSID), where.get(HAPB3_INTRON_RSID)
    if ex is None or intr is None:
        return None
    ex_ref, in_ref = defn.loci[available[ex]].ref, defn.loci[available[intr]].ref

    def rule(seq: Seq) -> Seq:
        if seq[intr] == in_ref and seq[ex] != ex_ref:
            return (*seq[:ex], ex_ref, *seq[ex + 1:])
        return seq

    return rule


def call_gene(defn: GeneDefinition, calls: Mapping[tuple[str, int], Call], opts: MatchOptions,
              memo: CallMemo | None = None) -> GeneCall:
    """Call one gene from one sample's genotypes (keyed by (chrom, position)).

    ``memo`` (optional) shares results between samples with the same genotypes at this gene's positions.
    It is keyed on the identity of the :class:`Call` objects (the VCF reader gives equal genotypes of a
    file one shared object), so it must not outlive the calls it was filled from.
    """
    index = _gene_index(defn)
    found = calls.gather(index.keys) if isinstance(calls, SampleCalls) else [calls.get(k) for k in index.keys]
    if memo is None:
        return _call_gene(defn, index, found, opts)
    key = (defn, opts, *map(id, found))
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = _call_gene(defn, index, found, opts)
    return GeneCall(hit.gene, list(hit.diplotypes), list(hit.reported), list(hit.scores), list(hit.haplotypes),
                    list(hit.missing_positions), list(hit.warnings), hit.phased, hit.source, hit.called)


def _call_gene(defn: GeneDefinition, index: _GeneIndex, found: list[Call | None], opts: MatchOptions) -> GeneCall:
    gene = defn.gene
    result = GeneCall(gene)
    partial_missing = False
    as_ref = gene in TREAT_UNDOCUMENTED_AS_REFERENCE and (
        not opts.find_combinations or gene in LOWEST_FUNCTION_GENES)
    lowest = gene in LOWEST_FUNCTION_GENES
    ignored = defn.ignored_positions
    result.missing_positions = [
        index.labels[i] for i, c in enumerate(found) if c is None and defn.loci[i].position not in ignored
    ]
    available = [i for i, c in enumerate(found) if c is not None]
    sample_calls = [c for c in found if c is not None]
    sample_alleles = [c.alleles for c in sample_calls]
    documented = index.documented
    odd = [k for k, (i, al) in enumerate(zip(available, sample_alleles, strict=True))
           if None in al or not documented[i].issuperset(al)]
    for k in odd:  # missing or undocumented alleles
        i = available[k]
        locus = defn.loci[i]
        fixed = list(sample_alleles[k])
        for j, a in enumerate(fixed):
            if a is None:
                if lowest and len(fixed) > 1:
                    # PharmCAT's lowest-function callers read a missing strand allele as reference
                    # (done below, after the HapB3 inference).
                    result.warnings.append(f"{locus.chrom}:{locus.position}: missing allele read as reference")
                else:
                    partial_missing = True
            elif a not in documented[i]:
                result.warnings.append(
                    f"{locus.chrom}:{locus.position}: undocumented allele {a}"
                    + (" treated as reference" if as_ref else "")
                )
                if as_ref:
                    fixed[j] = locus.ref
        sample_alleles[k] = tuple(fixed)
    if gene == "DPYD":
        _infer_hapb3_intron(defn, available, sample_alleles)
    if lowest:
        sample_alleles = [
            tuple(defn.loci[i].ref if a is None else a for a in al) if len(al) > 1 and None in al else al
            for i, al in zip(available, sample_alleles, strict=True)
        ]
    if not available:
        result.called = False
        result.reported = [NO_CALL]
        return result
    sample = _build_sample(sample_alleles, sample_calls)
    if gene == "DPYD":
        sample = replace(sample, strand_rule=_hapb3_strand_rule(defn, available))
    result.phased = sample.effectively_phased
    if partial_missing and not opts.find_combinations:
        result.warnings.append("a genotype is partly missing (e.g. 0/.); gene not called")
        result.called = False
        result.reported = [NO_CALL]
        return result
    avail = tuple(available)
    reference = defn.reference_allele.name
    dips: list[_Dip]
    if sample.haploid:
        prep = _prepare(defn, avail, True)
        seq = sample.sequences()[0]
        haps = sorted(prep.matching(seq, _variable_positions(prep, sample)), key=lambda h: (-h.score, name_key(h.name)))
        if opts.top_candidates_only and haps:
            haps = [h for h in haps if h.score == haps[0].score]
        result.diplotypes = [h.name for h in haps]
        result.scores = [h.score for h in haps]
        result.reported = list(result.diplotypes) or [NO_CALL]
        result.called = bool(haps)
        return result
    if gene in LOWEST_FUNCTION_GENES:
        dips = []
        if sample.effectively_phased:
            dips = exact_diplotypes(_prepare(defn, avail, True), sample)
        if not dips and (sample.effectively_phased or sample.phased_groups > 1):
            dips = combination_diplotypes(_prepare(defn, avail, False), sample, defn, partials=False)
        if not dips:
            result.haplotypes = _detected_alleles(_prepare(defn, avail, False), sample)
            result.reported = list(result.haplotypes) or [NO_CALL]
            result.called = bool(result.haplotypes)
            return result
    else:
        dips = exact_diplotypes(_prepare(defn, avail, True), sample)
        if not dips and opts.find_combinations:
            dips = combination_diplotypes(_prepare(defn, avail, False), sample, defn, partials=True)
        if opts.top_candidates_only and dips:
            dips = [d for d in dips if d.score == dips[0].score]
    result.diplotypes = [d.name for d in dips]
    result.scores = [d.score for d in dips]
    result.reported = [cpic_style(gene, _parent_names(defn, d), reference) for d in result.diplotypes] or [NO_CALL]
    result.called = bool(dips)
    return result


@dataclass
class SampleResult:
    sample: str
    genes: dict[str, GeneCall]
    warnings: list[str] = field(default_factory=list)
    sex: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "sample": self.sample,
            "warnings": self.warnings,
            "genes": {g: c.to_json() for g, c in self.genes.items()},
        }


def match_sample(kb: KnowledgeBase, sample: str, calls: Mapping[tuple[str, int], Call],
                 opts: MatchOptions | None = None, warnings: list[str] | None = None,
                 memo: CallMemo | None = None) -> SampleResult:
    """Call every gene of one sample. ``memo``: see :func:`call_gene` (``match_vcf`` passes one per file)."""
    opts = opts or MatchOptions()
    genes = {
        g: call_gene(d, calls, opts, memo)
        for g, d in sorted(kb.definitions.items())
        if g not in opts.skip_genes
    }
    return SampleResult(sample, genes, list(warnings or []))
