"""The job abstraction: executors agree, retries, failures reported, idempotent re-runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hygeia.engine import (
    DaskExecutor,
    Executor,
    FileSink,
    InProcessExecutor,
    Job,
    JobFailed,
    Partition,
    ProcessPoolExecutorRunner,
    chunks,
    fingerprint,
    make_executor,
    read_rows,
    run_job,
)

from .helpers import fails_on_seven, flaky, squares


def _job(fn: Any = squares, n: int = 20, size: int = 3, wrap: Any = None) -> Job:
    parts = tuple(
        Partition(f"{k:03d}", wrap(c) if wrap else c, len(c), fingerprint("squares", c))
        for k, c in enumerate(chunks(list(range(n)), size))
    )
    return Job("squares", fn, parts)


def test_chunks_and_fingerprint() -> None:
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError, match="at least 1"):
        chunks([1], 0)
    assert fingerprint("a", [1, 2]) == fingerprint("a", [1, 2]) != fingerprint("a", [2, 1])
    assert fingerprint(b"ab", b"c") != fingerprint(b"a", b"bc")


@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_local_pool_and_dask_give_identical_output(tmp_path: Path, fmt: str, dask_cluster: Any) -> None:
    outputs = []
    executors: list[Executor] = [
        InProcessExecutor(),
        ProcessPoolExecutorRunner(2),
        DaskExecutor(dask_cluster.scheduler_address),
    ]
    for i, executor in enumerate(executors):
        report = run_job(_job(), executor, FileSink(tmp_path / str(i), fmt))
        assert (report.written, report.skipped, report.rows) == (7, 0, 20)
        outputs.append(read_rows(tmp_path / str(i)))
    assert outputs[0] == outputs[1] == outputs[2]
    assert [r["i"] for r in outputs[0]] == list(range(20))


def test_rerun_skips_done_partitions_and_redoes_changed_ones(tmp_path: Path) -> None:
    sink = FileSink(tmp_path)
    run_job(_job(), InProcessExecutor(), sink)
    again = run_job(_job(), InProcessExecutor(), sink)
    assert (again.written, again.skipped) == (0, 7)
    # a partition whose data file is missing (crash between rename and marker, or deleted) is redone
    sink.path("002").unlink()
    third = run_job(_job(), InProcessExecutor(), sink)
    assert (third.written, third.skipped) == (1, 6)
    # another partitioning: old part files are removed, nothing is duplicated
    fourth = run_job(_job(size=5), InProcessExecutor(), sink)
    assert fourth.written == 4  # keys 000-003, all with new fingerprints
    rows = read_rows(tmp_path)
    assert [r["i"] for r in rows] == list(range(20))
    assert sorted(p.name for p in tmp_path.glob("part-*")) == [f"part-{k:03d}.parquet" for k in range(4)]


@pytest.mark.parametrize("kind", ["local", "pool", "dask"])
def test_failed_partition_is_retried(tmp_path: Path, kind: str, dask_cluster: Any) -> None:
    executors: dict[str, Executor] = {
        "local": InProcessExecutor(),
        "pool": ProcessPoolExecutorRunner(2),
        "dask": DaskExecutor(dask_cluster.scheduler_address),
    }
    executor = executors[kind]
    (tmp_path / "m").mkdir()
    job = _job(flaky, n=6, size=2, wrap=lambda c: (str(tmp_path / "m"), c))
    report = run_job(job, executor, FileSink(tmp_path / "out"), attempts=2)
    assert sorted(report.retried) == ["000", "001", "002"]
    assert [r["i"] for r in read_rows(tmp_path / "out")] == list(range(6))


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_job_that_cannot_finish_names_the_partition_and_why(tmp_path: Path, kind: str, dask_cluster: Any) -> None:
    executor = InProcessExecutor() if kind == "local" else DaskExecutor(dask_cluster.scheduler_address)
    with pytest.raises(JobFailed) as info:
        run_job(_job(fails_on_seven), executor, FileSink(tmp_path), attempts=2)
    assert info.value.failed == {"002": "ValueError: item 7 is malformed"}
    assert "002: ValueError: item 7 is malformed" in str(info.value)
    assert len(read_rows(tmp_path)) == 17  # every other partition was written
    # once the cause is fixed, a re-run does only what is missing
    report = run_job(_job(), InProcessExecutor(), FileSink(tmp_path))
    assert (report.written, report.skipped) == (1, 6)
    assert [r["i"] for r in read_rows(tmp_path)] == list(range(20))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        make_executor("spark")
    with pytest.raises(ValueError, match="--scheduler needs"):
        make_executor("local", scheduler="tcp://h:1")
    with pytest.raises(ValueError, match="format"):
        FileSink(tmp_path, "csv")
    job = _job()
    dup = Job("dup", squares, (job.partitions[0], job.partitions[0]))
    with pytest.raises(ValueError, match="not unique"):
        run_job(dup, InProcessExecutor(), FileSink(tmp_path))
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler"):
        run_job(job, DaskExecutor("tcp://127.0.0.1:9", connect_timeout=1), FileSink(tmp_path))
