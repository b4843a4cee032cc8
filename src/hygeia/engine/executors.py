"""Executors: in process, a local process pool, and Dask distributed.

All three run the same partition function on the same payloads and report the same outcomes; only
where the work happens differs. A partition that raises is tried again, up to ``attempts`` times.
On Dask, a task whose worker dies is also rescheduled by the scheduler itself (its
``distributed.scheduler.allowed-failures`` setting); if that gives up too, the task's ``KilledWorker``
error counts as one failed attempt here and the partition is submitted again.
"""

from __future__ import annotations

import multiprocessing
import pickle
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from hygeia.engine.core import Outcome, Partition, PartitionFn, describe_error

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


class InProcessExecutor:
    """Runs every partition in this process, one after another (the reference for equality tests)."""

    name = "local"

    def run(self, fn: PartitionFn, partitions: Sequence[Partition], attempts: int) -> Iterator[Outcome]:
        for p in partitions:
            error = ""
            for attempt in range(1, attempts + 1):
                try:
                    rows = fn(p.payload)
                except Exception as exc:
                    error = describe_error(exc)
                    continue
                yield Outcome(p, rows, attempt)
                break
            else:
                yield Outcome(p, None, attempts, error)


class ProcessPoolExecutorRunner:
    """A local pool of ``workers`` processes (spawned, so nothing is inherited by accident).

    A worker process that dies breaks the pool; the pool is then rebuilt and the partitions that were
    in flight count one failed attempt each.
    """

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.name = f"local process pool ({workers})"

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, fn: PartitionFn, partitions: Sequence[Partition], attempts: int) -> Iterator[Outcome]:
        pool = self._pool()
        try:
            running: dict[Future[Any], tuple[Partition, int]] = {pool.submit(fn, p.payload): (p, 1) for p in partitions}
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                retry: list[tuple[Partition, int, str]] = []
                broken = False
                for fut in finished:
                    p, attempt = running.pop(fut)
                    try:
                        rows = fut.result()
                    except BrokenProcessPool as exc:
                        broken = True
                        retry.append((p, attempt, describe_error(exc)))
                    except Exception as exc:
                        retry.append((p, attempt, describe_error(exc)))
                    else:
                        yield Outcome(p, rows, attempt)
                if broken:  # every partition still in flight is lost with the pool
                    retry += [
                        (p, attempt, "BrokenProcessPool: a worker process died") for p, attempt in running.values()
                    ]
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
                for p, attempt, error in retry:
                    if attempt >= attempts:
                        yield Outcome(p, None, attempt, error)
                    else:
                        running[pool.submit(fn, p.payload)] = (p, attempt + 1)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# Dask worker settings for Hygeia's partition functions (pure Python, one partition per process at a time):
# the worker's statistical profiler samples the running thread's stack every 10 ms, which cost about 20 %
# of the CPU time of PGx calling; the partition functions' numeric libraries run single-threaded.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def local_cluster(workers: int, *, memory_limit: str | None = "auto") -> LocalCluster:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes with :data:`WORKER_CONFIG`
    (the nannies start their workers with OMP/MKL/OpenBLAS_NUM_THREADS=1 by Dask's default)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(WORKER_CONFIG):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=memory_limit,
        )


def _run_packed(fn: PartitionFn, payload: bytes) -> bytes:
    """On a Dask worker: the partition's payload and rows travel as one pickled bytes object each way.

    Handed a list of row dicts, Dask's message encoding walks the whole nested structure (about 180 ms
    for 5,000 four-field rows, against 1.4 ms for one ``pickle.dumps``), which made a 30 ms risk
    partition take 0.3-0.5 s on a worker; one opaque bytes object is sent as it is.
    """
    return pickle.dumps(fn(pickle.loads(payload)), protocol=pickle.HIGHEST_PROTOCOL)


class DaskExecutor:
    """Dask distributed: ``Client(scheduler)`` for a running cluster, else a ``LocalCluster`` of ``workers``
    single-threaded worker processes, started here and closed after the job."""

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int = 2,
        *,
        memory_limit: str | None = "auto",
        connect_timeout: float = 20.0,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.scheduler = scheduler
        self.workers = workers
        self.memory_limit = memory_limit
        self.connect_timeout = connect_timeout
        self.name = f"dask {scheduler}" if scheduler else f"dask LocalCluster ({workers} workers)"

    def _connect(self) -> tuple[Client, LocalCluster | None]:
        from distributed import Client

        if self.scheduler:
            try:
                return Client(self.scheduler, timeout=f"{self.connect_timeout}s", set_as_default=False), None
            except OSError as exc:
                raise ConnectionError(
                    f"cannot reach the Dask scheduler at {self.scheduler} ({exc}); start it with "
                    "`dask scheduler` and workers with `dask worker ADDRESS`"
                ) from None
        cluster = local_cluster(self.workers, memory_limit=self.memory_limit)
        return Client(cluster, set_as_default=False), cluster

    def run(self, fn: PartitionFn, partitions: Sequence[Partition], attempts: int) -> Iterator[Outcome]:
        from distributed import as_completed

        client, cluster = self._connect()
        token = uuid.uuid4().hex[:8]
        try:
            futures: dict[Any, tuple[Partition, int]] = {}

            def submit(p: Partition, attempt: int) -> Any:
                packed = pickle.dumps(p.payload, protocol=pickle.HIGHEST_PROTOCOL)
                fut = client.submit(_run_packed, fn, packed, key=f"hygeia-{p.key}-{token}-{attempt}", pure=False)
                futures[fut.key] = (p, attempt)
                return fut

            pending = as_completed([submit(p, 1) for p in partitions], loop=client.loop)
            for fut in pending:
                p, attempt = futures.pop(fut.key)
                if fut.status == "finished":
                    rows = pickle.loads(client.gather(fut))
                    fut.release()
                    yield Outcome(p, rows, attempt)
                    continue
                exc = fut.exception()
                error = describe_error(exc) if isinstance(exc, BaseException) else f"task {fut.status}"
                fut.release()
                if attempt >= attempts:
                    yield Outcome(p, None, attempt, error)
                else:
                    pending.add(submit(p, attempt + 1))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_executor(engine: str, *, scheduler: str | None = None, workers: int = 1) -> Any:
    """``local`` (in process when ``workers`` is 1, else a process pool) or ``dask``."""
    if engine == "local":
        if scheduler:
            raise ValueError("--scheduler needs --engine dask")
        return InProcessExecutor() if workers <= 1 else ProcessPoolExecutorRunner(workers)
    if engine == "dask":
        return DaskExecutor(scheduler, workers)
    raise ValueError(f"unknown engine {engine!r}: use 'local' or 'dask'")


__all__ = [
    "WORKER_CONFIG",
    "DaskExecutor",
    "InProcessExecutor",
    "ProcessPoolExecutorRunner",
    "local_cluster",
    "make_executor",
]
