"""``hygeia batch``: the same output with --engine local and --engine dask; clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.engine import read_rows

from .fixtures import make_notes

runner = CliRunner()


def test_deid_text_local_and_dask_agree_and_rerun_resumes(tmp_path: Path, dask_cluster: Any) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b"".join(orjson.dumps({"id": i, "text": t, "patient": p}) + b"\n" for i, t, p in make_notes(12)))
    local = runner.invoke(
        app, ["batch", "deid-text", str(notes), "--out", str(tmp_path / "l"), "--partition-size", "5"]
    )
    assert local.exit_code == 0, local.output
    assert "3 partition(s) written" in local.output
    dask = runner.invoke(
        app,
        [
            "batch",
            "deid-text",
            str(notes),
            "--out",
            str(tmp_path / "d"),
            "--format",
            "ndjson",
            "--engine",
            "dask",
            "--scheduler",
            dask_cluster.scheduler_address,
            "--partition-size",
            "5",
        ],
    )
    assert dask.exit_code == 0, dask.output
    assert read_rows(tmp_path / "l") == read_rows(tmp_path / "d")
    again = runner.invoke(
        app, ["batch", "deid-text", str(notes), "--out", str(tmp_path / "l"), "--partition-size", "5"]
    )
    assert "0 partition(s) written, 3 already done" in again.output


def test_errors_say_what_is_wrong(tmp_path: Path, monkeypatch: Any) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    r = runner.invoke(app, ["batch", "deid-text", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "bad.jsonl:1: field 'text'" in r.output
    r = runner.invoke(app, ["batch", "deid-text", str(bad), "--out", str(tmp_path / "o"), "--scheduler", "tcp://h:1"])
    assert r.exit_code == 1 and "--scheduler needs --engine dask" in r.output
    monkeypatch.delenv("HYGEIA_DEID_KEY", raising=False)
    r = runner.invoke(app, ["batch", "deid-text", str(bad), "--out", str(tmp_path / "o"), "--mode", "surrogate"])
    assert r.exit_code == 1 and "HYGEIA_DEID_KEY is missing" in r.output
    r = runner.invoke(app, ["batch", "deid-text", str(bad), "--out", str(tmp_path / "o"), "--format", "csv"])
    assert r.exit_code == 1
