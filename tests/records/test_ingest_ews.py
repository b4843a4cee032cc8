"""Ingested vital signs feed the early-warning path: after a unit commits, its patients' current vital
signs are scored once each (NEWS2 stored, alerts raised); historical data and re-ingestion score nothing;
``score_vitals=False`` opts out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.config import get_settings
from hygeia.ews.monitor import open_alerts
from hygeia.records import Store, ingest_paths
from hygeia.records.codes import NEWS2_TOTAL_SNOMED
from tests.records.bundles import patient, transaction, vital

# RCP NEWS2 Chart 1: RR 27 (3), SpO2 89 % on scale 1 (3), systolic 88 (3), pulse 132 (3), 38.5 °C (1) = 13.
SICK = [("rr", "9279-1", 27, "/min"), ("spo2", "59408-5", 89, "%"), ("sbp", "8480-6", 88, "mm[Hg]"),
        ("hr", "8867-4", 132, "/min"), ("temp", "8310-5", 38.5, "Cel")]


def _bundle(path: Path, pid: str, when: datetime) -> Path:
    resources: list[dict[str, Any]] = [patient(pid)]
    resources += [vital(f"{pid}-{name}", pid, code, value, unit, when.isoformat()) for name, code, value, unit in SICK]
    path.write_text(json.dumps(transaction(resources)))
    return path


def _news2(store: Store, pid: str) -> list[dict[str, Any]]:
    return [r for r in store.patient_resources(pid, ["Observation"])
            if r["code"]["coding"][0]["code"] == NEWS2_TOTAL_SNOMED]


def test_current_vitals_are_scored_once_and_raise_an_alert(store: Store, tmp_path: Path) -> None:
    path = _bundle(tmp_path / "now.json", "p1", datetime.now(UTC) - timedelta(minutes=10))
    report = ingest_paths(store, [path])
    assert report.created == 6 and report.scored == 1 and report.alerts == 1
    [news2] = _news2(store, "p1")
    assert news2["valueInteger"] == 13 and news2["status"] == "preliminary"  # consciousness, air/O2 not measured
    [alert] = open_alerts(store, patient_id="p1")
    assert alert["level_name"] == "emergency" and alert["total"] == 13
    # re-ingesting the same file changes nothing, so nothing is scored again
    again = ingest_paths(store, [path])
    assert again.unchanged == 6 and again.scored == 0 and again.alerts == 0
    assert len(_news2(store, "p1")) == 1 and len(open_alerts(store, patient_id="p1")) == 1


def test_historical_vitals_and_opt_out_score_nothing(store: Store, tmp_path: Path) -> None:
    old = ingest_paths(store, [_bundle(tmp_path / "old.json", "p2", datetime(2024, 1, 1, tzinfo=UTC))])
    assert old.created == 6 and old.scored == 0 and _news2(store, "p2") == []
    off = ingest_paths(store, [_bundle(tmp_path / "off.json", "p3", datetime.now(UTC))], score_vitals=False)
    assert off.created == 6 and off.scored == 0 and _news2(store, "p3") == [] and open_alerts(store) == []


def test_cli_scores_by_default_and_no_score_vitals_opts_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYGEIA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["init-db"]).exit_code == 0
        now = datetime.now(UTC)
        result = runner.invoke(app, ["ingest", str(_bundle(tmp_path / "a.json", "c1", now))])
        assert result.exit_code == 0, result.output
        assert "NEWS2 scored for 1 patients" in result.output and "1 alerts raised" in result.output
        result = runner.invoke(app, ["ingest", "--no-score-vitals", str(_bundle(tmp_path / "b.json", "c2", now))])
        assert result.exit_code == 0 and "created 6" in result.output and "NEWS2 scored" not in result.output
    finally:
        get_settings.cache_clear()
