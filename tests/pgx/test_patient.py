"""The spine: genotype a patient into the store, read the phenotypes back, assess an order (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.findings import Indicator
from hygeia.pgx.cds import assess_order
from hygeia.pgx.kb import KnowledgeBase
from hygeia.pgx.patient import PatientCallError, call_patient, record_phenotypes
from hygeia.pgx.vcf import VcfError
from hygeia.records import PatientRecord
from hygeia.records.store import Store

HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{samples}\n"
ORDER = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
         "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "drugx"}}


def _vcf(tmp_path: Path, gts: list[str], samples: str = "S1", name: str = "p.vcf") -> Path:
    body = "".join(f"chr1\t{pos}\trs{i + 1}\t{ref}\t{alt}\t.\tPASS\t.\tGT\t{gt}\n"
                   for i, ((pos, ref, alt), gt) in enumerate(zip([(100, "C", "T"), (200, "G", "A"), (300, "A", "G")],
                                                                 gts, strict=True)))
    path = tmp_path / name
    path.write_text(HEAD.format(samples=samples) + body)
    return path


def _patient(store: Store, pid: str = "p1", birth: str = "1970-05-01") -> None:
    store.write([{"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": birth}])


def test_call_patient_writes_observations_and_assess_order_reads_them(store: Store, kb: KnowledgeBase,
                                                                       tmp_path: Path) -> None:
    _patient(store)
    findings = call_patient(store, "p1", _vcf(tmp_path, ["1/1", "0/0", "0/0"]), kb)
    assert [f.summary.split(":")[0] for f in findings] == ["drugx"]
    record = PatientRecord.load(store, "p1")
    table = record.genotypes()
    assert sorted(table["kind"]) == ["genotype", "phenotype"] and set(table["gene"]) == {"GENEA"}
    ph = record_phenotypes(record)["GENEA"]
    assert (ph.diplotype, ph.phenotype, ph.activity_score) == ("*2/*2", "Poor Metabolizer", "0.0")
    found = assess_order(record, ORDER, kb)
    assert len(found) == 1 and found[0].indicator == Indicator.CRITICAL and found[0].patient_id == "p1"
    assert found[0].suggestions and found[0].suggestions[0].actions[0]["type"] == "delete"
    # re-genotyping updates the same resources (new versions), it does not add more
    call_patient(store, "p1", _vcf(tmp_path, ["0/0", "0/0", "0/0"], name="q.vcf"), kb)
    record = PatientRecord.load(store, "p1")
    assert record_phenotypes(record)["GENEA"].phenotype == "Normal Metabolizer"
    assert assess_order(record, ORDER, kb) == []


def test_call_patient_writes_nothing_on_bad_input(store: Store, kb: KnowledgeBase, tmp_path: Path) -> None:
    _patient(store)
    bad = tmp_path / "bad.vcf"
    bad.write_text(HEAD.format(samples="S1") + "chr1\tx\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\n")
    with pytest.raises(VcfError, match=r"bad.vcf:3: POS"):
        call_patient(store, "p1", bad, kb)
    two = _vcf(tmp_path, ["0/1\t0/0", "0/0\t0/0", "0/0\t0/0"], samples="S1\tS2")
    with pytest.raises(PatientCallError, match="2 samples"):
        call_patient(store, "p1", two, kb)
    with pytest.raises(PatientCallError, match="no sample 'S9'"):
        call_patient(store, "p1", two, kb, sample="S9")
    with pytest.raises(PatientCallError, match="no Patient/nobody"):
        call_patient(store, "nobody", two, kb, sample="S1")
    assert PatientRecord.load(store, "p1").genotypes().empty
    assert call_patient(store, "p1", two, kb, sample="S2") == []
    assert not PatientRecord.load(store, "p1").genotypes().empty
