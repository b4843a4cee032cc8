"""Stage files: `hygeia pgx phenotype`/`report` re-run from match/phenotype JSON equal the all-in-one VCF path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.pipeline import StageFileError, looks_like_stage_file, match_results_from_stage, parse_stage
from tests.pgx.test_cli import _kb_dir

VCF = ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
       "chr1\t100\trs1\tC\tT\t.\tPASS\t.\tGT\t1/1\t0/1\t0/0\n"
       "chr1\t200\trs2\tG\tA\t.\tPASS\t.\tGT\t0/0\t0/1\t0/0\n"
       "chr1\t300\trs3\tA\tG\t.\tPASS\t.\tGT\t0/0\t0/0\t./.\n")


@pytest.fixture
def setup(tmp_path: Path, kb: KnowledgeBase) -> tuple[Path, Path]:
    vcf = tmp_path / "s.vcf"
    vcf.write_text(VCF)
    return _kb_dir(kb, tmp_path / "kb"), vcf


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, ["pgx", *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_match_document_is_a_versioned_stage_file(setup: tuple[Path, Path]) -> None:
    kb_root, vcf = setup
    doc = json.loads(_run("match", str(vcf), "--kb", str(kb_root)))
    assert (doc["stage"], doc["schemaVersion"]) == ("match", 1)
    assert "kb_versions" in doc and [s["sample"] for s in doc["samples"]] == ["S1", "S2", "S3"]
    assert doc["samples"][0]["genes"]["GENEA"]["diplotypes"] == ["*2/*2"]


def test_rerun_from_stage_files_equals_all_in_one(setup: tuple[Path, Path], tmp_path: Path) -> None:
    kb_root, vcf = setup
    kb = ["--kb", str(kb_root)]
    match = tmp_path / "match.json"
    _run("match", str(vcf), "-o", str(match), *kb)
    pheno_vcf = _run("phenotype", str(vcf), *kb)
    pheno_match = _run("phenotype", str(match), *kb)
    assert pheno_match == pheno_vcf
    doc = json.loads(pheno_vcf)
    assert doc["stage"] == "phenotype" and doc["samples"][0]["genes"]["GENEA"]["phenotype"] == "Poor Metabolizer"
    pheno = tmp_path / "pheno.json"
    pheno.write_text(pheno_vcf)
    for fmt in ("json", "tsv", "html"):
        from_vcf = _run("report", str(vcf), "--format", fmt, *kb)
        assert _run("report", str(match), "--format", fmt, *kb) == from_vcf
        assert _run("report", str(pheno), "--format", fmt, *kb) == from_vcf
    rep = json.loads(_run("report", str(pheno), "--format", "json", "--drug", "drugx", *kb))
    assert rep["stage"] == "report"
    assert [r["text"] for r in rep["reports"][0]["recommendations"]] == ["Avoid drugx; use an alternative."]


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "malformed JSON at line 1"),
    ("[1, 2]", "not a Hygeia stage file"),  # JSON, but not an object
    ('{"samples": []}', "not a Hygeia stage file"),
    ('{"stage": "report", "schemaVersion": 1, "samples": []}', "stage is 'report'"),
    ('{"stage": "match", "schemaVersion": 99, "samples": []}', "unknown schemaVersion 99"),
    ('{"stage": "match", "schemaVersion": 1, "samples": {}}', "\"samples\" must be a list"),
    ('{"stage": "match", "schemaVersion": 1, "samples": [{"sample": "S1"}]}', "samples[0]: needs an object"),
    ('{"stage": "match", "schemaVersion": 1, "samples": [{"sample": "S1", "genes": {"GENEA": {"diplotypes": "*1"}}}]}',
     "samples[0].genes.GENEA: \"diplotypes\" must be a list of strings"),
    ('{"stage": "phenotype", "schemaVersion": 1, "samples": [{"sample": "S1", "genes": {"GENEA": {"phenotype": 3}}}]}',
     "samples[0].genes.GENEA: \"phenotype\" must be a string or null"),
])
def test_bad_stage_files_give_a_clear_error(setup: tuple[Path, Path], tmp_path: Path, content: str,
                                            message: str) -> None:
    kb_root, _ = setup
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    res = CliRunner().invoke(app, ["pgx", "report", str(bad), "--format", "json", "--kb", str(kb_root)])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert str(bad) in res.output and message in res.output


def test_phenotype_rejects_a_phenotype_stage_file(setup: tuple[Path, Path], tmp_path: Path) -> None:
    kb_root, vcf = setup
    pheno = tmp_path / "pheno.json"
    pheno.write_text(_run("phenotype", str(vcf), "--kb", str(kb_root)))
    res = CliRunner().invoke(app, ["pgx", "phenotype", str(pheno), "--kb", str(kb_root)])
    assert res.exit_code == 2 and "stage is 'phenotype', expected 'match'" in res.output
    missing = CliRunner().invoke(app, ["pgx", "phenotype", str(tmp_path / "nope.json"), "--kb", str(kb_root)])
    assert missing.exit_code == 2 and "file not found" in missing.output


def test_stage_detection_and_round_trip(setup: tuple[Path, Path]) -> None:
    kb_root, vcf = setup
    assert looks_like_stage_file(b' \n{"stage"') and not looks_like_stage_file(b"##fileformat")
    assert not looks_like_stage_file(b"\x1f\x8b\x08")
    text = _run("match", str(vcf), "--kb", str(kb_root))
    results = match_results_from_stage(parse_stage(text, "m.json", ("match",)), "m.json")
    assert [r.to_json() for r in results] == json.loads(text)["samples"]
    with pytest.raises(StageFileError, match=r"m\.json: stage is .match."):
        parse_stage(text, "m.json", ("phenotype",))
