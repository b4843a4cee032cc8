"""The spine's commands: init-db, ingest, patients, patient, users, audit — as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.records.bundles import small_bundle
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.config import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYGEIA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_help_explains_itself() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init-db", "ingest", "patients", "patient", "serve", "demo", "users", "audit"):
        assert command in result.output


def test_ingest_patients_and_patient(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init-db"]).exit_code == 0
    (tmp_path / "b.json").write_text(json.dumps(small_bundle("p1", 3)))
    result = runner.invoke(app, ["ingest", str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    assert "created 4" in result.output
    listing = runner.invoke(app, ["patients"])
    assert "p1" in listing.output and "Ada Testperson" in listing.output
    summary = runner.invoke(app, ["patient", "p1"])
    assert summary.exit_code == 0 and "heart_rate 72.0 /min" in summary.output


def test_unknown_patient_exits_non_zero_with_a_hint() -> None:
    result = runner.invoke(app, ["patient", "nobody"])
    assert result.exit_code == 1
    assert "no patient with id 'nobody'" in result.output
    assert "hygeia patients" in result.output


def test_bad_file_exits_non_zero_and_names_the_problem(tmp_path: Path) -> None:
    bad = small_bundle("p2", 2)
    bad["entry"][1]["resource"]["effectiveDateTime"] = "not-a-date"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "good.json").write_text(json.dumps(small_bundle("p1", 1)))
    result = runner.invoke(app, ["ingest", str(tmp_path / "bad.json")])
    assert result.exit_code == 1
    assert "entry 1" in result.output and "Observation.effectiveDateTime" in result.output
    rejects = tmp_path / "rejects.json"
    partial = runner.invoke(app, ["ingest", str(tmp_path), "--continue-on-error", "--rejects", str(rejects)])
    assert partial.exit_code == 2
    assert json.loads(rejects.read_text())[0]["where"] == "entry 1"
    assert "p1" in runner.invoke(app, ["patients"]).output


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such file or directory" in result.output


def test_users_and_audit_commands() -> None:
    password = "long-password\nlong-password\n"
    result = runner.invoke(app, ["users", "add", "alice", "--role", "clinician"], input=password)
    assert result.exit_code == 0, result.output
    assert "alice" in runner.invoke(app, ["users", "list"]).output
    weak = runner.invoke(app, ["users", "add", "bob", "--role", "nurse"], input="short\nshort\n")
    assert weak.exit_code == 1 and "at least 8" in weak.output
    unknown = runner.invoke(app, ["users", "add", "carol", "--role", "wizard"],
                            input="long-password\nlong-password\n")
    assert unknown.exit_code == 1 and "unknown role" in unknown.output
    verify = runner.invoke(app, ["audit", "verify"])
    assert verify.exit_code == 0 and "intact" in verify.output
