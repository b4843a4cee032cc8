"""NEWS2 scoring: chart edges, scales, missing/stale readings, risk bands, table loading, properties."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.ews import (
    PARAMETERS,
    RCP_2017,
    BandTable,
    Reading,
    ResponseLevel,
    acvpu_codes,
    load_news2_table,
    news2_table_from_dict,
    score_news2,
    score_news2_arrays,
)
from hygeia.ews.bands import Band, table

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
NORMAL = {"rr": 16, "spo2": 97, "on_oxygen": False, "sbp": 120, "pulse": 70, "acvpu": "A", "temp_c": 37.0}


def full(**changes: object) -> dict[str, object]:
    return {**NORMAL, **changes}


# ---------------------------------------------------------------- band tables


def test_every_band_edge_scores_its_band() -> None:
    for bt in (*RCP_2017.numeric().values(), RCP_2017.spo2_scale1, RCP_2017.spo2_scale2_air):
        for band in bt.bands:
            for edge in (band.lo, band.hi):
                if edge is not None:
                    assert bt.score(edge) == band.score, (bt.parameter, edge)
                    assert int(bt.score_array([edge])[0]) == band.score


def test_between_charted_values_rounds_half_up() -> None:
    rr, temp = RCP_2017.respiration_rate, RCP_2017.temperature
    assert rr.score(8.4) == 3 and rr.score(8.5) == 1  # 8.5 /min is charted as 9
    assert temp.score(35.04) == 3 and temp.score(35.05) == 1
    assert list(temp.score_array([35.04, 35.05, 38.05])) == [3, 1, 1]


def test_band_table_rejects_gaps_and_closed_ends() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        table("x", "", 1, (None, 8, 3), (10, None, 0))
    with pytest.raises(ValueError, match="open"):
        BandTable("x", "", 1, (Band(0, 8, 3), Band(9, None, 0)))
    with pytest.raises(ValueError, match="finite"):
        RCP_2017.pulse.score(math.nan)


def test_nan_is_missing_in_arrays() -> None:
    assert list(RCP_2017.pulse.score_array([np.nan, 35, 200])) == [-1, 3, 3]


# ---------------------------------------------------------------- scalar API


def test_all_normal_scores_zero_routine() -> None:
    r = score_news2(full(), now=NOW)
    assert r.total == 0 and r.complete and r.risk == "low" and r.level == ResponseLevel.ROUTINE
    assert r.response.monitoring == "minimum 12 hourly"
    assert tuple(r.scores) == PARAMETERS


def test_spo2_scale2_depends_on_air_or_oxygen() -> None:
    on_air = score_news2(full(spo2=97, on_oxygen=False), scale=2)
    on_o2 = score_news2(full(spo2=97, on_oxygen=True), scale=2)
    assert on_air.scores["spo2"].score == 0
    assert on_o2.scores["spo2"].score == 3 and on_o2.scores["air_or_oxygen"].score == 2
    scale1 = score_news2(full(spo2=97, on_oxygen=True), scale=1)
    assert scale1.scores["spo2"].score == 0


def test_scale2_without_oxygen_flag_scores_spo2_only_where_unambiguous() -> None:
    low = score_news2({"spo2": 85}, scale=2)
    high = score_news2({"spo2": 95}, scale=2)
    assert low.scores["spo2"].score == 2
    assert "spo2" not in high.scores and "spo2" in high.missing


@pytest.mark.parametrize(
    ("changes", "total", "risk", "level"),
    [
        ({"pulse": 95}, 1, "low", ResponseLevel.WARD),
        ({"rr": 26}, 3, "low-medium", ResponseLevel.URGENT_WARD),  # a single red 3
        ({"acvpu": "C"}, 3, "low-medium", ResponseLevel.URGENT_WARD),  # new confusion scores 3
        ({"rr": 22, "pulse": 115, "temp_c": 38.5}, 5, "medium", ResponseLevel.URGENT),
        ({"rr": 26, "pulse": 115}, 5, "medium", ResponseLevel.URGENT),  # red 3 inside medium stays medium
        ({"rr": 26, "sbp": 95, "pulse": 115}, 7, "high", ResponseLevel.EMERGENCY),
        (
            {"rr": 30, "spo2": 80, "on_oxygen": True, "sbp": 80, "pulse": 150, "acvpu": "U", "temp_c": 34},
            20,
            "high",
            ResponseLevel.EMERGENCY,
        ),
    ],
)
def test_risk_bands(changes: dict[str, object], total: int, risk: str, level: ResponseLevel) -> None:
    r = score_news2(full(**changes))
    assert (r.total, r.risk, r.level) == (total, risk, level)


def test_missing_parameters_are_reported_not_normal() -> None:
    r = score_news2({"rr": 26, "pulse": 70, "sbp": None})
    assert not r.complete
    assert set(r.missing) == {"spo2", "air_or_oxygen", "systolic_bp", "consciousness", "temperature"}
    assert r.total == 3 and set(r.scores) == {"respiration_rate", "pulse"}


def test_ages_and_staleness() -> None:
    readings = {
        "rr": Reading(18, NOW - timedelta(minutes=10), "Observation/rr1"),
        "pulse": (80, NOW - timedelta(hours=3)),
        "sbp": (130, NOW - timedelta(minutes=1), "Observation/bp"),
    }
    r = score_news2(readings, now=NOW, max_age=timedelta(hours=1))
    assert r.scores["respiration_rate"].age == timedelta(minutes=10)
    assert r.scores["respiration_rate"].reference == "Observation/rr1"
    assert r.stale == ("pulse",) and "pulse" in r.missing


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rr": "fast"}, "respiration_rate"),
        ({"spo2": 130}, "spo2"),
        ({"temp_c": float("inf")}, "temperature"),
        ({"acvpu": "X"}, "consciousness"),
        ({"on_oxygen": "maybe"}, "air_or_oxygen"),
        ({"sbp": True}, "systolic_bp"),
    ],
)
def test_bad_values_name_the_parameter(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        score_news2(full(**changes))


def test_unknown_parameter_and_scale_rejected() -> None:
    with pytest.raises(ValueError, match="unknown NEWS2 parameter"):
        score_news2({"lactate": 4})
    with pytest.raises(ValueError, match="scale"):
        score_news2(full(), scale=3)


# ---------------------------------------------------------------- table from JSON


def _doc() -> dict[str, object]:
    def rows(bt: BandTable, on: str | None = None) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for b in bt.bands:
            row: dict[str, object] = {"score": b.score}
            if b.lo is not None:
                row["min"] = b.lo
            if b.hi is not None:
                row["max"] = b.hi
            if on:
                row["on"] = on
            out.append(row)
        return out

    t = RCP_2017
    return {
        "parameters": {
            "respiration_rate_per_min": rows(t.respiration_rate),
            "spo2_scale1_pct": rows(t.spo2_scale1),
            "spo2_scale2_pct": [
                *rows(t.spo2_scale2_air)[:4],
                {"min": 93, "on": "air", "score": 0},
                *rows(t.spo2_scale2_oxygen, "oxygen")[4:],
            ],
            "air_or_oxygen": [{"value": "air", "score": 0}, {"value": "oxygen", "score": 2}],
            "systolic_bp_mmHg": rows(t.systolic_bp),
            "pulse_per_min": rows(t.pulse),
            "consciousness_ACVPU": [
                {"value": "A", "score": 0},
                {"value": ["C (new confusion)", "V", "P", "U"], "score": 3},
            ],
            "temperature_C": rows(t.temperature),
        },
        "chart4_clinical_response": [
            {
                "trigger": r.trigger,
                "monitoring": r.monitoring,
                "response": r.action,
                **({"label": r.label} if r.label else {}),
            }
            for r in t.responses
        ],
    }


def test_table_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(_doc()))
    assert load_news2_table(path) == RCP_2017


def test_table_loader_drives_scoring() -> None:
    doc = _doc()
    doc["parameters"]["pulse_per_min"][2]["max"] = 95  # type: ignore[index]
    doc["parameters"]["pulse_per_min"][3]["min"] = 96  # type: ignore[index]
    local = news2_table_from_dict(doc)
    assert score_news2({"pulse": 93}, table=local).total == 0
    assert score_news2({"pulse": 93}).total == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["parameters"].pop("pulse_per_min"), "pulse_per_min"),
        (lambda d: d["parameters"]["pulse_per_min"][1].update({"min": 45}), "contiguous"),
        (lambda d: d.update({"chart4_clinical_response": []}), "chart4"),
        (lambda d: d.update({"parameters": "nope"}), "malformed"),
    ],
)
def test_table_loader_rejects_malformed(mutate: object, message: str) -> None:
    doc = _doc()
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        news2_table_from_dict(doc)


def test_table_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json"):
        load_news2_table(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_news2_table(tmp_path / "absent.json")


# ---------------------------------------------------------------- vectorised API and properties


def test_acvpu_codes() -> None:
    assert list(acvpu_codes(["A", "c", "", None, "unresponsive"])) == [0, 1, -1, -1, 4]
    with pytest.raises(ValueError, match="consciousness"):
        acvpu_codes(["Z"])


rows = st.fixed_dictionaries(
    {
        "rr": st.none() | st.floats(0, 60),
        "spo2": st.none() | st.floats(50, 100),
        "on_oxygen": st.none() | st.booleans(),
        "sbp": st.none() | st.floats(40, 300),
        "pulse": st.none() | st.floats(20, 250),
        "acvpu": st.none() | st.sampled_from("ACVPU"),
        "temp_c": st.none() | st.floats(30, 43),
        "scale": st.sampled_from([1, 2]),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(rows, min_size=1, max_size=20))
def test_vectorised_equals_scalar(batch: list[dict[str, object]]) -> None:
    def col(key: str) -> list[float]:
        return [math.nan if r[key] is None else float(r[key]) for r in batch]  # type: ignore[arg-type]

    out = score_news2_arrays(
        col("rr"),
        col("spo2"),
        col("on_oxygen"),
        col("sbp"),
        col("pulse"),
        acvpu_codes([r["acvpu"] for r in batch]),
        col("temp_c"),
        [r["scale"] for r in batch],
    )
    for i, r in enumerate(batch):
        scale = int(r.pop("scale"))  # type: ignore[call-overload]
        s = score_news2(r, scale=scale)  # type: ignore[arg-type]
        assert out.total[i] == s.total
        assert bool(out.complete[i]) == s.complete
        assert bool(out.any_red_3[i]) == s.any_red_3
        assert out.level[i] == s.level
        for p in PARAMETERS:
            assert out.parameter_scores[p][i] == (s.scores[p].score if p in s.scores else -1)


def _distance_pairs(bt: BandTable) -> st.SearchStrategy[tuple[float, float]]:
    lo, hi = bt.normal_range()
    below = st.tuples(st.floats(0, lo if lo is not None else 0), st.floats(0, 1)).map(
        lambda t: (t[0], t[0] * t[1])
    )  # second value further below normal
    above = st.tuples(st.floats(hi if hi is not None else 100, 300), st.floats(0, 100)).map(
        lambda t: (t[0], t[0] + t[1])
    )
    return below | above


@pytest.mark.parametrize(
    "bt",
    [
        RCP_2017.respiration_rate,
        RCP_2017.systolic_bp,
        RCP_2017.pulse,
        RCP_2017.temperature,
        RCP_2017.spo2_scale1,
        RCP_2017.spo2_scale2_air,
        RCP_2017.spo2_scale2_oxygen,
    ],
    ids=lambda b: b.parameter,
)
def test_score_never_falls_moving_away_from_normal(bt: BandTable) -> None:
    @settings(max_examples=200, deadline=None)
    @given(_distance_pairs(bt))
    def check(pair: tuple[float, float]) -> None:
        near, far = pair
        assert bt.score(far) >= bt.score(near)

    check()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["rr", "sbp", "pulse", "temp_c", "spo2"]), st.floats(-50, 50))
def test_total_never_falls_as_one_parameter_moves_away_from_normal(param: str, delta: float) -> None:
    base = score_news2(full()).total
    normal = float(NORMAL[param])  # type: ignore[arg-type]
    lo, hi = {"rr": (0, 100), "sbp": (0, 350), "pulse": (0, 350), "temp_c": (20, 46), "spo2": (0, 100)}[param]
    a = min(max(normal + delta / 2, lo), hi)
    b = min(max(normal + delta, lo), hi)
    sa, sb = score_news2(full(**{param: a})).total, score_news2(full(**{param: b})).total
    assert base <= sa <= sb
