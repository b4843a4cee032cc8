"""icu-mortality, issue 5 third follow-up: methods beyond features and LightGBM settings, against the shipped model.

Same folds and protocol as ``bench_risk_models.py physionet 3`` (PhysioNet 2012 set A, 5-fold CV grouped by
patient, stratified, seeds 0..REPEATS-1; uncalibrated out-of-fold scores; AUROC = mean over repetitions; CIs
resample patients, the paired CI recomputes the difference to the shipped model on each resample):

- ``shipped``: the estimator ``hygeia risk train icu-mortality`` fits (hand-set ``LightGBMRisk`` + ``extra_trees``),
  and the same learner with ``random_state=1`` averaged with it (the control for every two-model average: two
  randomised models average to a small gain by themselves);
- ``aux``: auxiliary targets from ``Outcomes-a.txt`` (death at any time after admission, death within 90 days —
  from ``Survival`` — and log length of stay): (a) stacked — out-of-fold predictions of the three from an inner
  5-fold split of each outer training fold (test rows: models fitted on the whole training fold) appended as
  columns for the final model; (b) richer target — the shipped learner trained on death-any / death-90-d, alone
  and as a 0.5/0.5 log-odds average with the shipped model;
- ``catboost``: CatBoost with its defaults (1 thread, seed 0), alone and 0.5/0.5 log-odds / rank averages;
- ``grud``: a GRU-D-style sequence model (torch) on an hourly grid of the 37 time series (hourly mean, urine
  summed; per-variable input decay towards the training mean, masks, log hours since last measured; statics into
  the head), early stopping on a seventh of each training fold; alone and 0.7/0.3, 0.5/0.5 averages.

    python benchmarks/bench_risk_icu_methods.py [shipped|aux|catboost|grud|all] [REPEATS (default 3)]

CatBoost and torch are optional (the ``train`` extra / ``pip install catboost``); a missing one is skipped.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from bench_risk_models import cpu, oof, repeated_report
from hygeia.config import get_settings
from hygeia.risk.data import physionet2012_dataset, physionet2012_features, read_outcomes
from hygeia.risk.models import LightGBMRisk


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def ranks(p: np.ndarray) -> np.ndarray:
    return np.array([rankdata(r) / len(r) for r in p])


def aux_targets(outcomes: pd.DataFrame) -> dict[str, np.ndarray]:
    survival = outcomes["Survival"].to_numpy(dtype=float)  # days to death, -1 = alive at follow-up
    dead = survival >= 0
    return {"death_any": dead.astype(int), "death_90d": (dead & (survival <= 90)).astype(int),
            "log_los": np.log1p(np.clip(outcomes["Length_of_stay"].to_numpy(dtype=float), 0, None))}


AUX_LGBM = dict(n_estimators=300, learning_rate=0.04, num_leaves=15, min_child_samples=30, subsample=0.8,
                subsample_freq=1, colsample_bytree=0.4, reg_lambda=2.0, extra_trees=True, n_jobs=1, random_state=0,
                verbose=-1)


def stacked_aux(X: np.ndarray, y: np.ndarray, aux: dict[str, np.ndarray], tr: np.ndarray, te: np.ndarray) -> np.ndarray:
    """Nested: auxiliary predictions for the training rows are out-of-fold within the training fold."""
    names = list(aux)
    f_tr, f_te = np.zeros((len(tr), len(names))), np.zeros((len(te), len(names)))
    inner = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X[tr], y[tr]))

    def fit_score(name: str, rows: np.ndarray, target: np.ndarray, score_rows: np.ndarray) -> np.ndarray:
        if name == "log_los":
            return np.asarray(LGBMRegressor(**AUX_LGBM).fit(X[rows], target).predict(X[score_rows]))
        return np.asarray(LGBMClassifier(**AUX_LGBM).fit(X[rows], target).predict(X[score_rows], raw_score=True))

    for k, name in enumerate(names):
        z = aux[name]
        for itr, ite in inner:
            f_tr[ite, k] = fit_score(name, tr[itr], z[tr[itr]], tr[ite])
        f_te[:, k] = fit_score(name, tr, z[tr], te)
    model = LightGBMRisk(extra_trees=True).fit(np.hstack([X[tr], f_tr]), y[tr])
    return np.asarray(model.predict_proba(np.hstack([X[te], f_te]))[:, 1])


def hourly_grid(directory: Path, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stays, 48, 37) hourly values (mean in the hour; urine: sum; NaN = not measured) and statics."""
    static = ["RecordID", "Age", "Gender", "Height", "ICUType"]
    raw = pd.concat([pd.read_csv(directory / f"{i}.txt").assign(rid=i) for i in ids])
    raw["hour"] = raw["Time"].str.slice(0, 2).astype(int)
    st = raw[raw.Parameter.isin(static)].pivot_table(index="rid", columns="Parameter", values="Value", aggfunc="first")
    ts = raw[~raw.Parameter.isin(static) & (raw.Value >= 0)]
    variables = sorted(ts.Parameter.unique())
    ts = ts.assign(b=np.clip(ts.hour, 0, 47))
    g = ts.groupby(["rid", "b", "Parameter"]).Value
    agg = pd.concat([g.mean().rename("mean"), g.sum().rename("sum")], axis=1).reset_index()
    agg["val"] = np.where(agg.Parameter == "Urine", agg["sum"], agg["mean"])
    V = np.full((len(ids), 48, len(variables)), np.nan, dtype=np.float32)
    row = {r: i for i, r in enumerate(ids)}
    col = {v: i for i, v in enumerate(variables)}
    V[agg.rid.map(row).to_numpy(), agg.b.to_numpy(), agg.Parameter.map(col).to_numpy()] = agg.val.to_numpy()
    s = st.loc[ids]
    S = np.column_stack([s.Age, s.Gender, s.Height.where(s.Height > 0),
                         *[(s.ICUType == k) for k in (1, 2, 3, 4)]]).astype(np.float32)
    return V, S


def grud_fit_predict(Vtr: np.ndarray, Str: np.ndarray, ytr: np.ndarray, Vte: np.ndarray, Ste: np.ndarray,
                     seed: int = 0, max_epochs: int = 40, patience: int = 6) -> np.ndarray:
    import torch
    from sklearn.metrics import roc_auc_score
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(ytr))
    va, tr = idx[:len(ytr) // 7], idx[len(ytr) // 7:]
    flat = Vtr[tr].reshape(-1, Vtr.shape[2])
    lo, hi = np.nanpercentile(flat, 0.5, axis=0), np.nanpercentile(flat, 99.5, axis=0)
    clipped = np.clip(flat, lo, hi)
    mu, sd = np.nanmean(clipped, axis=0), np.nanstd(clipped, axis=0) + 1e-6
    smu, ssd = np.nanmean(Str[tr], axis=0), np.nanstd(Str[tr], axis=0) + 1e-6

    def tensors(V: np.ndarray, S: np.ndarray) -> list[torch.Tensor]:
        m = np.isfinite(V).astype(np.float32)
        x = np.where(m > 0, (np.clip(V, lo, hi) - mu) / sd, 0.0).astype(np.float32)
        last, since = np.zeros(x[:, 0].shape, np.float32), np.zeros(x[:, 0].shape, np.float32)
        xl, dl = np.zeros_like(x), np.zeros_like(x)
        for t in range(x.shape[1]):  # value carried from before hour t and the hours since it was measured
            since = since + 1.0
            dl[:, t], xl[:, t] = since, last
            last = np.where(m[:, t] > 0, x[:, t], last)
            since = np.where(m[:, t] > 0, 0.0, since)
        s = np.hstack([np.nan_to_num((S - smu) / ssd), np.isnan(S)]).astype(np.float32)
        return [torch.from_numpy(a) for a in (x, m, np.log1p(dl).astype(np.float32), xl, s)]

    class GRUD(nn.Module):
        def __init__(self, d: int, n_static: int, hidden: int = 64, dropout: float = 0.3) -> None:
            super().__init__()
            self.w, self.b = nn.Parameter(torch.zeros(d)), nn.Parameter(torch.zeros(d))
            self.gru = nn.GRU(3 * d, hidden, batch_first=True)
            self.drop = nn.Dropout(dropout)
            self.head = nn.Sequential(nn.Linear(hidden + n_static, 32), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(32, 1))

        def forward(self, x: torch.Tensor, m: torch.Tensor, dl: torch.Tensor, xl: torch.Tensor,
                    s: torch.Tensor) -> torch.Tensor:
            gamma = torch.exp(-torch.relu(self.w * dl + self.b))  # decay of the carried value towards the mean
            h, _ = self.gru(torch.cat([m * x + (1 - m) * gamma * xl, m, dl], dim=2))
            return torch.as_tensor(self.head(torch.cat([self.drop(h[:, -1]), s], dim=1)).squeeze(1))

    A, B = tensors(Vtr, Str), tensors(Vte, Ste)
    target = torch.from_numpy(ytr.astype(np.float32))
    model = GRUD(Vtr.shape[2], A[4].shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    best, state, bad = -1.0, None, 0
    for _ in range(max_epochs):
        model.train()
        for batch in np.array_split(rng.permutation(tr), max(1, len(tr) // 128)):
            b = torch.from_numpy(batch)
            opt.zero_grad()
            loss_fn(model(*[a[b] for a in A]), target[b]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            score = float(roc_auc_score(ytr[va], model(*[a[torch.from_numpy(va)] for a in A]).numpy()))
        if score > best:
            best, bad, state = score, 0, {k: v.clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    assert state is not None
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        return np.asarray(torch.sigmoid(model(*B)).numpy())


def main(which: str, repeats: int) -> None:
    root = get_settings().reference("clinical", "physionet-2012")
    table = physionet2012_features(root / "set-a", get_settings().data_dir / "cache" / "risk", n_jobs=2)
    outcomes = read_outcomes(root / "Outcomes-a.txt")
    data = physionet2012_dataset(table, outcomes, "set-a")
    X, y, ids = data.X.to_numpy(dtype=float), data.y, data.ids.to_numpy()
    splits = [list(StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(X, y, data.split_groups))
              for seed in range(repeats)]
    print(f"icu-mortality, set A: n={data.n}, deaths={data.events}, {X.shape[1]} columns; 5-fold grouped CV x{repeats}")

    def shipped_seed(seed: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        return lambda tr, te: LightGBMRisk(extra_trees=True, random_state=seed).fit(X[tr], y[tr]).predict_proba(
            X[te])[:, 1]

    def run(name: str, fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
            ref: np.ndarray | None) -> np.ndarray:
        start = cpu()
        p = oof(fit_predict, y, splits)
        repeated_report(name, y, p, cpu() - start, ref, versus="shipped")
        return p

    def averages(name: str, p: np.ndarray, ref: np.ndarray, weights: tuple[float, ...] = (0.5,)) -> None:
        for w in weights:
            repeated_report(f"{1 - w:.1f} shipped + {w:.1f} {name}, log-odds", y, (1 - w) * logit(ref) + w * logit(p),
                            0.0, ref, versus="shipped")
            repeated_report(f"{1 - w:.1f} shipped + {w:.1f} {name}, ranks", y, (1 - w) * ranks(ref) + w * ranks(p),
                            0.0, ref, versus="shipped")

    ref = run("shipped: LightGBM hand-set + extra_trees", shipped_seed(0), None)
    if which in ("shipped", "all"):
        averages("the same learner, seed 1 (control)", run("same, random_state=1", shipped_seed(1), ref), ref)
    if which in ("aux", "all"):
        aux = aux_targets(outcomes.loc[ids])
        run("stacked auxiliary predictions (nested)", lambda tr, te: stacked_aux(X, y, aux, tr, te), ref)
        for name in ("death_any", "death_90d"):
            z = aux[name]
            p = run(f"trained on {name}", lambda tr, te, z=z: LightGBMRisk(extra_trees=True).fit(
                X[tr], z[tr]).predict_proba(X[te])[:, 1], ref)
            repeated_report(f"0.5 shipped + 0.5 {name}, log-odds", y, 0.5 * logit(ref) + 0.5 * logit(p), 0.0, ref,
                            versus="shipped")
    if which in ("catboost", "all"):
        try:
            from catboost import CatBoostClassifier
        except ImportError:
            print("  catboost not installed: skipped")
        else:
            p = run("CatBoost defaults", lambda tr, te: CatBoostClassifier(
                thread_count=1, random_seed=0, verbose=0, allow_writing_files=False).fit(
                X[tr], y[tr]).predict_proba(X[te])[:, 1], ref)
            averages("CatBoost", p, ref)
    if which in ("grud", "all"):
        try:
            import torch  # noqa: F401
        except ImportError:
            print("  torch not installed: skipped")
        else:
            V, S = hourly_grid(root / "set-a", ids)
            p = run("GRU-D-style, hourly grid", lambda tr, te: grud_fit_predict(V[tr], S[tr], y[tr], V[te], S[te]),
                    ref)
            averages("GRU-D", p, ref, (0.3, 0.5))


if __name__ == "__main__":
    t0 = time.perf_counter()
    main(sys.argv[1] if len(sys.argv) > 1 else "all", int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    print(f"wall {time.perf_counter() - t0:.0f} s, cpu {cpu():.0f} s")
