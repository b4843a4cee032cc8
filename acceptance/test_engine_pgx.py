"""Engine on the reference KB: a generated multi-sample VCF called by sample on Dask equals one whole-file run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from hygeia.engine import DaskExecutor, FileSink, read_rows, run_job
from hygeia.engine.jobs.pgx import match_partition, plan_pgx_match
from hygeia.pgx import load_kb

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from bench_pgx_pipeline import generate  # the PGx benchmark's generator (PharmCAT definitions)


def test_dask_partitioned_calling_equals_whole_file(reference: Callable[..., Path], tmp_path: Path) -> None:
    kb_dir = reference("pgx", "kb").resolve()
    kb = load_kb(kb_dir)
    vcf = tmp_path / "cohort.vcf"
    generate(kb, 60, vcf, seed=11)
    whole = match_partition((kb, vcf.read_bytes(), None))
    job = plan_pgx_match(vcf, kb, kb_ref=str(kb_dir), partition_size=25)
    report = run_job(job, DaskExecutor(None, workers=2), FileSink(tmp_path / "out"))
    assert report.written == 3 and report.rows == len(whole)
    rows = read_rows(tmp_path / "out")
    assert rows == sorted(whole, key=lambda r: (int(r["sample"][1:]), r["gene"]))
    assert len({r["gene"] for r in rows}) >= 15 and any(r["phenotype"] for r in rows)
