"""Engine scaling: a 10,000-sample VCF through PGx calling and 100,000 patients through risk scoring,
with the local executor on one core and with Dask on 1 and 2 workers.

Usage: python benchmarks/bench_engine_scaling.py [N_SAMPLES] [N_PATIENTS]   (defaults 10000, 100000)
The VCF comes from benchmarks/bench_pgx_pipeline.py's generator (PharmCAT definitions of the reference KB).
Risk scoring uses synthetic feature rows (a logistic model trained here on synthetic data): building
100,000 PatientRecords from a store would measure the database, not the engine.
Figures: wall seconds of the job (planning excluded, printed apart), items/s, scaling efficiency
(throughput with 2 workers / (2 x with 1 worker)), CPU seconds of every process taking part (the
steadier figure on a shared machine: Dask's overhead is the CPU it adds to the in-process run), resident
memory per Dask worker after the job.
Alternative beside it: the single process (local executor). Medians of REPEATS (env, default 1) runs.
Note the load average: the machine is shared.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hygeia.config import get_settings
from hygeia.engine import DaskExecutor, FileSink, InProcessExecutor, Job, run_job
from hygeia.engine.executors import local_cluster
from hygeia.engine.jobs.pgx import plan_pgx_match, resolve_kb
from hygeia.engine.jobs.risk import load_model, plan_risk_features
from hygeia.pgx import load_kb

sys.path.insert(0, str(Path(__file__).parent))
from bench_pgx_pipeline import generate

REPEATS = int(os.environ.get("REPEATS", "1"))


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss / 1e6)


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and all its descendants (Dask nannies and workers)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


class Measure:
    """Median wall seconds, CPU seconds of every process taking part (client, scheduler, workers) and
    resident memory after the job (this process for local, the largest worker for Dask)."""

    def __init__(self) -> None:
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.rss = 0.0

    def wall(self) -> float:
        return statistics.median(self.walls)

    def cpu(self) -> float:
        return statistics.median(self.cpus)


def timed(job: Job, workers: int, out: Path, warm: Any, repeats: int = REPEATS) -> Measure:
    """``workers`` 0: in process; else a Dask LocalCluster of that many single-threaded worker processes.
    The KB/model is loaded in every process before the clock starts (``warm``)."""
    m = Measure()
    for r in range(repeats):
        folder = out / f"{job.name}-{workers}-{r}"
        if workers:
            from distributed import Client

            cluster = local_cluster(workers)  # what DaskExecutor starts without --scheduler
            with cluster, Client(cluster) as client:
                client.run(warm)
                c, t = _cpu_s(), time.perf_counter()
                run_job(job, DaskExecutor(cluster.scheduler_address), FileSink(folder))
                m.walls.append(time.perf_counter() - t)
                m.cpus.append(_cpu_s() - c)
                m.rss = max(m.rss, *client.run(_rss_mb).values())
        else:
            warm()
            c, t = _cpu_s(), time.perf_counter()
            run_job(job, InProcessExecutor(), FileSink(folder))
            m.walls.append(time.perf_counter() - t)
            m.cpus.append(_cpu_s() - c)
            m.rss = max(m.rss, _rss_mb())
    return m


def report(title: str, job: Job, out: Path, warm: Any) -> None:
    n = job.size
    load = os.getloadavg()[0]
    local, d1, d2 = (timed(job, w, out, warm) for w in (0, 1, 2))
    print(f"\n{title}: {n:,} items in {len(job.partitions)} partitions (load average before: {load:.1f})")
    print(f"{'executor':<28}{'wall s':>9}{'items/s':>10}{'vs local':>10}{'CPU s':>9}{'items/CPU-s':>13}{'RSS MB':>9}")
    for name, m in (("local, 1 core (in process)", local), ("dask, 1 worker", d1), ("dask, 2 workers", d2)):
        print(
            f"{name:<28}{m.wall():>9.2f}{n / m.wall():>10,.0f}{local.wall() / m.wall():>9.2f}x"
            f"{m.cpu():>9.2f}{n / m.cpu():>13,.0f}{m.rss:>9.0f}"
        )
    print(
        f"scaling efficiency 1 -> 2 Dask workers (wall): {d1.wall() / (2 * d2.wall()):.0%}; Dask CPU overhead vs "
        f"in process: {d1.cpu() / local.cpu() - 1:+.0%} (1 worker), {d2.cpu() / local.cpu() - 1:+.0%} (2 workers). "
        "CPU s: client + scheduler + workers; RSS: this process for local, the largest worker for Dask."
    )


def main() -> None:
    n_samples = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_patients = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    print(f"load average at start: {os.getloadavg()}; CPUs: {os.cpu_count()}")
    kb_dir = get_settings().reference("pgx", "kb").resolve()
    kb = load_kb(kb_dir)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        vcf = out / "cohort.vcf"
        generate(kb, n_samples, vcf)
        t = time.perf_counter()
        job = plan_pgx_match(vcf, kb, kb_ref=str(kb_dir), partition_size=500)
        print(
            f"VCF {vcf.stat().st_size / 1e6:.0f} MB, {n_samples:,} samples; split by sample in "
            f"{time.perf_counter() - t:.1f} s (client, once)"
        )
        report("PGx calling (match + phenotype + recommend)", job, out, partial(resolve_kb, str(kb_dir)))
        model_dir = train_model(out / "registry")
        rng = np.random.default_rng(0)
        frame = pd.DataFrame(rng.normal(90, 20, (n_patients, 4)), columns=FEATURES)
        ids = [f"patient-{i}" for i in range(n_patients)]
        for size in (5000, 25_000):  # a task costs Dask ~ tens of ms of CPU: small partitions pay it often
            report(
                f"risk scoring (synthetic feature rows, logistic model), partitions of {size:,}",
                plan_risk_features(model_dir, ids, frame, partition_size=size),
                out,
                partial(load_model, str(model_dir.resolve())),
            )
    print(f"\nload average at end: {os.getloadavg()}")


FEATURES = ["age", "heart_rate__mean", "respiratory_rate__max", "systolic_bp__min"]


def train_model(registry: Path) -> Path:
    from hygeia.risk.data import Dataset
    from hygeia.risk.training import save, train

    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame(rng.normal(90, 20, (n, 4)), columns=FEATURES)
    y = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-(-2 + 0.04 * (X["heart_rate__mean"] - 90))))).astype(int).to_numpy()
    groups = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "age_band": rng.choice(["<65", "65+"], n)})
    ids = pd.Series([f"t{i}" for i in range(n)], name="id")
    return save(
        train("icu-mortality", Dataset(X, y, groups, ids, ids.copy(), "synthetic"), "logistic", folds=3, n_boot=10),
        registry,
    )


if __name__ == "__main__":
    main()
