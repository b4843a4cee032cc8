"""PGx calling of a multi-sample VCF, partitioned by sample: identical to one whole-file run, local and Dask."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from hygeia.engine import DaskExecutor, Executor, FileSink, InProcessExecutor, read_rows, run_job
from hygeia.engine.jobs.pgx import SplitError, match_partition, plan_pgx_match, split_vcf

from .fixtures import tiny_kb, write_multisample_vcf


def test_partitioned_calling_equals_whole_file_on_every_executor(tmp_path: Path, dask_cluster: Any) -> None:
    kb = tiny_kb()
    vcf = tmp_path / "cohort.vcf"
    write_multisample_vcf(kb, vcf, 23)
    whole = match_partition((kb, vcf.read_bytes(), None))  # one run over the unsplit file
    assert len(whole) == 23 * 2 and {r["sample"] for r in whole} == {f"S{i}" for i in range(23)}
    assert {"Normal Metabolizer", "Intermediate Metabolizer"} <= {r["phenotype"] for r in whole}
    assert any(orjson.loads(r["recommendations"]) for r in whole)
    outputs = []
    executors: list[Executor] = [InProcessExecutor(), DaskExecutor(dask_cluster.scheduler_address)]
    for i, executor in enumerate(executors):
        job = plan_pgx_match(vcf, kb, partition_size=5)
        assert [p.size for p in job.partitions] == [5, 5, 5, 5, 3]
        run_job(job, executor, FileSink(tmp_path / f"out{i}"))
        outputs.append(read_rows(tmp_path / f"out{i}"))
    key = lambda r: (int(r["sample"][1:]), r["gene"])  # noqa: E731
    assert outputs[0] == outputs[1] == sorted(whole, key=key)


def test_split_keeps_pgx_lines_and_sample_columns(tmp_path: Path) -> None:
    kb = tiny_kb()
    vcf = tmp_path / "c.vcf.gz"
    plain = tmp_path / "c.vcf"
    write_multisample_vcf(kb, plain, 4)
    vcf.write_bytes(gzip.compress(plain.read_bytes()))
    samples, texts = split_vcf(vcf, set(kb.positions()), 3)
    assert samples == ["S0", "S1", "S2", "S3"]
    first, second = (t.decode().splitlines() for t in texts)
    assert first[2].endswith("FORMAT\tS0\tS1\tS2") and second[2].endswith("FORMAT\tS3")
    assert len(first) == 3 + 6  # header (3 lines) + the six definition positions; the extra lines are dropped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\n", "data before the #CHROM"),
        ("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", "no FORMAT and sample"),
        (
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS0\nchr1\tX\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\n",
            ":2: POS 'X'",
        ),
        (
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS0\nchr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\n",
            ":2: 9 columns",
        ),
        ("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS0\nchr1\t100\n", ":2: 2 columns"),
        ("##fileformat=VCFv4.2\n", "no #CHROM header"),
    ],
)
def test_malformed_vcf_is_named_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.vcf"
    path.write_text(text)
    with pytest.raises(SplitError, match=message):
        plan_pgx_match(path, tiny_kb())
    with pytest.raises(SplitError, match="file not found"):
        split_vcf(tmp_path / "none.vcf", set(), 1)
