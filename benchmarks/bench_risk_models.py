"""Hygeia's risk features against the obvious model, on the same folds / the same split.

- icu-mortality (PhysioNet 2012 set A, 5-fold CV grouped by patient, repeated with seeds 0..REPEATS-1;
  seed 0 = the folds ``hygeia risk train`` uses): the obvious model is first/last/min/max/mean/count of
  each variable over 48 h (plus the static descriptors) into LightGBM with default settings (the issue's
  anchor); Hygeia's features (trends, missingness, measurement frequency, SAPS-/SOFA-like scores and the
  curated SAPS II / APACHE II / urine-per-kg / early-late block) into the same default LightGBM isolate
  the gain from features, the hand-set LightGBM with the task's settings (``Task.model_params``: extremely
  randomised splits) shows the rest, the hand-set LightGBM without them the share of those settings; the
  set without the curated block shows that block's share. AUROC = mean over repetitions; CIs resample patients.
- readmission-30d (Diabetes-130, a fifth of the patients held back by hashed patient id): the
  table's columns as they come (categoricals as LightGBM categories) into default LightGBM,
  against Hygeia's features with and without the patient's prior-visit history.

AUROC (uncalibrated scores: calibration is monotone per fold and barely moves AUROC) with 95 %
bootstrap CIs and the paired bootstrap CI of the difference to the obvious model; CPU seconds.

    python benchmarks/bench_risk_models.py [physionet|diabetes|all] [REPEATS (physionet; default 3)]
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.model_selection import StratifiedGroupKFold

from hygeia.config import get_settings
from hygeia.governance.evaluation import auroc, bootstrap
from hygeia.risk.data import (
    diabetes130_dataset,
    holdout_mask,
    physionet2012_dataset,
    physionet2012_features,
    read_outcomes,
)
from hygeia.risk.features import Observations, curated_features
from hygeia.risk.history import REQUIRED
from hygeia.risk.models import LightGBMRisk, LogisticRisk
from hygeia.risk.tasks import get_task

OBVIOUS_STATS = ("first", "last", "min", "max", "mean", "count")
STATICS = ("age", "sex_male", "height", "icu_type__1", "icu_type__2", "icu_type__3", "icu_type__4", "mech_vent",
           "urine_output__sum")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def default_lgbm() -> LGBMClassifier:
    return LGBMClassifier(n_jobs=1, verbose=-1, random_state=0)


def obvious_columns(columns: pd.Index) -> list[str]:
    raw = {c.split("__")[0] for c in columns if c.endswith("__first")}
    return [c for c in columns if (c.split("__")[0] in raw and c.split("__")[-1] in OBVIOUS_STATS)
            or c in STATICS]


def paired_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray, n_boot: int = 500) -> tuple[float, float, float]:
    """AUROC(a) − AUROC(b) with a paired percentile bootstrap CI."""
    rng = np.random.default_rng(0)
    reps = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        reps.append(auroc(y[i], a[i]) - auroc(y[i], b[i]))
    return auroc(y, a) - auroc(y, b), float(np.quantile(reps, 0.025)), float(np.quantile(reps, 0.975))


def report(name: str, y: np.ndarray, p: np.ndarray, seconds: float, reference: np.ndarray | None) -> None:
    est = bootstrap(auroc, y, p, n_boot=500)
    line = f"  {name:52} AUROC {est.text()}  cpu {seconds:6.1f} s"
    if reference is not None:
        d, lo, hi = paired_difference(y, p, reference)
        line += f"  vs obvious {d:+.3f} ({lo:+.3f} to {hi:+.3f})"
    print(line, flush=True)


def oof(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], y: np.ndarray,
        splits: list[list[tuple[np.ndarray, np.ndarray]]]) -> np.ndarray:
    """Out-of-fold scores, one row per repetition of the cross-validation; ``fit_predict(train, test)``
    fits on the training indices and returns scores for the test indices."""
    out = np.zeros((len(splits), len(y)))
    for r, folds in enumerate(splits):
        for tr, te in folds:
            out[r, te] = fit_predict(tr, te)
    return out


def repeated_oof(make: Callable[[], object], X: np.ndarray, y: np.ndarray,
                 splits: list[list[tuple[np.ndarray, np.ndarray]]]) -> np.ndarray:
    """Out-of-fold scores of a fresh ``make()`` estimator per fold, one row per repetition."""
    return oof(lambda tr, te: make().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1],  # type: ignore[attr-defined]
               y, splits)


def repeated_report(name: str, y: np.ndarray, p: np.ndarray, seconds: float, reference: np.ndarray | None,
                    n_boot: int = 500, versus: str = "obvious") -> None:
    """Mean AUROC over the repetitions, a bootstrap CI (patients resampled, the mean over repetitions
    recomputed) and the paired CI of the difference to the reference on the same resamples."""
    rng = np.random.default_rng(0)
    value = float(np.mean([auroc(y, r) for r in p]))
    reps, diffs = [], []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        a = [auroc(y[i], r[i]) for r in p]
        reps.append(np.mean(a))
        if reference is not None:
            diffs.append(np.mean([x - auroc(y[i], r[i]) for x, r in zip(a, reference, strict=True)]))
    line = (f"  {name:58} AUROC {value:.3f} ({np.quantile(reps, 0.025):.3f}-{np.quantile(reps, 0.975):.3f})"
            f"  cpu {seconds:6.1f} s")
    if reference is not None:
        d = value - float(np.mean([auroc(y, r) for r in reference]))
        line += f"  vs {versus} {d:+.3f} ({np.quantile(diffs, 0.025):+.3f} to {np.quantile(diffs, 0.975):+.3f})"
    print(line, flush=True)


def physionet(repeats: int = 3) -> None:
    root = get_settings().reference("clinical", "physionet-2012")
    table = physionet2012_features(root / "set-a", get_settings().data_dir / "cache" / "risk", n_jobs=2)
    data = physionet2012_dataset(table, read_outcomes(root / "Outcomes-a.txt"), "set-a")
    obvious = obvious_columns(data.X.columns)
    curated = list(curated_features({}, Observations(pd.DataFrame(), {}, None, None, (), 0, None)))
    without_curated = [c for c in data.X.columns if c not in curated]
    print(f"icu-mortality, PhysioNet 2012 set A: n={data.n}, deaths={data.events}; 5-fold CV grouped by patient, "
          f"stratified, repeated {repeats}x (seeds 0..{repeats - 1}; seed 0 = the folds of hygeia risk train); "
          f"obvious model {len(obvious)} columns, Hygeia {data.X.shape[1]} columns")
    splits = [list(StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(data.X, data.y, data.split_groups))
              for seed in range(repeats)]
    task_params = dict(get_task("icu-mortality").model_params.get("lightgbm", {}))

    def shipped() -> LightGBMRisk:  # the estimator `hygeia risk train icu-mortality` fits (before calibration)
        return LightGBMRisk(**task_params)

    configs: list[tuple[str, list[str], Callable[[], object]]] = [
        ("obvious features, LightGBM default (anchor)", obvious, default_lgbm),
        (f"Hygeia features, LightGBM hand-set {task_params} (hygeia risk train)", list(data.X.columns), shipped),
        ("Hygeia features, LightGBM hand-set without the task's settings", list(data.X.columns), LightGBMRisk),
        ("obvious features, LightGBM hand-set", obvious, LightGBMRisk),
        ("obvious features, logistic", obvious, LogisticRisk),
        ("Hygeia features without the curated block, as shipped", without_curated, shipped),
        ("Hygeia features, LightGBM default", list(data.X.columns), default_lgbm),
    ]
    reference: np.ndarray | None = None
    oofs: list[np.ndarray] = []
    for name, cols, make in configs:
        start = cpu()
        oof = repeated_oof(make, data.X[cols].to_numpy(dtype=float), data.y, splits)
        repeated_report(name, data.y, oof, cpu() - start, reference)
        oofs.append(oof)
        if reference is None:
            reference = oof
    print("the task's settings, paired (shipped minus the same features and learner without them):")
    repeated_report("Hygeia, hand-set + task settings", data.y, oofs[1], 0.0, oofs[2], versus="hand-set alone")


def diabetes() -> None:
    path = get_settings().reference("clinical", "diabetes-130", "diabetic_data.csv.gz")
    raw = pd.read_csv(path, na_values=["?"], low_memory=False, dtype={"diag_1": str, "diag_2": str, "diag_3": str})
    data = diabetes130_dataset(path)
    held = holdout_mask(data.split_groups)
    y = data.y
    print(f"readmission-30d, Diabetes-130: {data.n} encounters; held back {held.sum()} encounters of "
          f"{data.split_groups[held].nunique()} patients (a fifth, by hashed patient id); <30 rate {y.mean():.3f}")
    as_they_come = raw.drop(columns=["encounter_id", "patient_nbr", "readmitted"])
    for col in as_they_come.columns:
        if as_they_come[col].dtype == object:
            as_they_come[col] = as_they_come[col].astype("category")
    no_history = [c for c in data.X.columns if not c.startswith(("prior_", "previous_", "inpatient_change"))]
    configs: list[tuple[str, pd.DataFrame, Callable[[], object]]] = [
        ("table columns as they come, LightGBM default (anchor)", as_they_come, default_lgbm),
        ("Hygeia features without history, LightGBM hand-set", data.X[no_history], LightGBMRisk),
        ("Hygeia features + prior history, LightGBM default", data.X, default_lgbm),
        ("Hygeia features + prior history, LightGBM hand-set", data.X, LightGBMRisk),
        ("Hygeia features + prior history, logistic", data.X, LogisticRisk),
    ]
    reference: np.ndarray | None = None
    for name, X, make in configs:
        start = cpu()
        model = make()
        model.fit(X[~held], y[~held])  # type: ignore[attr-defined]
        p = model.predict_proba(X[held])[:, 1]  # type: ignore[attr-defined]
        report(name, y[held], p, cpu() - start, reference)
        if reference is None:
            reference = p
    assert set(REQUIRED) <= set(raw.columns)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    t0 = time.perf_counter()
    if which in ("physionet", "all"):
        physionet(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    if which in ("diabetes", "all"):
        diabetes()
    print(f"wall {time.perf_counter() - t0:.0f} s, cpu {cpu():.0f} s")
