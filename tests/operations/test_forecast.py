"""Daily series from encounters, and model choice / intervals on synthetic series with known seasonality."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from hygeia.operations.forecast import ForecastInputError, daily_series, encounters_frame, forecast_series

WEEKLY = np.array([1.0, 1.3, 1.2, 1.1, 1.0, 0.5, 0.4])  # Mon..Sun multipliers


def _encounters() -> pd.DataFrame:
    return pd.DataFrame({
        "start": ["2024-01-01 10:00", "2024-01-01 23:00", "2024-01-02 08:00", "2024-01-03 09:00"],
        "end": ["2024-01-02 12:00", "2024-01-03 01:00", "2024-01-02 20:00", None],
        "ward": ["A", "A", "B", "B"], "specialty": ["surg", "med", "med", "med"]})


def test_admissions_and_midnight_census_by_hand() -> None:
    adm = daily_series(_encounters(), "ward", "admissions", until=pd.Timestamp("2024-01-04"))
    assert adm["A"].tolist() == [2, 0, 0, 0] and adm["B"].tolist() == [0, 1, 1, 0]
    census = daily_series(_encounters(), "ward", "census", until=pd.Timestamp("2024-01-04"))
    # A: both in at midnight 1→2, one at 2→3, none after; B: day-case never at midnight, open stay counts
    assert census["A"].tolist() == [2, 1, 0, 0]
    assert census["B"].tolist() == [0, 0, 1, 1]
    total = daily_series(_encounters(), None, "census", until=pd.Timestamp("2024-01-04"))
    assert total["all"].tolist() == [2, 1, 1, 1]


@pytest.mark.parametrize(("frame", "needle"), [
    (pd.DataFrame({"start": ["x"], "end": [None], "ward": ["A"]}), "row 0: start"),
    (pd.DataFrame({"start": ["2024-01-02"], "end": ["2024-01-01"], "ward": ["A"]}), "end is before start"),
    (pd.DataFrame({"start": ["2024-01-02"], "end": [None]}), "missing column 'ward'"),
])
def test_bad_encounters(frame: pd.DataFrame, needle: str) -> None:
    with pytest.raises(ForecastInputError, match=needle):
        daily_series(frame, "ward")


def test_fhir_encounters_to_frame() -> None:
    frame = encounters_frame([
        {"id": "e1", "period": {"start": "2024-01-01T10:00:00Z", "end": "2024-01-03T10:00:00Z"},
         "location": [{"location": {"display": "Ward 1"}}, {"location": {"display": "Ward 2"}}],
         "serviceType": {"coding": [{"display": "Cardiology"}]}},
        {"id": "e2", "period": {}},
    ])
    assert frame["ward"].tolist() == ["Ward 2"] and frame["specialty"].tolist() == ["Cardiology"]
    assert frame["start"].iloc[0] == pd.Timestamp("2024-01-01 10:00")


def test_forecast_recovers_weekly_pattern_and_holiday_effect() -> None:
    rng = np.random.default_rng(1)
    days = pd.date_range("2023-01-02", periods=20 * 7, freq="D")  # starts on a Monday
    holidays = [date(2023, 2, 15), date(2023, 3, 15), date(2023, 4, 12), date(2023, 5, 3)]
    rate = 40 * WEEKLY[days.dayofweek]
    rate[days.isin(pd.DatetimeIndex(holidays))] *= 0.5
    y = pd.Series(rng.poisson(rate).astype(float), index=days, name="ward A")
    fc = forecast_series(y, horizon=14, windows=3, holidays=holidays)
    assert fc.model in {"SeasonalNaive", "AutoETS"}
    assert 0.35 < fc.holiday_factor < 0.7
    by_dow = fc.mean.groupby(fc.mean.index.dayofweek).mean()
    assert by_dow[1] / by_dow[6] == pytest.approx(WEEKLY[1] / WEEKLY[6], rel=0.35)
    assert (fc.lower[95] <= fc.mean).all() and (fc.mean <= fc.upper[95]).all()
    assert (fc.upper[95] - fc.lower[95] >= fc.upper[80] - fc.lower[80] - 1e-9).all()
    report = fc.report()
    chosen = next(m for m in report["models"] if m["model"] == fc.model)
    assert chosen["mase_vs_seasonal_naive"] <= 1.0
    assert chosen["coverage"]["95"] >= 0.7
    assert "decision support" in report["notice"].lower()


def test_too_short_series_is_a_clear_error() -> None:
    y = pd.Series([1.0] * 20, index=pd.date_range("2024-01-01", periods=20), name="tiny")
    with pytest.raises(ForecastInputError, match="too short"):
        forecast_series(y)
