"""deterioration and ed-admission: cohorts, labels and features from PatientRecords of a small synthetic
hospital (hygeia.synth) loaded into a SQLite FHIR store; training, registry, scoring, the demo helper."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hygeia.config import get_settings
from hygeia.ews import Reading, score_news2
from hygeia.records.ingest import discover, ingest_paths
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store
from hygeia.risk import acute
from hygeia.risk.data import DataError, Dataset, store_records, timeline_dataset
from hygeia.risk.scoring import score_record
from hygeia.risk.training import TrainedModel, load, save, train
from hygeia.synth import generate

from .conftest import SMALL_LGBM

N_PATIENTS, SEED = 60, 3


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Store]:
    root = tmp_path_factory.mktemp("acute")
    generate(root / "synth", N_PATIENTS, SEED, genomes=False)
    store = Store(f"sqlite:///{root}/store.db")
    store.init()
    ingest_paths(store, discover([root / "synth" / "fhir"]))
    return root, store


@pytest.fixture(scope="module")
def timelines(hospital: tuple[Path, Store]) -> list[acute.Timeline]:
    return [acute.timeline(r) for r in store_records(hospital[1])]


@pytest.fixture(scope="module")
def deterioration(timelines: list[acute.Timeline]) -> Dataset:
    return timeline_dataset("deterioration", timelines, "test hospital")


@pytest.fixture(scope="module")
def det_model(deterioration: Dataset) -> TrainedModel:
    return train("deterioration", deterioration, folds=3, n_boot=30, params=SMALL_LGBM, calibration_folds=3)


@pytest.fixture(scope="module")
def ed(timelines: list[acute.Timeline]) -> Dataset:
    return timeline_dataset("ed-admission", timelines, "test hospital")


def _truncate(tl: acute.Timeline, t: float) -> acute.Timeline:
    """The timeline as it was at time ``t``: everything later removed, open periods still open."""
    keep = tl.times <= t
    encounters = [dataclasses.replace(e, end=e.end if e.end <= t else math.inf,
                                      icu=tuple((a, b if b <= t else math.inf) for a, b in e.icu if a <= t))
                  for e in tl.encounters if e.start <= t]
    return dataclasses.replace(
        tl, death=tl.death if tl.death <= t else math.nan, encounters=encounters,
        sets={k: v[keep] for k, v in tl.sets.items()},
        labs={k: (lt[lt <= t], lv[lt <= t]) for k, (lt, lv) in tl.labs.items()},
        conditions=[c for c in tl.conditions if c.onset <= t],
        meds=[(a, b if b <= t else math.inf) for a, b in tl.meds if a <= t])


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == pytest.approx(b[k]) for k in a)


# -- the synthetic hospital's ED visits ----------------------------------------------------------------------


def test_every_ed_visit_has_triage_vital_signs_and_admission_is_a_minority(hospital: tuple[Path, Store]) -> None:
    root, _ = hospital
    visits, admitted, triaged = 0, 0, 0
    for path in (root / "synth" / "fhir").glob("*.json"):
        entries = [e["resource"] for e in json.loads(path.read_bytes())["entry"]]
        emer = {r["id"]: r for r in entries if r["resourceType"] == "Encounter" and r["class"]["code"] == "EMER"}
        with_vitals = {(r.get("encounter") or {}).get("reference", "").removeprefix("urn:uuid:")
                       for r in entries if r["resourceType"] == "Observation"}
        visits += len(emer)
        admitted += sum("hospitalization" in r for r in emer.values())
        triaged += sum(eid in with_vitals for eid in emer)
    assert visits > N_PATIENTS  # about 1.5-2 per patient over the year
    assert triaged == visits
    assert 0.15 < admitted / visits < 0.5  # NHAMCS ~1 in 8, English type 1 A&E ~1 in 4 to 1 in 3


def test_ed_attendances_are_deterministic(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", 8, 5, genomes=False)
    b = generate(tmp_path / "b", 8, 5, genomes=False)
    assert a.ed_visits == b.ed_visits
    for f in (tmp_path / "a" / "fhir").glob("*.json"):
        assert f.read_bytes() == (tmp_path / "b" / "fhir" / f.name).read_bytes()


# -- NEWS2 over the record ------------------------------------------------------------------------------------


def test_news2_of_each_set_matches_the_scorer_with_carry_forward(timelines: list[acute.Timeline]) -> None:
    rng = random.Random(0)
    tl = max(timelines, key=lambda t: len(t.times))
    checked = 0
    for i in rng.sample(range(len(tl.times)), 20):
        s = {k: v[i] for k, v in tl.sets.items()}
        if not s["complete"]:
            continue
        now = datetime.fromtimestamp(s["t"] * 3600, UTC)
        readings = {"rr": s["rr"], "spo2": s["spo2"], "on_oxygen": bool(s["on_o2"]), "sbp": s["sbp"],
                    "pulse": s["hr"], "acvpu": "ACVPU"[int(s["acvpu"])], "temp_c": s["temp"]}
        expected = score_news2({k: Reading(v, now) for k, v in readings.items()}, now=now,
                               scale=2 if any("hypercapnic" in c.groups for c in tl.conditions) else 1)
        assert s["news2"] == expected.total
        checked += 1
    assert checked >= 10


def test_values_older_than_12_hours_are_not_carried_forward() -> None:
    t0 = datetime(2024, 5, 1, 8, tzinfo=UTC)
    vitals = pd.DataFrame({
        "time": [t0, t0, t0 + timedelta(hours=13)], "name": ["heart_rate", "respiratory_rate", "heart_rate"],
        "value": [135.0, 26.0, 80.0], "value_str": [None, None, None], "unit": ["/min", "/min", "/min"]})
    sets = acute._sets(vitals, 1)
    assert len(sets["t"]) == 2
    assert sets["rr"][0] == 26.0 and math.isnan(sets["rr"][1])  # 13 h old: missing, not carried forward
    assert sets["news2"][0] == 3 + 3 and sets["news2"][1] == 0  # pulse 135 -> 3, RR 26 -> 3 (RCP 2017)
    assert sets["complete"][0] == 0  # SpO2, BP, temperature, consciousness, oxygen not measured


# -- deterioration ----------------------------------------------------------------------------------------------


def test_deterioration_cohort_and_labels(deterioration: Dataset, timelines: list[acute.Timeline]) -> None:
    ds = deterioration
    assert ds.n > 200 and 5 <= ds.events < ds.n * 0.2
    assert (ds.X["news2"] < acute.HIGH_NEWS2).all()  # already high at the index time: not in the cohort
    assert ds.ids.is_unique and ds.split_groups.nunique() < ds.n
    by_id = {tl.patient_id: tl for tl in timelines}
    for row_id, label in zip(ds.ids, ds.y, strict=True):
        pid, when = row_id.split("@")
        tl = by_id[pid]
        t = datetime.fromisoformat(when).timestamp() / 3600
        enc = next(e for e in tl.encounters if e.cls == "IMP" and e.start <= t + 1 / 60 < e.end + 1 / 60)
        later = (tl.times > t + 1 / 60) & (tl.times <= min(t + 24, enc.end))
        high = bool((tl.sets["news2"][later] >= 7).any())
        icu = any(t < a <= t + 24 for a, _ in enc.icu)
        died = t < tl.death <= t + 24
        if high or icu or died:
            assert label == 1, row_id
        elif t + 24.05 < enc.end:
            assert label == 0, row_id


def test_deterioration_features_use_only_the_past(timelines: list[acute.Timeline]) -> None:
    rng = random.Random(1)
    checked = 0
    for tl in rng.sample(timelines, len(timelines)):
        for enc in (e for e in tl.encounters if e.cls == "IMP"):
            idx = np.flatnonzero((tl.times >= enc.start) & (tl.times < enc.end))
            for i in idx[:: max(1, len(idx) // 3)]:
                t = float(tl.times[i])
                past = _truncate(tl, t)
                j = int(np.flatnonzero(past.times == t)[0])
                e2 = next(e for e in past.encounters if e.id == enc.id)
                assert _same(acute.deterioration_features(tl, enc, int(i)), acute.deterioration_features(past, e2, j))
                checked += 1
        if checked > 40:
            break
    assert checked > 20


def test_outcome_follows_the_physiology_before_it(deterioration: Dataset) -> None:
    from sklearn.metrics import roc_auc_score

    # the last 24 h's highest NEWS2 ranks the outcome (the 500-patient figures: benchmarks/bench_risk_acute.py)
    assert roc_auc_score(deterioration.y, deterioration.X["news2_max_24h"]) > 0.6


def test_deterioration_model_is_governed(det_model: TrainedModel, tmp_path: Path) -> None:
    trained = det_model
    assert 0 < trained.evaluation.metrics["brier"].value < 0.1
    folder = save(trained, tmp_path / "det")
    for name in ("card.md", "card.html", "evaluation.json", "fairness.json", "metadata.json"):
        assert (folder / name).exists()
    meta = json.loads((folder / "metadata.json").read_text())
    assert "risk.acute" in meta["code_version"] and "synthetic" in meta["limitations"]
    assert set(trained.audit.by_group["attribute"]) == {"sex", "age_band", "race"}


# -- ED admission ------------------------------------------------------------------------------------------------


def test_ed_admission_rows_and_labels(ed: Dataset, timelines: list[acute.Timeline]) -> None:
    assert ed.n > N_PATIENTS and 0.15 < ed.y.mean() < 0.5
    assert ed.X["hr"].notna().all()  # every synthetic ED visit has triage vital signs
    by_id = {tl.patient_id: tl for tl in timelines}
    for row_id, label in zip(ed.ids, ed.y, strict=True):
        pid, when = row_id.split("@")
        t = datetime.fromisoformat(when).timestamp() / 3600
        visit = next(e for e in by_id[pid].encounters if e.cls == "EMER" and abs(e.start - t) < 1 / 60)
        assert label == int(visit.admitted)  # the synthetic ED encounter records its disposition


def test_ed_features_are_known_at_arrival(timelines: list[acute.Timeline]) -> None:
    checked = 0
    for tl in timelines:
        for visit in (e for e in tl.encounters if e.cls == "EMER" and not e.ongoing):
            past = _truncate(tl, visit.start + acute.TRIAGE_H)  # arrival and triage, nothing later
            again = next(e for e in past.encounters if e.id == visit.id)
            assert _same(acute.ed_features(tl, visit), acute.ed_features(past, again))
            checked += 1
    assert checked > 30


def test_admission_is_predicted_from_triage_and_history(ed: Dataset) -> None:
    trained = train("ed-admission", ed, folds=3, n_boot=30, params=SMALL_LGBM, calibration_folds=3)
    assert trained.evaluation.metrics["auroc"].value > 0.7


# -- store, CLI, demo --------------------------------------------------------------------------------------------


@pytest.fixture()
def store_env(hospital: tuple[Path, Store], monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("HYGEIA_DATABASE_URL", hospital[1].url)
    get_settings.cache_clear()
    yield hospital[1]
    get_settings.cache_clear()


def _inpatient(store: Store, timelines: list[acute.Timeline]) -> str:
    return next(tl.patient_id for tl in timelines
                if any(e.cls == "IMP" and e.ongoing and not acute._in_icu(e, float(tl.times[-1]))
                       for e in tl.encounters) and len(tl.times))


def test_cli_trains_from_the_store_and_scores_a_patient(store_env: Store, timelines: list[acute.Timeline],
                                                        tmp_path: Path) -> None:
    from hygeia.cli import app

    runner = CliRunner()
    out = tmp_path / "ed-models"
    result = runner.invoke(app, ["risk", "train", "ed-admission", "--store", "--out", str(out), "--folds", "3",
                                 "--model", "logistic"])
    assert result.exit_code == 0, result.output
    assert "cross-validated AUROC" in result.output and (out / "LATEST").exists()
    result = runner.invoke(app, ["risk", "evaluate", str(out), "--store", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output.strip().splitlines()[-1])
    assert doc["task"] == "ed-admission" and doc["n"] > 0 and 0.5 < doc["auroc"] <= 1
    patient = next(tl.patient_id for tl in timelines if any(e.cls == "EMER" for e in tl.encounters))
    result = runner.invoke(app, ["risk", "score", str(out), "--patient", patient, "--json"])
    assert result.exit_code == 0, result.output
    fhir = json.loads(result.output)["fhir"]
    assert fhir["resourceType"] == "RiskAssessment" and 0 <= fhir["prediction"][0]["probabilityDecimal"] <= 1
    result = runner.invoke(app, ["risk", "train", "deterioration", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "--store" in result.output


def test_score_a_store_patient_and_refuse_one_without_a_stay(det_model: TrainedModel, hospital: tuple[Path, Store],
                                                               timelines: list[acute.Timeline]) -> None:
    store, trained = hospital[1], det_model
    finding = score_record(trained, PatientRecord.load(store, _inpatient(store, timelines)))
    assert finding.kind == "deterioration" and finding.explanation
    assert any(w in " ".join(d.description for d in finding.explanation)
               for w in ("NEWS2", "heart rate", "respiratory", "age", "SpO2", "systolic", "temperature", "lab"))
    never = next(tl.patient_id for tl in timelines if not any(e.cls == "IMP" for e in tl.encounters))
    with pytest.raises(acute.NoIndexTime, match="no inpatient encounter"):
        score_record(trained, PatientRecord.load(store, never))


def test_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/empty.db")
    store.init()
    from hygeia.risk.data import store_dataset

    with pytest.raises(DataError, match="no deterioration index times"):
        store_dataset("deterioration", store)
    with pytest.raises(DataError, match="not built from patient records"):
        timeline_dataset("icu-mortality", [])


def test_demo_trains_registers_and_scores_current_inpatients(hospital: tuple[Path, Store], tmp_path: Path) -> None:
    import shutil

    from hygeia.risk.demo import train_demo_models

    db = tmp_path / "demo.db"
    shutil.copy(hospital[1].url.removeprefix("sqlite:///"), db)
    store = Store(f"sqlite:///{db}")
    result = train_demo_models(store, tmp_path / "models", ed_admission=True)
    assert (result.folders["deterioration"] / "card.html").exists() and "ed-admission" in result.folders
    assert load(tmp_path / "models" / "deterioration").task.name == "deterioration"
    total, found = store.search("RiskAssessment", count=500)
    assert total == result.scored > 0
    assert all(r["prediction"][0]["outcome"]["text"] == "deterioration" for r in found)


def test_describe_in_plain_words() -> None:
    words: dict[tuple[str, float], str] = {
        ("news2_max_24h", 6.0): "NEWS2 6, highest in 24 h", ("dx_copd", 1.0): "copd: yes",
        ("lactate_last", 3.1): "lactate 3.1 mmol/L, latest", ("acvpu", 1.0): "consciousness (ACVPU) C"}
    for (feature, value), text in words.items():
        assert acute.describe(feature, value).startswith(text)
    assert "not recorded" in acute.describe("lactate_last", math.nan)
