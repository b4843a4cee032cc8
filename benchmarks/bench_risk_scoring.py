"""Risk scoring throughput and latency, and training time, on synthetic ICU stays (no reference data).

1. Synthetic PhysioNet-2012-format stays (vitals hourly-ish, labs twice a day) → features through the
   FHIR conversion and a PatientRecord (the code path of live scoring).
2. Training time of ``icu-mortality`` with the production ``train`` (5-fold CV, cross-fitted
   calibration, audit, SHAP) on those stays; or pass a trained model folder to score with it instead.
3. Batch scoring of 100,000 feature rows (resampled synthetic rows with jitter): patients/s, against
   the obvious alternative of scoring one row at a time.
4. Per-patient latency from the FHIR store: PatientRecord from a SQLite store → features →
   calibrated probability → SHAP drivers → Finding.

    python benchmarks/bench_risk_scoring.py [MODEL_DIR] [--stays 600] [--rows 100000]

Medians of repeats; CPU seconds beside wall seconds (the machine may be shared).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from hygeia.records.physionet2012 import stay_bundle
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store
from hygeia.risk.data import Dataset, physionet2012_features
from hygeia.risk.scoring import score_record
from hygeia.risk.training import load, save, train

VITALS = {"HR": (88, 18), "NISysABP": (118, 22), "NIDiasABP": (60, 12), "NIMAP": (78, 14), "RespRate": (19, 5),
          "Temp": (37.0, 0.7), "GCS": (12, 3), "Urine": (120, 80)}
LABS = {"BUN": (27, 20), "Creatinine": (1.4, 1.2), "Glucose": (140, 50), "HCO3": (23, 4), "HCT": (30, 5),
        "K": (4.1, 0.6), "Na": (139, 5), "Platelets": (190, 90), "WBC": (12, 6), "Lactate": (2.5, 1.6)}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def synthetic_stay(rid: int, rng: np.random.Generator) -> tuple[str, int]:
    """One stay in the PhysioNet 2012 text format and its (synthetic) outcome."""
    severity = rng.normal()
    lines = ["Time,Parameter,Value", f"00:00,RecordID,{rid}", f"00:00,Age,{int(rng.uniform(18, 90))}",
             f"00:00,Gender,{int(rng.integers(0, 2))}", f"00:00,Height,{rng.normal(170, 10):.0f}",
             f"00:00,ICUType,{int(rng.integers(1, 5))}", f"00:00,Weight,{rng.normal(80, 15):.1f}"]
    for minute in range(30, 48 * 60, int(rng.uniform(45, 180))):
        for name, (mu, sd) in VITALS.items():
            if rng.uniform() < 0.8:
                value = max(mu + sd * (rng.normal() + 0.5 * severity), 0.5)
                lines.append(f"{minute // 60:02d}:{minute % 60:02d},{name},{value:.1f}")
    for minute in range(60, 48 * 60, 12 * 60):
        for name, (mu, sd) in LABS.items():
            value = max(mu + sd * (rng.normal() + 0.6 * severity), 0.1)
            lines.append(f"{minute // 60:02d}:{minute % 60:02d},{name},{value:.2f}")
    died = int(rng.uniform() < 1 / (1 + np.exp(-(-2.0 + 1.2 * severity))))
    return "\n".join(lines) + "\n", died


def timed(fn: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), cpu()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(cpu() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", nargs="?", type=Path, help="a trained icu-mortality model folder (optional)")
    ap.add_argument("--stays", type=int, default=600)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--store-patients", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set-s"
        folder.mkdir()
        outcomes = {}
        for i in range(args.stays):
            text, died = synthetic_stay(900000 + i, rng)
            (folder / f"{900000 + i}.txt").write_text(text)
            outcomes[str(900000 + i)] = died
        w, c = time.perf_counter(), cpu()
        table = physionet2012_features(folder, None, n_jobs=1)
        w, c = time.perf_counter() - w, cpu() - c
        print(f"features (stay file → FHIR → PatientRecord → features), {args.stays} stays: "
              f"{args.stays / w:.1f} stays/s wall, {c / args.stays * 1000:.0f} ms CPU per stay")
        X = table.drop(columns=[c for c in table.columns if c.startswith("_")]).astype(float).reset_index(drop=True)
        y = np.array([outcomes[i] for i in table.index])
        if args.model_dir is not None:
            trained = load(args.model_dir)
            print(f"model: {trained.version} (n_features={len(trained.feature_names)})")
        else:
            ids = pd.Series(table.index.to_numpy(), name="id")
            groups = pd.DataFrame({"sex": table["_sex"].to_numpy(), "age_band": np.where(X["age"] < 65, "<65", "65+")})
            data = Dataset(X, y, groups, ids, ids.copy(), "synthetic")
            w, c = time.perf_counter(), cpu()
            trained = train("icu-mortality", data, "lightgbm", folds=5)
            print(f"training icu-mortality (5-fold CV + final, 5-fold calibration, 600 trees, audit, SHAP), "
                  f"{data.n} synthetic stays × {X.shape[1]} features: {time.perf_counter() - w:.1f} s wall, "
                  f"{cpu() - c:.1f} s CPU; CV AUROC {trained.evaluation.metrics['auroc'].text()}")
            trained = load(save(trained, Path(tmp) / "registry"))
        for name in trained.feature_names:
            if name not in X:
                X[name] = np.nan
        X = X[trained.feature_names]
        sample = X.sample(n=args.rows, replace=True, random_state=0).to_numpy()
        jitter = 1 + 0.02 * rng.standard_normal(sample.shape)
        batch = pd.DataFrame(sample * jitter, columns=trained.feature_names)
        w, c = timed(lambda: trained.predict(batch))
        print(f"batch scoring {args.rows} patients (probabilities): {args.rows / w:,.0f} patients/s wall "
              f"({w:.2f} s, {c:.2f} s CPU)")
        one = 200
        w1, _ = timed(lambda: [trained.predict(batch.iloc[[i]]) for i in range(one)], repeats=1)
        print(f"  obvious alternative, one row at a time: {one / w1:,.0f} patients/s; "
              f"batch is {(args.rows / w) / (one / w1):.0f}x faster")
        store = Store(f"sqlite:///{tmp}/store.db")
        store.init()
        patients = []
        for path in sorted(folder.glob("*.txt"))[: args.store_patients]:
            bundle = stay_bundle(path)
            store.write([e["resource"] for e in bundle["entry"]])
            patients.append(next(r["id"] for r in (e["resource"] for e in bundle["entry"])
                                 if r["resourceType"] == "Patient"))
        lat = []
        for pid in patients:
            w = time.perf_counter()
            finding = score_record(trained, PatientRecord.load(store, pid))
            lat.append(time.perf_counter() - w)
        print(f"store → features → score → drivers → Finding, {len(lat)} patients: median "
              f"{statistics.median(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms per patient "
              f"({1 / statistics.median(lat):.1f} patients/s); e.g. {finding.summary!r}")
        store.dispose()


if __name__ == "__main__":
    main()
