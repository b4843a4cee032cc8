"""`hygeia ops theatre solve|evaluate` and `hygeia ops beds assign` end to end on synthetic files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hygeia.cli.ops import ops
from tests.operations.test_theatre import _instance

runner = CliRunner()


def test_solve_then_evaluate(tmp_path: Path) -> None:
    inst = tmp_path / "toy.json"
    inst.write_text(json.dumps(_instance()))
    out = tmp_path / "sol.json"
    res = runner.invoke(ops, ["theatre", "solve", str(inst), "--time-limit", "3", "--out", str(out),
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout.strip().splitlines()[-1])
    assert plan["feasible"] and plan["problem"] == "ihtc2024"
    res = runner.invoke(ops, ["theatre", "evaluate", str(inst), str(out)])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["total_cost"] == plan["objective"]
    res = runner.invoke(ops, ["theatre", "evaluate", str(inst), str(out), "--text"])
    assert "Total cost = " in res.stdout


def test_errors_are_clear_and_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(ops, ["theatre", "solve", str(bad)])
    assert res.exit_code == 2 and "not valid JSON" in res.output
    broken = _instance()
    broken["patients"][0]["surgeon_id"] = "nobody"
    bad.write_text(json.dumps(broken))
    res = runner.invoke(ops, ["theatre", "solve", str(bad)])
    assert res.exit_code == 2 and "patients[0].surgeon_id" in res.output


def test_beds_assign(tmp_path: Path) -> None:
    problem = tmp_path / "beds.json"
    problem.write_text(json.dumps({"beds": [{"id": "b1", "ward": "W1", "bay": "A", "isolation": True}],
                                   "requests": [{"id": "r1", "sex": "female", "specialty": "med",
                                                 "isolation": True}]}))
    res = runner.invoke(ops, ["beds", "assign", str(problem)])
    assert res.exit_code == 0 and json.loads(res.stdout)["assignments"] == {"r1": "b1"}
