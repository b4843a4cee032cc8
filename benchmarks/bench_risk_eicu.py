"""eICU-CRD demo: hospital mortality from the APACHE IV physiology and predictor tables, against
APACHE IVa's own predicted hospital mortality (AUROC 0.862 on the 1,683 stays that have one).

5-fold CV grouped by patient (``uniquepid``), calibrated out-of-fold probabilities (as ``hygeia risk
train`` makes them); AUROC with 95 % bootstrap CIs and the paired bootstrap CI of the difference to
APACHE IVa on the stays APACHE scored. APACHE IVa was fitted on >100,000 stays; these models see
~1,700 training stays per fold.

    python benchmarks/bench_risk_eicu.py
"""

from __future__ import annotations

import resource

import numpy as np

from hygeia.config import get_settings
from hygeia.governance.evaluation import auroc, bootstrap, ece
from hygeia.risk.data import eicu_dataset
from hygeia.risk.models import LightGBMRisk, LogisticRisk
from hygeia.risk.training import out_of_fold


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    data, apache = eicu_dataset(get_settings().reference("clinical", "eicu-demo-2.0.1"))
    scored = np.isfinite(apache)
    print(f"eICU demo: {data.n} stays with APACHE physiology, {data.events} hospital deaths, "
          f"{data.X.shape[1]} features; APACHE IVa prediction for {scored.sum()}")
    ref = bootstrap(auroc, data.y[scored], apache[scored], n_boot=500)
    print(f"  {'APACHE IVa predicted hospital mortality':44} AUROC {ref.text()} (its stays)")
    for name, est in (("LightGBM hand-set, calibrated", LightGBMRisk()), ("logistic, calibrated", LogisticRisk())):
        start = cpu()
        p = out_of_fold(est, data)
        all_ = bootstrap(auroc, data.y, p, n_boot=500)
        sub = bootstrap(auroc, data.y[scored], p[scored], n_boot=500)
        rng = np.random.default_rng(0)
        ys, ps, a = data.y[scored], p[scored], apache[scored]
        diffs = []
        for _ in range(500):
            i = rng.integers(0, len(ys), len(ys))
            diffs.append(auroc(ys[i], ps[i]) - auroc(ys[i], a[i]))
        print(f"  {name:44} AUROC {all_.text()} (all), {sub.text()} (APACHE's stays), vs APACHE "
              f"{sub.value - ref.value:+.3f} ({np.quantile(diffs, 0.025):+.3f} to {np.quantile(diffs, 0.975):+.3f}); "
              f"ECE {ece(data.y, p):.3f}; cpu {cpu() - start:.1f} s")


if __name__ == "__main__":
    main()
