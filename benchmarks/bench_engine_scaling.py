"""Engine scaling: a 10,000-sample VCF through PGx calling and 100,000 patients through risk scoring,
with the local executor on one core and with Dask on 1 and 2 workers.

Usage: python benchmarks/bench_engine_scaling.py [N_SAMPLES] [N_PATIENTS]   (defaults 10000, 100000)
The VCF comes from benchmarks/bench_pgx_pipeline.py's generator (PharmCAT definitions of the reference KB).
Risk scoring uses synthetic feature rows (a logistic model trained here on synthetic data): building
100,000 PatientRecords from a store would measure the database, not the engine.
Figures: wall seconds of the job (planning excluded, printed apart), items/s, scaling efficiency
(throughput with 2 workers / (2 x with 1 worker)), resident memory per Dask worker after the job.
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
from hygeia.engine.jobs.pgx import plan_pgx_match, resolve_kb
from hygeia.engine.jobs.risk import load_model, plan_risk_features
from hygeia.pgx import load_kb

sys.path.insert(0, str(Path(__file__).parent))
from bench_pgx_pipeline import generate

REPEATS = int(os.environ.get("REPEATS", "1"))


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss / 1e6)


def timed(job: Job, make: Any, out: Path, warm: Any, repeats: int = REPEATS) -> tuple[float, float]:
    """Median wall seconds of ``repeats`` fresh runs (after ``warm`` loaded the KB/model in every process);
    resident memory (MB) after the run: this process for local, the largest worker for Dask."""
    walls, rss = [], 0.0
    for r in range(repeats):
        executor = make()
        folder = out / f"{job.name}-{executor.name.replace(' ', '_')}-{r}"
        if isinstance(executor, DaskExecutor):
            from distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=executor.workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(warm)
                t = time.perf_counter()
                run_job(job, DaskExecutor(cluster.scheduler_address), FileSink(folder))
                walls.append(time.perf_counter() - t)
                rss = max(rss, *client.run(_rss_mb).values())
        else:
            warm()
            t = time.perf_counter()
            run_job(job, executor, FileSink(folder))
            walls.append(time.perf_counter() - t)
            rss = max(rss, _rss_mb())
    return statistics.median(walls), rss


def report(title: str, job: Job, out: Path, warm: Any) -> None:
    n = job.size
    local, local_rss = timed(job, InProcessExecutor, out, warm)
    d1, d1_rss = timed(job, lambda: DaskExecutor(None, 1), out, warm)
    d2, d2_rss = timed(job, lambda: DaskExecutor(None, 2), out, warm)
    print(f"\n{title}: {n:,} items in {len(job.partitions)} partitions")
    print(f"{'executor':<28}{'wall s':>9}{'items/s':>11}{'vs local':>10}{'RSS MB':>13}")
    for name, wall, rss in (
        ("local, 1 core (in process)", local, local_rss),
        ("dask, 1 worker", d1, d1_rss),
        ("dask, 2 workers", d2, d2_rss),
    ):
        print(f"{name:<28}{wall:>9.2f}{n / wall:>11,.0f}{local / wall:>9.2f}x{rss:>13.0f}")
    print(
        f"scaling efficiency 1 -> 2 Dask workers: {d1 / (2 * d2):.0%}  (RSS after the job: this process for local, "
        "the largest worker for Dask)"
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
        report(
            "risk scoring (synthetic feature rows, logistic model)",
            plan_risk_features(model_dir, ids, frame, partition_size=5000),
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
