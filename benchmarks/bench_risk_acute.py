"""deterioration and ed-admission on the synthetic hospital in the FHIR store, against the obvious rule.

- deterioration: the obvious alternative is the NEWS2 of the index observation set itself (what the ward
  already acts on, RCP 2017); the models see NEWS2, its 24 h trend, vital signs, labs and history.
- ed-admission: the obvious alternatives are the triage NEWS2 and age.

5-fold CV grouped by patient (stratified, seed 0; the folds ``hygeia risk train`` uses), uncalibrated
out-of-fold scores. Several rows per patient, so the 95 % CIs resample *patients* (cluster bootstrap, 500
resamples), also for the paired difference to the obvious rule. CPU seconds beside each line.

    hygeia synth --out DIR && hygeia ingest DIR/fhir      # the 500-patient demo hospital
    python benchmarks/bench_risk_acute.py [DATABASE_URL]  # default: the configured store
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from hygeia.config import get_settings
from hygeia.governance.evaluation import auroc
from hygeia.records.store import Store
from hygeia.risk import acute
from hygeia.risk.data import Dataset, store_records, timeline_dataset
from hygeia.risk.models import LightGBMRisk, LogisticRisk


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cluster_boot(y: np.ndarray, scores: list[np.ndarray], groups: np.ndarray, n_boot: int = 500
                 ) -> list[np.ndarray]:
    """AUROC replicates of each score over patient-level resamples (same resamples for all scores)."""
    rng = np.random.default_rng(0)
    ids, inverse = np.unique(groups, return_inverse=True)
    rows = [np.flatnonzero(inverse == k) for k in range(len(ids))]
    reps: list[list[float]] = [[] for _ in scores]
    for _ in range(n_boot):
        pick = np.concatenate([rows[k] for k in rng.integers(0, len(ids), len(ids))])
        if 0 < y[pick].sum() < len(pick):
            for r, s in zip(reps, scores, strict=True):
                r.append(auroc(y[pick], s[pick]))
    return [np.asarray(r) for r in reps]


def out_of_fold(make: Callable[[], object], data: Dataset) -> np.ndarray:
    X = data.X.to_numpy(dtype=float)
    oof = np.full(data.n, np.nan)
    for tr, te in StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X, data.y, data.split_groups):
        model = make().fit(X[tr], data.y[tr])  # type: ignore[attr-defined]
        oof[te] = model.predict_proba(X[te])[:, 1]
    return oof


def run(name: str, data: Dataset, obvious: dict[str, np.ndarray]) -> None:
    print(f"\n{name}: n={data.n} index times, {data.events} events ({data.events / data.n:.1%}), "
          f"{data.split_groups.nunique()} patients, {data.X.shape[1]} features")
    models: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for label, make in (("LightGBM hand-set (Hygeia default)", LightGBMRisk),
                        ("LightGBM 200 trees, lr 0.05 (demo)", lambda: LightGBMRisk(n_estimators=200,
                                                                                    learning_rate=0.05)),
                        ("logistic (C = 0.05)", LogisticRisk)):
        began = cpu()
        models[label] = out_of_fold(make, data)
        seconds[label] = cpu() - began
    reference_name = next(iter(obvious))
    names = [*obvious, *models]
    scores = [np.nan_to_num(s, nan=-1.0) for s in [*obvious.values(), *models.values()]]
    reps = cluster_boot(data.y, scores, data.split_groups.to_numpy())
    ref = reps[0]
    for label, s, r in zip(names, scores, reps, strict=True):
        lo, hi = np.quantile(r, [0.025, 0.975])
        line = f"  {label:40} AUROC {auroc(data.y, s):.3f} ({lo:.3f}-{hi:.3f})"
        if label in models:
            d = r - ref
            dl, dh = np.quantile(d, [0.025, 0.975])
            line += (f"  vs {reference_name}: {auroc(data.y, s) - auroc(data.y, scores[0]):+.3f} "
                     f"({dl:+.3f} to {dh:+.3f})  cpu {seconds[label]:.1f} s")
        print(line, flush=True)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else get_settings().resolved_database_url()
    store = Store(url)
    began = cpu()
    timelines = [acute.timeline(r) for r in store_records(store)]
    t_records = cpu() - began
    began = cpu()
    det = timeline_dataset("deterioration", timelines)
    t_det = cpu() - began
    began = cpu()
    ed = timeline_dataset("ed-admission", timelines)
    t_ed = cpu() - began
    print(f"{len(timelines)} patient records read in {t_records:.1f} s CPU ({1000 * t_records / len(timelines):.0f} "
          f"ms each); rows: deterioration {t_det:.1f} s, ed-admission {t_ed:.1f} s")
    run("deterioration (NEWS2 >= 7, ICU or death within 24 h)", det,
        {"NEWS2 at the index set (obvious rule)": det.X["news2"].to_numpy(float),
         "highest NEWS2 in the last 24 h": det.X["news2_max_24h"].to_numpy(float)})
    run("ed-admission", ed, {"triage NEWS2 (obvious rule)": ed.X["news2"].to_numpy(float),
                             "age": ed.X["age"].to_numpy(float)})


if __name__ == "__main__":
    main()
