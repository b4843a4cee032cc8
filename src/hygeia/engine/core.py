"""The job abstraction: work split into partitions (of patients or samples), one pure function per partition.

A :class:`Job` is a name, a partition function and its partitions. The function takes a partition's
payload (picklable: patient ids and a store URL, a slice of a VCF, a list of notes) and returns rows
(flat dicts). :func:`run_job` hands the partitions still to do to an executor (in process, a process
pool, or Dask distributed), writes each partition's rows to a sink as soon as it arrives, retries
failed partitions and raises :class:`JobFailed` naming those that could not be done, and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from rich.progress import Progress

Row = dict[str, Any]
PartitionFn = Callable[[Any], list[Row]]


@dataclass(frozen=True)
class Partition:
    """One unit of work. ``key`` names it (and its output file); ``fingerprint`` identifies its input."""

    key: str
    payload: Any
    size: int
    fingerprint: str


@dataclass(frozen=True)
class Job:
    """A named partition function applied to every partition; ``schema`` (optional) types the Parquet output."""

    name: str
    fn: PartitionFn
    partitions: tuple[Partition, ...]
    schema: Any = None  # a pyarrow.Schema, or None to infer it from the rows

    @property
    def size(self) -> int:
        return sum(p.size for p in self.partitions)


@dataclass(frozen=True)
class Outcome:
    """What an executor reports for a partition: its rows, or the error of its last attempt."""

    partition: Partition
    rows: list[Row] | None
    attempts: int
    error: str | None = None


class Executor(Protocol):
    """Runs ``fn`` over partitions and yields one :class:`Outcome` per partition, in completion order."""

    name: str

    def run(self, fn: PartitionFn, partitions: Sequence[Partition], attempts: int) -> Iterator[Outcome]: ...


class Sink(Protocol):
    """Where rows go. ``done`` says a partition's output already exists for the same input fingerprint."""

    def done(self, partition: Partition) -> bool: ...

    def write(self, partition: Partition, rows: list[Row], schema: Any = None) -> None: ...

    def finish(self, job: Job) -> None: ...


@dataclass
class JobReport:
    """How a run went: partitions written now, skipped (already done), retried; rows written."""

    job: str
    executor: str
    partitions: int
    written: int = 0
    skipped: int = 0
    rows: int = 0
    retried: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class JobFailed(RuntimeError):
    """Some partitions failed on every attempt. ``failed`` maps partition key → the last error."""

    def __init__(self, report: JobReport) -> None:
        self.report = report
        self.failed = dict(report.failed)
        lines = [
            f"job {report.job!r}: {len(self.failed)} of {report.partitions} partition(s) failed "
            f"(the others are written; re-run to finish — done partitions are skipped):"
        ]
        lines += [f"  {key}: {why}" for key, why in sorted(self.failed.items())]
        super().__init__("\n".join(lines))


def fingerprint(*parts: Any) -> str:
    """SHA-256 of the parts (JSON; bytes as they are): identifies a partition's input and parameters."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else orjson.dumps(part, option=orjson.OPT_SORT_KEYS, default=str)
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    """``items`` in consecutive chunks of at most ``size`` (at least one item per chunk)."""
    if size < 1:
        raise ValueError(f"partition size must be at least 1 (got {size})")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_job(
    job: Job,
    executor: Executor,
    sink: Sink,
    *,
    attempts: int = 3,
    progress: Progress | None = None,
    on_partition: Callable[[JobReport], None] | None = None,
) -> JobReport:
    """Run ``job`` on ``executor`` into ``sink``; partitions whose output exists (same fingerprint) are skipped.

    ``attempts``: tries per partition (1 = no retry). ``progress``: a rich Progress to show the whole job
    (in items: samples, patients, notes). ``on_partition`` is called after each partition is written.
    Raises :class:`JobFailed` when a partition failed on every attempt, after writing all the others.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    keys = [p.key for p in job.partitions]
    if len(set(keys)) != len(keys):
        raise ValueError(f"job {job.name!r}: partition keys are not unique")
    report = JobReport(job.name, executor.name, len(job.partitions))
    todo = []
    for p in job.partitions:
        if sink.done(p):
            report.skipped += 1
        else:
            todo.append(p)
    bar = progress.add_task(f"{job.name} ({executor.name})", total=job.size) if progress is not None else None
    if progress is not None and bar is not None:
        progress.update(bar, completed=sum(p.size for p in job.partitions) - sum(p.size for p in todo))
    if todo:
        for outcome in executor.run(job.fn, todo, attempts):
            key = outcome.partition.key
            if outcome.attempts > 1:
                report.retried.append(key)
            if outcome.rows is None:
                report.failed[key] = outcome.error or "unknown error"
            else:
                sink.write(outcome.partition, outcome.rows, job.schema)
                report.written += 1
                report.rows += len(outcome.rows)
            if progress is not None and bar is not None:
                progress.advance(bar, outcome.partition.size)
            if on_partition is not None:
                on_partition(report)
    if report.failed:
        raise JobFailed(report)
    sink.finish(job)
    return report


__all__ = [
    "Executor",
    "Job",
    "JobFailed",
    "JobReport",
    "Outcome",
    "Partition",
    "PartitionFn",
    "Row",
    "Sink",
    "chunks",
    "describe_error",
    "fingerprint",
    "run_job",
]
