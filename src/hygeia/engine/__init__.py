"""Population-scale batch jobs: the same partitioned work in process, on a process pool, or on Dask.

See docs/engine.md. A job is a pure function applied per partition (of patients or samples); its
rows go to idempotent per-partition Parquet/NDJSON files or to the store.
"""

from hygeia.engine.core import (
    Executor,
    Job,
    JobFailed,
    JobReport,
    Outcome,
    Partition,
    Row,
    Sink,
    chunks,
    fingerprint,
    run_job,
)
from hygeia.engine.executors import DaskExecutor, InProcessExecutor, ProcessPoolExecutorRunner, make_executor
from hygeia.engine.sinks import FORMATS, FileSink, MemorySink, StoreSink, read_rows

__all__ = [
    "FORMATS",
    "DaskExecutor",
    "Executor",
    "FileSink",
    "InProcessExecutor",
    "Job",
    "JobFailed",
    "JobReport",
    "MemorySink",
    "Outcome",
    "Partition",
    "ProcessPoolExecutorRunner",
    "Row",
    "Sink",
    "StoreSink",
    "chunks",
    "fingerprint",
    "make_executor",
    "read_rows",
    "run_job",
]
