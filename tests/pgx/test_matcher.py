from __future__ import annotations

from dataclasses import replace

from hygeia.pgx.kb import GeneDefinition
from hygeia.pgx.matcher import MatchOptions, call_gene, cpic_style, name_key
from hygeia.pgx.vcf import Call

TOP = MatchOptions()
ALL = MatchOptions(top_candidates_only=False)


def calls(g100: str, g200: str, g300: str | None = "A/A") -> dict[tuple[str, int], Call]:
    out = {}
    for pos, gt in ((100, g100), (200, g200), (300, g300)):
        if gt is None:
            continue
        sep = "|" if "|" in gt else "/"
        out[("chr1", pos)] = Call(tuple(gt.split(sep)), sep == "|")
    return out


def test_reference(gene: GeneDefinition) -> None:
    assert call_gene(gene, calls("C/C", "G/G"), TOP).diplotypes == ["*1/*1"]


def test_het_and_hom(gene: GeneDefinition) -> None:
    assert call_gene(gene, calls("C/T", "G/G"), TOP).diplotypes == ["*1/*2"]
    assert call_gene(gene, calls("T/T", "G/G"), TOP).diplotypes == ["*2/*2"]


def test_unphased_ambiguity_scored_and_ordered(gene: GeneDefinition) -> None:
    # T at rs1 and A at rs2, unphased: *2/*3 (score 2) only, since *1 cannot pair with a 2-variant strand
    got = call_gene(gene, calls("C/T", "G/A"), ALL)
    assert got.diplotypes == ["*2/*3"]
    # *4 = rs1 T + rs3 G; unphased het at both: *1/*4 (1+... ) ranks by score
    got = call_gene(gene, calls("C/T", "G/G", "A/G"), ALL)
    assert got.diplotypes[0] == "*1/*4"


def test_phased_strands(gene: GeneDefinition) -> None:
    assert call_gene(gene, calls("C|T", "A|G"), TOP).diplotypes == ["*2/*3"]


def test_missing_position_lowers_certainty(gene: GeneDefinition) -> None:
    got = call_gene(gene, calls("C/T", "G/G", None), ALL)
    assert got.missing_positions == ["chr1:300 (rs3)"]
    # *4 reduced to rs1 can no longer be told from *2: both are candidates, equally scored
    assert got.diplotypes == ["*1/*2", "*1/*4"]
    assert call_gene(gene, calls("C/T", "G/G"), ALL).diplotypes == ["*1/*2"]


def test_no_data_is_no_call(gene: GeneDefinition) -> None:
    got = call_gene(gene, {}, TOP)
    assert not got.called and got.reported == ["Unknown/Unknown"]


def test_undocumented_allele_no_call_unless_treated_as_reference(gene: GeneDefinition) -> None:
    assert not call_gene(gene, calls("C/G", "G/G"), TOP).called
    tpmt = replace(gene, gene="TPMT")
    assert call_gene(tpmt, calls("C/G", "G/G"), TOP).diplotypes == ["*1/*1"]


def test_lowest_function_unphased_lists_alleles(gene: GeneDefinition) -> None:
    dpyd = replace(gene, gene="DPYD")
    got = call_gene(dpyd, calls("C/T", "G/A", "A/A"), TOP)
    assert got.haplotypes == ["*2", "*3"]
    got = call_gene(dpyd, calls("T/T", "G/A", "A/G"), TOP)
    assert got.haplotypes == ["*2 (homozygous)", "*3", "*4"]
    # one heterozygote is effectively phased: a strand-wise diplotype with a combination
    assert call_gene(dpyd, calls("T/T", "G/A", "A/A"), TOP).diplotypes == ["*2/[*2 + *3]"]


def test_haploid_male(gene: GeneDefinition) -> None:
    x = {("chr1", 100): Call(("T",), False), ("chr1", 200): Call(("G",), False), ("chr1", 300): Call(("A",), False)}
    assert call_gene(gene, x, TOP).diplotypes == ["*2"]


def test_combinations(gene: GeneDefinition) -> None:
    got = call_gene(gene, calls("C|T", "G|A"), MatchOptions(find_combinations=True))
    assert got.diplotypes == ["*1/[*2 + *3]"]


def test_names() -> None:
    assert sorted(["*17", "*4", "*1", "[*2 + *3]"], key=name_key) == ["*1", "*4", "*17", "[*2 + *3]"]
    assert cpic_style("RYR1", "Reference/c.1A>G", "Reference") == "c.1A>G (heterozygous)"
    assert cpic_style("DPYD", "Reference/c.1A>G", "Reference") == "Reference/c.1A>G"
