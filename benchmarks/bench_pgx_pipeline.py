"""PGx pipeline throughput: match → phenotype → recommend, beside PharmCAT's published figures.

Usage: python benchmarks/bench_pgx_pipeline.py [N_SAMPLES]   (default 1000 for the generated VCF)
Anchor: PharmCAT takes 1.2–5.9 s and ~200 MB per sample in published biobank runs.
Wall and CPU time are both printed: on a shared machine CPU time is the steadier figure. Each run reads
the VCF again (nothing is cached between runs except the per-KB indexes, built once).
"""

from __future__ import annotations

import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hygeia.config import get_settings
from hygeia.pgx.kb import KnowledgeBase, load_kb
from hygeia.pgx.phenotype import phenotype_sample
from hygeia.pgx.pipeline import iter_match_vcf
from hygeia.pgx.recommend import recommend

PHARMCAT_S_PER_SAMPLE = (1.2, 5.9)


def run(kb: KnowledgeBase, vcf: Path) -> int:
    """match → phenotype → recommend for every sample of ``vcf`` (streamed, one sample at a time)."""
    n = 0
    for r in iter_match_vcf(kb, vcf):
        recommend(kb, phenotype_sample(kb, r))
        n += 1
    return n


def timed(kb: KnowledgeBase, vcf: Path, repeats: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of ``repeats`` runs, and the sample count."""
    walls, cpus, count = [], [], 0
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        count = run(kb, vcf)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), count


def generate(kb: KnowledgeBase, n: int, path: Path, seed: int = 7) -> None:
    """A multi-sample VCF: every sample gets two random named alleles per gene, written unphased."""
    rng = random.Random(seed)
    rows: dict[tuple[str, int], tuple[str, str, list[str]]] = {}
    genos: dict[tuple[str, int], list[str]] = {}
    for _gene, d in kb.definitions.items():
        for locus in d.loci:
            key = (locus.chrom, locus.position)
            if key not in rows:
                rows[key] = (locus.rsid or ".", locus.ref, list(locus.alts))
                genos[key] = ["0/0"] * n
        simple = [a for a in d.alleles if not any(v is not None and len(v) == 1 and v in "RYSWKMBDHVN"
                                                  for v in a.alleles)]
        for s in range(n):
            picks = [rng.choice(simple) if rng.random() < 0.3 else d.reference_allele for _ in range(2)]
            for i, locus in enumerate(d.loci):
                key = (locus.chrom, locus.position)
                alleles = [locus.ref, *locus.alts]
                idx = []
                for p in picks:
                    v = p.alleles[i]
                    idx.append(alleles.index(v) if v in alleles else 0)
                if any(idx):
                    genos[key][s] = f"{idx[0]}/{idx[1]}"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("##fileformat=VCFv4.2\n##contig=<ID=chr1,assembly=GRCh38>\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
                 + "\t".join(f"S{i}" for i in range(n)) + "\n")
        for (chrom, pos), (rsid, ref, alts) in sorted(rows.items()):
            fh.write(f"{chrom}\t{pos}\t{rsid}\t{ref}\t{','.join(alts) or '.'}\t.\tPASS\t.\tGT\t"
                     + "\t".join(genos[(chrom, pos)]) + "\n")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    ref = get_settings().reference("pgx")
    t = time.perf_counter()
    kb = load_kb(ref / "kb")
    e2e = ref / "cases" / "e2e" / "pharmcat.example.vcf"
    run(kb, e2e)  # builds the per-KB indexes (allele tables, guideline index) once
    print(f"KB load + index build: {time.perf_counter() - t:.2f} s (once per process)")
    lo, hi = PHARMCAT_S_PER_SAMPLE
    wall, cpu, _ = timed(kb, e2e, 50)
    print(f"full-panel e2e VCF (1 sample; read + match + phenotype + recommend), median of 50: "
          f"wall {wall * 1000:.1f} ms = {1 / wall:.0f} samples/s; CPU {cpu * 1000:.1f} ms = {1 / cpu:.0f} samples/s")
    print(f"  PharmCAT published {lo}-{hi} s/sample -> {lo / wall:.0f}x-{hi / wall:.0f}x faster (wall)")
    print(f"  peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gen.vcf"
        generate(kb, n, path)
        wall, cpu, count = timed(kb, path, 3)
        print(f"generated {count}-sample VCF ({path.stat().st_size / 1e6:.1f} MB), median of 3: wall {wall:.2f} s "
              f"= {count / wall:.0f} samples/s; CPU {cpu:.2f} s = {count / cpu:.0f} samples/s")
        print(f"  vs PharmCAT {lo}-{hi} s/sample: {lo * count / wall:.0f}x-{hi * count / wall:.0f}x faster (wall)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB (goal <= 150 MB; PharmCAT ~200 MB per sample)")


if __name__ == "__main__":
    main()
