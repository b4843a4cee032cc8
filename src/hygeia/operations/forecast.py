"""Daily admissions and midnight census per ward or specialty, forecast with statsforecast models chosen
by a rolling-origin backtest.

Candidates: seasonal naive (weekly; the baseline), AutoETS with weekly seasonality, and — when at least
two years of history exist — MSTL with weekly and yearly (365-day) seasonality (Bandara et al. 2021,
arXiv:2107.13462; Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.10 for
time-series cross-validation and MASE). Holidays: a multiplicative holiday factor (mean of holiday days
over the same weekday one week either side) is removed before fitting and re-applied to forecast days
that are holidays. MASE is scaled by the in-sample weekly seasonal-naive MAE.
Decision support for operations managers and clinicians, not an instruction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from hygeia import DECISION_SUPPORT_NOTICE

LEVELS = (80, 95)


class ForecastInputError(ValueError):
    """Encounter data that cannot be turned into daily series (names the column or row)."""


@dataclass(frozen=True)
class Backtest:
    model: str
    mase: float
    coverage: dict[int, float]  # level -> fraction of actuals inside the interval


@dataclass(frozen=True)
class Forecast:
    series: str
    model: str
    history: pd.Series
    mean: pd.Series
    lower: dict[int, pd.Series]
    upper: dict[int, pd.Series]
    backtests: tuple[Backtest, ...] = ()
    holiday_factor: float = 1.0
    notice: str = DECISION_SUPPORT_NOTICE
    notes: tuple[str, ...] = field(default_factory=tuple)

    def report(self) -> dict[str, Any]:
        """Backtest table: MASE and coverage per model, and the chosen model's ratio to seasonal naive."""
        base = next((b for b in self.backtests if b.model == "SeasonalNaive"), None)
        return {"series": self.series, "chosen": self.model, "holiday_factor": round(self.holiday_factor, 3),
                "models": [{"model": b.model, "mase": round(b.mase, 3),
                            "coverage": {str(k): round(v, 3) for k, v in b.coverage.items()},
                            "mase_vs_seasonal_naive": round(b.mase / base.mase, 3) if base and base.mase else None}
                           for b in self.backtests],
                "notice": self.notice}


def encounters_frame(resources: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """FHIR Encounters → DataFrame(id, start, end, ward, specialty); ward = last location, specialty =
    serviceType (else type) text. Encounters without a period start are skipped."""
    rows = []
    for enc in resources:
        period = enc.get("period") or {}
        if not period.get("start"):
            continue
        locations = enc.get("location") or []
        ward = ((locations[-1].get("location") or {}).get("display") if locations else None) or "unknown"
        concept = enc.get("serviceType") or ((enc.get("type") or [None])[0]) or {}
        if isinstance(concept, list):
            concept = concept[0] if concept else {}
        specialty = concept.get("text") or ((concept.get("coding") or [{}])[0].get("display")) or "unknown"
        rows.append({"id": enc.get("id", ""), "start": period["start"], "end": period.get("end"),
                     "ward": ward, "specialty": specialty})
    frame = pd.DataFrame(rows, columns=["id", "start", "end", "ward", "specialty"])
    frame["start"] = pd.to_datetime(frame["start"], utc=True, errors="coerce").dt.tz_localize(None)
    frame["end"] = pd.to_datetime(frame["end"], utc=True, errors="coerce").dt.tz_localize(None)
    return frame


def encounters_from_store(store: Any, count: int = 100_000) -> pd.DataFrame:
    """Read up to ``count`` Encounters from a :class:`hygeia.records.Store`."""
    _, found = store.search("Encounter", count=count)
    return encounters_frame(found)


def daily_series(encounters: pd.DataFrame, by: str | None = "ward", measure: str = "admissions",
                 until: pd.Timestamp | None = None) -> dict[str, pd.Series]:
    """Daily ``admissions`` (encounters starting that day) or midnight ``census`` (in hospital at the
    midnight ending that day; open encounters stay in) per value of column ``by`` (None = whole hospital)."""
    for col in ("start", "end") + ((by,) if by else ()):
        if col not in encounters.columns:
            raise ForecastInputError(f"encounters: missing column {col!r}")
    if measure not in ("admissions", "census"):
        raise ForecastInputError(f"measure must be 'admissions' or 'census', not {measure!r}")
    frame = encounters.copy()
    frame["start"] = pd.to_datetime(frame["start"], errors="coerce")
    frame["end"] = pd.to_datetime(frame["end"], errors="coerce")
    bad = frame.index[frame["start"].isna()]
    if len(bad):
        raise ForecastInputError(f"encounters row {bad[0]}: start is missing or not a date")
    backwards = frame.index[frame["end"].notna() & (frame["end"] < frame["start"])]
    if len(backwards):
        raise ForecastInputError(f"encounters row {backwards[0]}: end is before start")
    if frame.empty:
        return {}
    first = frame["start"].min().normalize()
    last = (until or max(frame["start"].max(), frame["end"].max() if frame["end"].notna().any() else first))
    days = pd.date_range(first, pd.Timestamp(last).normalize(), freq="D")
    groups = frame.groupby(by) if by else [("all", frame)]
    out: dict[str, pd.Series] = {}
    for key, g in groups:
        if measure == "admissions":
            s = g["start"].dt.normalize().value_counts().reindex(days, fill_value=0)
        else:
            midnights = days + pd.Timedelta(days=1)
            starts = np.sort(g["start"].to_numpy())
            ends = np.sort(g["end"].fillna(pd.Timestamp.max).to_numpy())
            inside = np.searchsorted(starts, midnights.to_numpy(), side="right") - np.searchsorted(
                ends, midnights.to_numpy(), side="right")
            s = pd.Series(inside, index=days)
        out[str(key)] = s.astype(float).rename(str(key))
    return out


def _holiday_factor(y: pd.Series, holidays: set[pd.Timestamp]) -> float:
    ratios = []
    for d in y.index:
        if d in holidays:
            around = [y.get(d - pd.Timedelta(days=7)), y.get(d + pd.Timedelta(days=7))]
            ref = [v for v in around if v is not None and not np.isnan(v)]
            if ref and np.mean(ref) > 0:
                ratios.append(y[d] / float(np.mean(ref)))
    return float(np.clip(np.mean(ratios), 0.2, 3.0)) if ratios else 1.0


def _models(n: int, horizon: int) -> list[Any]:
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    models: list[Any] = [SeasonalNaive(season_length=7), AutoETS(season_length=7)]
    if n >= 2 * 365 + horizon:
        models.append(MSTL(season_length=[7, 365], trend_forecaster=AutoETS(model="ZZN"), alias="MSTL"))
    return models


def _scale(y: np.ndarray) -> float:
    diffs = np.abs(y[7:] - y[:-7])
    return float(diffs.mean()) if diffs.size and diffs.mean() > 0 else 1.0


def backtest(y: pd.Series, horizon: int = 14, windows: int = 3, holidays: Sequence[date] = ()) -> list[Backtest]:
    """Rolling-origin backtest (``windows`` origins, ``horizon`` days each) of every candidate model."""
    from statsforecast import StatsForecast

    if len(y) < 7 * 3 + horizon * windows:
        raise ForecastInputError(f"series {y.name!r}: {len(y)} days is too short for {windows} backtest windows "
                                 f"of {horizon} days (need ≥ {7 * 3 + horizon * windows})")
    hol = {pd.Timestamp(h) for h in holidays}
    factor = _holiday_factor(y, hol)
    adj = y.copy()
    on_hol = adj.index.isin(list(hol))
    adj[on_hol] = adj[on_hol] / factor
    df = pd.DataFrame({"unique_id": "s", "ds": adj.index, "y": adj.to_numpy()})
    sf = StatsForecast(models=_models(len(y) - horizon * windows, horizon), freq="D", n_jobs=1)
    cv = sf.cross_validation(df=df, h=horizon, step_size=horizon, n_windows=windows, level=list(LEVELS))
    actual = y.reindex(pd.DatetimeIndex(cv["ds"])).to_numpy()
    mult = np.where(pd.DatetimeIndex(cv["ds"]).isin(list(hol)), factor, 1.0)
    results = []
    names = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y") and "-lo-" not in c
             and "-hi-" not in c]
    for name in names:
        errors, inside = [], {lv: [] for lv in LEVELS}  # type: ignore[var-annotated]
        for cutoff in cv["cutoff"].unique():
            mask = (cv["cutoff"] == cutoff).to_numpy()
            train = y[y.index <= cutoff].to_numpy()
            pred = cv[name].to_numpy()[mask] * mult[mask]
            errors.append(np.abs(actual[mask] - pred).mean() / _scale(train))
            for lv in LEVELS:
                lo = cv[f"{name}-lo-{lv}"].to_numpy()[mask] * mult[mask]
                hi = cv[f"{name}-hi-{lv}"].to_numpy()[mask] * mult[mask]
                inside[lv].extend(((actual[mask] >= lo) & (actual[mask] <= hi)).tolist())
        results.append(Backtest(name, float(np.mean(errors)), {lv: float(np.mean(v)) for lv, v in inside.items()}))
    return results


def forecast_series(y: pd.Series, horizon: int = 14, windows: int = 3, holidays: Sequence[date] = ()) -> Forecast:
    """Choose the model with the lowest backtest MASE, refit on all history, forecast ``horizon`` days
    with 80 % and 95 % prediction intervals (clipped at zero)."""
    from statsforecast import StatsForecast

    y = y.asfreq("D").fillna(0.0)
    tests = backtest(y, horizon, windows, holidays)
    chosen = min(tests, key=lambda b: b.mase).model
    hol = {pd.Timestamp(h) for h in holidays}
    factor = _holiday_factor(y, hol)
    adj = y.copy()
    on_hol = adj.index.isin(list(hol))
    adj[on_hol] = adj[on_hol] / factor
    model = next(m for m in _models(len(y), horizon) if str(m) == chosen or getattr(m, "alias", "") == chosen)
    sf = StatsForecast(models=[model], freq="D", n_jobs=1)
    fc = sf.forecast(df=pd.DataFrame({"unique_id": "s", "ds": adj.index, "y": adj.to_numpy()}), h=horizon,
                     level=list(LEVELS))
    index = pd.DatetimeIndex(fc["ds"])
    mult = np.where(index.isin(list(hol)), factor, 1.0)

    def col(name: str) -> pd.Series:
        return pd.Series(np.clip(fc[name].to_numpy() * mult, 0, None), index=index)

    return Forecast(str(y.name), chosen, y, col(chosen), {lv: col(f"{chosen}-lo-{lv}") for lv in LEVELS},
                    {lv: col(f"{chosen}-hi-{lv}") for lv in LEVELS}, tuple(tests), factor)
