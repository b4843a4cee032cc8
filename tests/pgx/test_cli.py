"""`hygeia pgx call-patient` against a store and a KB directory built here (no reference data)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.config import get_settings
from hygeia.pgx.kb import KnowledgeBase
from hygeia.records import PatientRecord, Store

RES = Path("src/main/resources/org/pharmgkb/pharmcat")


def _kb_dir(kb: KnowledgeBase, root: Path) -> Path:
    d = kb.definitions["GENEA"]
    (root / RES / "definition/alleles").mkdir(parents=True)
    (root / RES / "phenotype").mkdir(parents=True)
    (root / RES / "reporter/guidelines").mkdir(parents=True)
    (root / RES / "definition/alleles/GENEA_translation.json").write_text(json.dumps({
        "gene": "GENEA", "chromosome": "chr1",
        "variants": [{"position": x.position, "rsid": x.rsid, "ref": x.ref, "alts": list(x.alts)} for x in d.loci],
        "namedAlleles": [{"name": a.name, "alleles": list(a.alleles), "reference": a.reference} for a in d.alleles],
    }))
    (root / RES / "phenotype/GENEA.json").write_text(json.dumps(kb.phenotypes["CPIC:GENEA"]))
    (root / RES / "reporter/guidelines/drugx.json").write_text(json.dumps(kb.guidelines[0]))
    return root


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HYGEIA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_call_patient_command(env: Path, kb: KnowledgeBase) -> None:
    kb_root = _kb_dir(kb, env / "kb")
    vcf = env / "p.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
                   "chr1\t100\trs1\tC\tT\t.\tPASS\t.\tGT\t1/1\nchr1\t200\trs2\tG\tA\t.\tPASS\t.\tGT\t0/0\n"
                   "chr1\t300\trs3\tA\tG\t.\tPASS\t.\tGT\t0/0\n")
    runner = CliRunner()
    missing = runner.invoke(app, ["pgx", "call-patient", "p1", str(vcf), "--kb", str(kb_root)])
    assert missing.exit_code != 0 and "no Patient/p1" in missing.output
    store = Store(get_settings().resolved_database_url())
    store.init()
    store.write([{"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}])
    ok = runner.invoke(app, ["pgx", "call-patient", "p1", str(vcf), "--kb", str(kb_root)])
    assert ok.exit_code == 0, ok.output
    assert "[critical] drugx" in ok.output
    assert set(PatientRecord.load(store, "p1").genotypes()["kind"]) == {"genotype", "phenotype"}
    store.dispose()
    bad = runner.invoke(app, ["pgx", "call-patient", "p1", str(env / "nope.vcf"), "--kb", str(kb_root)])
    assert bad.exit_code != 0 and "not found" in bad.output
