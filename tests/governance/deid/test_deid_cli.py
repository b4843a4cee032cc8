"""The ``hygeia deid text`` command on small synthetic files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hygeia.cli import app

runner = CliRunner()


def test_text_command_writes_spans_with_input_offsets(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    text = "Seen by Dr. Hargreaves on 3/12. Wife Margaret called 617-555-0142."
    notes.write_bytes(orjson.dumps({"id": "n1", "text": text}) + b"\n\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["deid", "text", "--input", str(notes), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(rows) == 1 and rows[0]["id"] == "n1"
    assert "Hargreaves" not in rows[0]["text"] and "[NAME]" in rows[0]["text"]
    assert {text[s["start"] : s["end"]] for s in rows[0]["spans"]} >= {"Hargreaves", "3/12", "Margaret"}


@pytest.mark.parametrize(
    ("line", "message"),
    [(b"{not json", "not valid JSON"), (b'{"id": 2}', "'text'"), (b'{"text": "x"}', "'id'"), (b"[1]", "JSON object")],
)
def test_malformed_line_names_line_and_leaves_nothing(tmp_path: Path, line: bytes, message: str) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b'{"id": 1, "text": "Dr. Hargreaves"}\n' + line + b"\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["deid", "text", "--input", str(notes), "--output", str(out)])
    assert result.exit_code == 1
    assert f"{notes}:2" in result.output and message in result.output
    assert list(tmp_path.iterdir()) == [notes]


def test_surrogate_mode_needs_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b'{"id": 1, "text": "Admitted 03/01/2020", "patient": "p1"}\n')
    out = tmp_path / "out.jsonl"
    monkeypatch.delenv("HYGEIA_DEID_KEY", raising=False)
    result = runner.invoke(app, ["deid", "text", "-i", str(notes), "-o", str(out), "--mode", "surrogate"])
    assert result.exit_code == 2 and "HYGEIA_DEID_KEY" in result.output
    monkeypatch.setenv("HYGEIA_DEID_KEY", "a-long-enough-secret")
    result = runner.invoke(app, ["deid", "text", "-i", str(notes), "-o", str(out), "--mode", "surrogate"])
    assert result.exit_code == 0, result.output
    row = orjson.loads(out.read_bytes())
    assert "03/01/2020" not in row["text"] and row["text"].startswith("Admitted ")
