"""Synthetic genotypes at PharmCAT's positions: star alleles drawn by ancestry, written as a VCF.

Knowledge (allele definitions and frequencies, with sources) is in ``data/pgx_alleles.json``. The
positions come from PharmCAT's ``pharmcat_positions.vcf``; every position not touched by a
planted allele is homozygous reference. Genotypes are phased (``0|1``) so the planted diplotype is
unambiguous. Pure apart from :func:`load_allele_table` (reads the packaged data file).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any


class PositionsError(ValueError):
    """The positions VCF is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Position:
    chrom: str
    pos: int
    rsid: str
    ref: str
    alts: tuple[str, ...]
    info: str


@dataclass(frozen=True)
class Positions:
    header: tuple[str, ...]  # '##' lines worth keeping (contigs, INFO, FILTER)
    rows: tuple[Position, ...]


@dataclass(frozen=True)
class GeneTable:
    gene: str
    default: str
    alleles: dict[str, dict[str, str]]  # allele -> {rsid: allele base(s)}
    frequencies: dict[str, dict[str, float]]  # ancestry -> {allele: frequency}
    source: str


@dataclass(frozen=True)
class AlleleTable:
    genes: dict[str, GeneTable]
    outside: dict[str, GeneTable]  # genes given as PharmCAT outside calls (no VCF variants)
    unavailable: dict[str, tuple[str, ...]]  # gene -> alleles the positions file cannot represent


def parse_positions(text: str, source: str) -> Positions:
    """Parse a sites-only VCF such as PharmCAT's positions file."""
    header: list[str] = []
    rows: list[Position] = []
    seen_columns = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("##"):
            if line.startswith(("##contig", "##INFO", "##FILTER")):
                header.append(line)
            continue
        if line.startswith("#"):
            if not line.startswith("#CHROM"):
                raise PositionsError(f"{source}:{number}: expected the '#CHROM' column header line")
            seen_columns = True
            continue
        if not seen_columns:
            raise PositionsError(f"{source}:{number}: data line before the '#CHROM' header line")
        cols = line.split("\t")
        if len(cols) < 8:
            raise PositionsError(f"{source}:{number}: expected at least 8 tab-separated columns, got {len(cols)}")
        if not cols[1].isdigit():
            raise PositionsError(f"{source}:{number}: POS must be a positive integer, got {cols[1]!r}")
        if not re.fullmatch(r"[ACGTN]+", cols[3]):
            raise PositionsError(f"{source}:{number}: REF must be bases A/C/G/T/N, got {cols[3]!r}")
        alts = tuple(a for a in cols[4].split(",") if a not in (".", ""))
        rows.append(Position(cols[0], int(cols[1]), cols[2], cols[3], alts, cols[7]))
    if not rows:
        raise PositionsError(f"{source}: no positions found (is this PharmCAT's pharmcat_positions.vcf?)")
    return Positions(tuple(header), tuple(rows))


def _gene(name: str, raw: dict[str, Any], ancestries: list[str]) -> GeneTable:
    alleles = {str(k): {str(r): str(b) for r, b in v.items()} for k, v in raw.get("alleles", {}).items()}
    freqs: dict[str, dict[str, float]] = {}
    for anc in ancestries:
        f = {str(k): float(v) for k, v in raw["frequencies"][anc].items()}
        if sum(f.values()) > 1.0 + 1e-9:
            raise ValueError(f"pgx_alleles.json: {name} frequencies for {anc} sum to more than 1")
        freqs[anc] = f
    return GeneTable(name, str(raw["default"]), alleles, freqs, str(raw.get("source", "")))


def load_allele_table(positions: Positions) -> AlleleTable:
    """The packaged allele table, keeping only alleles whose variants the positions file holds."""
    raw = json.loads(resources.files("hygeia.synth").joinpath("data/pgx_alleles.json").read_text("utf-8"))
    ancestries = list(raw["ancestries"])
    by_rsid = {p.rsid: p for p in positions.rows}
    genes: dict[str, GeneTable] = {}
    unavailable: dict[str, tuple[str, ...]] = {}
    for name, g in raw["genes"].items():
        table = _gene(name, g, ancestries)
        bad = tuple(
            a
            for a, variants in table.alleles.items()
            if any(r not in by_rsid or b not in (by_rsid[r].ref, *by_rsid[r].alts) for r, b in variants.items())
        )
        if table.default in bad:
            unavailable[name] = tuple(table.alleles)
            continue
        if bad:
            unavailable[name] = bad
            table = GeneTable(
                name,
                table.default,
                {a: v for a, v in table.alleles.items() if a not in bad},
                {anc: {a: f for a, f in fr.items() if a not in bad} for anc, fr in table.frequencies.items()},
                table.source,
            )
        genes[name] = table
    outside = {name: _gene(name, g, ancestries) for name, g in raw.get("outside_calls", {}).items()}
    return AlleleTable(genes, outside, unavailable)


def _draw(rng: random.Random, table: GeneTable, ancestry: str) -> str:
    freqs = table.frequencies.get(ancestry) or next(iter(table.frequencies.values()))
    r = rng.random()
    acc = 0.0
    for allele, f in freqs.items():
        acc += f
        if r < acc:
            return allele
    return table.default


def allele_order(table: GeneTable, allele: str) -> tuple[int, int, str]:
    """Sort key: the default allele first, then by the first number in the name (``*2`` < ``*17``)."""
    if allele == table.default:
        return (0, 0, allele)
    m = re.search(r"\d+", allele)
    return (1, int(m.group()) if m else 0, allele)


def diplotype(table: GeneTable, a: str, b: str) -> str:
    return "/".join(sorted((a, b), key=lambda x: allele_order(table, x)))


def draw_haplotypes(rng: random.Random, table: AlleleTable, ancestry: str) -> dict[str, tuple[str, str]]:
    """Two haplotypes (star alleles) per gene, VCF genes first then outside-call genes, in file order."""
    out = {name: (_draw(rng, g, ancestry), _draw(rng, g, ancestry)) for name, g in table.genes.items()}
    out.update({name: (_draw(rng, g, ancestry), _draw(rng, g, ancestry)) for name, g in table.outside.items()})
    return out


def vcf_text(
    sample: str, male: bool, positions: Positions, table: AlleleTable, haplotypes: dict[str, tuple[str, str]]
) -> str:
    """A single-sample GRCh38 VCF at every position of ``positions``."""
    planted: dict[str, tuple[str | None, str | None]] = {}
    for gene, (h1, h2) in haplotypes.items():
        g = table.genes.get(gene)
        if g is None:
            continue
        v1, v2 = g.alleles[h1], g.alleles[h2]
        for rsid in set(v1) | set(v2):
            planted[rsid] = (v1.get(rsid), v2.get(rsid))
    lines = [
        "##fileformat=VCFv4.2",
        "##source=hygeia.synth (SYNTHETIC genotypes of a fictitious person; not real data)",
        "##reference=GRCh38",
        *positions.header,
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]),
    ]
    for p in positions.rows:
        alleles = (p.ref, *p.alts)
        if p.rsid in planted:
            a, b = planted[p.rsid]
            gt = f"{alleles.index(a) if a else 0}|{alleles.index(b) if b else 0}"
        elif male and p.chrom in ("chrX", "X"):
            gt = "0"
        else:
            gt = "0|0"
        alt = ",".join(p.alts) or "."
        lines.append(f"{p.chrom}\t{p.pos}\t{p.rsid}\t{p.ref}\t{alt}\t.\tPASS\t{p.info}\tGT\t{gt}")
    return "\n".join(lines) + "\n"
