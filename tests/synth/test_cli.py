"""`hygeia synth` on the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hygeia.cli import app


def test_synth_command_writes_and_summarises(tmp_path: Path, positions_vcf: Path) -> None:
    out = tmp_path / "h"
    result = CliRunner().invoke(app, ["synth", "-n", "3", "-s", "4", "-o", str(out), "--positions", str(positions_vcf)])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output and "patients" in result.output
    assert len(list((out / "vcf").glob("*.vcf"))) == 3


def test_synth_command_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("x")
    runner = CliRunner()
    result = runner.invoke(app, ["synth", "-n", "2", "-o", str(tmp_path), "--no-vcf"])
    assert result.exit_code == 1 and "not empty" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["synth", "-o", str(tmp_path / "new"), "--start", "yesterday"])
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output
    result = runner.invoke(app, ["synth", "-o", str(tmp_path / "new2"), "--positions", str(tmp_path / "none.vcf")])
    assert result.exit_code == 1 and "positions VCF not found" in result.output
