"""The demo build on a small synthetic hospital (no reference data: no genomes, so no PGx step): inpatients in
beds at "now" across wards with NEWS2 from the monitor, the patient login is one of them, steps are reused;
and the synthetic hospital's own roster and theatre problems parse and solve with the operations solvers."""

from __future__ import annotations

import csv
import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.governance.access import list_users
from hygeia.operations.roster import evaluate_curtois, parse_curtois, solve_curtois
from hygeia.operations.theatre import evaluate, parse_instance, parse_solution
from hygeia.operations.theatre.solve import solve_ihtc
from hygeia.records import Store
from hygeia.synth import generate
from hygeia.web.clinical import current_stays, load_places
from hygeia.web.demo import Builder, demo_password, synth_end
from hygeia.web.demo_ops import next_monday, roster_text, theatre_json


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Builder, Store, Settings]:
    tmp = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'demo.db'}",
                        secret_key=SecretStr("demo-test-secret-not-default"))
    store = Store(settings.resolved_database_url())
    store.init()
    builder = Builder(store, settings, tmp / "demo", patients=90, seed=42, say=lambda _m: None)
    generate(builder.synth, patients=90, seed=42, end=synth_end(), genomes=False)
    builder.ingest()
    for name, step in (("users", builder.users), ("ews", builder.ews)):
        builder._step(name, step)
    return builder, store, settings


def test_the_demo_hospital_has_inpatients_now_and_the_patient_login_is_one(
        demo: tuple[Builder, Store, Settings]) -> None:
    _, store, settings = demo
    stays = current_stays(store, load_places(store))
    assert len(stays) >= 5 and len({s.ward for s in stays}) >= 2
    patient = next(u for u in list_users(store) if u.username == "patient")
    assert patient.patient_id in {s.patient_id for s in stays}
    app = create_app(store, settings)
    for user in ("nurse", "patient"):
        with TestClient(app) as client:
            client.get("/web/login")
            r = client.post("/web/login", json={"username": user, "password": demo_password(user)},
                            headers={"X-CSRF-Token": client.cookies.get("hygeia_login_csrf") or ""})
            assert r.status_code == 200
            if user == "nurse":
                ward = client.get("/web/ward").text
                assert all(f'data-patient="{s.patient_id}"' in ward for s in stays)
                assert ward.count('data-news2="-1"') < len(stays)  # NEWS2 from the monitor's record path
            else:
                me = client.get("/web/me").text
                assert "Your vital signs" in me and 'id="vitals-plot"' in me and 'id="labs-plot"' in me


def test_a_second_run_reuses_built_steps(demo: tuple[Builder, Store, Settings]) -> None:
    builder, store, settings = demo
    again = Builder(store, settings, builder.root, patients=90, seed=42, say=lambda _m: None)
    again._step("users", again.users)
    again._step("ews", again.ews)
    assert [s.status for s in again.report.steps] == ["reused", "reused"]


def test_the_hospitals_own_roster_and_theatre_lists_solve(demo: tuple[Builder, Store, Settings]) -> None:
    builder, _, _ = demo
    ops = builder.synth / "operations"
    staff = json.loads((ops / "staff.json").read_text())["staff"]
    text = roster_text(staff, "ONC", [9.0] * 14, seed=1)
    assert text == roster_text(staff, "ONC", [9.0] * 14, seed=1)
    inst = parse_curtois(text, "ONC nurses")
    assert len(inst.staff) == sum(s["role"] == "nurse" and s["home_ward"] == "ONC" for s in staff)
    assert {(c.day, c.shift): c.requirement for c in inst.cover}[(0, "E")] == 2  # 9 patients, 1 nurse per 5
    plan = solve_curtois(inst, time_limit=20.0, workers=1, seed=1)
    assert plan.feasible and evaluate_curtois(inst, plan.assignments).objective == plan.objective

    outcomes = list(csv.DictReader((builder.synth / "truth" / "outcomes.csv").open(encoding="utf-8")))
    theatres = json.loads((ops / "theatres.json").read_text())
    cases = sum(len(s["cases"]) for s in theatres["sessions"] if s["theatre"] != "T4")
    occupants = [{"id": "p-1", "ward": "SURG", "bay": "B1", "sex": "male", "age": 70, "remaining_days": 3}]
    data = theatre_json(theatres, json.loads((ops / "wards.json").read_text()), staff, outcomes, occupants,
                        next_monday(synth_end().date()))
    ihtc = parse_instance(data, "synthetic week")
    assert len(ihtc.patients) == cases > 0 and len(ihtc.occupants) == 1
    assert all(sum(t[5:]) == 0 for t in ihtc.theatre_availability)  # no elective lists at the weekend
    result = solve_ihtc(ihtc, time_limit=2.0, workers=1)
    assert evaluate(ihtc, parse_solution(result.assignments, ihtc)).feasible == result.feasible
