"""The generated hospital: determinism, FHIR validity, contents, truth files and summary counts."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from hygeia.records import codes
from hygeia.synth import SynthError, SynthSummary, generate
from hygeia.synth.pgx import load_allele_table, parse_positions
from hygeia.synth.vocab import PGX_DRUGS, SYNTH_ID_SYSTEM, SYNTH_TAG_SYSTEM

from .conftest import N_PATIENTS, POSITIONS_VCF, SEED


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _bundles(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_bytes()) for p in sorted((out / "fhir").glob("*.json"))]


def _patient_bundles(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_bytes()) for p in sorted((out / "fhir").glob("*.json")) if p.name != "_hospital.json"]


def test_same_seed_gives_identical_bytes(
    hospital: tuple[Path, SynthSummary], tmp_path: Path, positions_vcf: Path
) -> None:
    out, _ = hospital
    again = tmp_path / "again"
    generate(again, N_PATIENTS, SEED, positions_vcf=positions_vcf)
    first, second = _files(out), _files(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_other_seed_differs(tmp_path: Path, positions_vcf: Path) -> None:
    a = generate(tmp_path / "a", 5, 1, positions_vcf=positions_vcf)
    b = generate(tmp_path / "b", 5, 2, positions_vcf=positions_vcf)
    assert _files(tmp_path / "a" / "fhir") != _files(tmp_path / "b" / "fhir")
    assert a.patients == b.patients == 5


def test_every_resource_validates_with_r4b(hospital: tuple[Path, SynthSummary]) -> None:
    out, _ = hospital
    for b in _bundles(out):
        for e in b["entry"]:
            r = e["resource"]
            get_fhir_model_class(r["resourceType"]).model_validate(r)


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        ref = node.get("reference")
        own = [ref] if isinstance(ref, str) else []
        return own + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_transaction_bundles_resolve_their_references(hospital: tuple[Path, SynthSummary]) -> None:
    out, _ = hospital
    shared = json.loads((out / "fhir" / "_hospital.json").read_bytes())
    shared_refs = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in shared["entry"]}
    for b in _patient_bundles(out):
        assert b["type"] == "transaction"
        full_urls = set()
        for e in b["entry"]:
            r = e["resource"]
            assert e["fullUrl"] == f"urn:uuid:{r['id']}"
            assert e["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
            full_urls.add(e["fullUrl"])

        for ref in _references(b):
            assert ref in full_urls or ref in shared_refs, ref


def test_everything_is_marked_synthetic(hospital: tuple[Path, SynthSummary]) -> None:
    out, summary = hospital
    for b in _bundles(out):
        for e in b["entry"]:
            tags = e["resource"]["meta"]["tag"]
            assert any(t["system"] == SYNTH_TAG_SYSTEM for t in tags)
            if e["resource"]["resourceType"] == "Patient":
                assert any(i["system"] == SYNTH_ID_SYSTEM for i in e["resource"]["identifier"])
                assert any(t["code"] == "HTEST" for t in tags)
    readme = (out / "README.md").read_text()
    assert "NOT REAL DATA" in readme and "synthetic" in readme.lower()
    assert "not" in summary.notice.lower()


def test_patients_are_diverse_and_all_have_encounters(hospital: tuple[Path, SynthSummary]) -> None:
    out, _ = hospital
    races, sexes, ages = set(), set(), []
    for b in _patient_bundles(out):
        types = Counter(e["resource"]["resourceType"] for e in b["entry"])
        assert types["Patient"] == 1 and types["Encounter"] >= 1
        patient = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Patient")
        ext = {x["url"]: x for x in patient["extension"]}
        races.add(ext[codes.US_CORE_RACE]["extension"][0]["valueCoding"]["code"])
        assert ext[codes.US_CORE_ETHNICITY]["extension"][0]["valueCoding"]["code"] in ("2135-2", "2186-5")
        sexes.add(patient["gender"])
        ages.append(2024 - int(patient["birthDate"][:4]))
    assert len(races) >= 3 and sexes == {"female", "male"}
    assert min(ages) < 40 and max(ages) > 70


def test_inpatient_stays_have_locations_vitals_and_labs(hospital: tuple[Path, SynthSummary]) -> None:
    out, summary = hospital
    assert summary.inpatient_stays > 0
    vital_codes = {
        v.codes[0]
        for v in codes.VITALS
        if v.name in ("heart_rate", "respiratory_rate", "spo2", "temperature", "systolic_bp", "diastolic_bp")
    }
    vital_codes |= {codes.O2_FLOW, codes.ACVPU_CODE}
    lab_codes = {lab.loinc for lab in codes.LABS}
    classes = Counter()
    for b in _patient_bundles(out):
        res = [e["resource"] for e in b["entry"]]
        for enc in (r for r in res if r["resourceType"] == "Encounter"):
            classes[enc["class"]["code"]] += 1
            if enc["class"]["code"] != "IMP":
                continue
            assert enc["location"] and all("start" in loc["period"] for loc in enc["location"])
            obs = [
                r
                for r in res
                if r["resourceType"] == "Observation" and r["encounter"]["reference"] == f"urn:uuid:{enc['id']}"
            ]
            seen = {r["code"]["coding"][0]["code"] for r in obs}
            assert vital_codes <= seen
            assert seen & lab_codes
            times = sorted({r["effectiveDateTime"] for r in obs if r["code"]["coding"][0]["code"] == "8867-4"})
            assert len(times) >= 3
            for r in obs:
                if "valueQuantity" in r:
                    q = r["valueQuantity"]
                    code = r["code"]["coding"][0]["code"]
                    expected = codes.VITAL_BY_CODE[code].unit if code in codes.VITAL_BY_CODE else None
                    if code in lab_codes:
                        expected = codes.LAB_BY_LOINC[code].unit
                    if code == codes.O2_FLOW:
                        expected = "L/min"
                    assert q["code"] == expected and q["system"] == codes.UCUM
    assert classes["AMB"] > 0 and classes["EMER"] > 0 and classes["IMP"] > 0


def test_pgx_drugs_are_prescribed_with_rxnorm(hospital: tuple[Path, SynthSummary]) -> None:
    out, summary = hospital
    rx = set()
    for b in _patient_bundles(out):
        for e in b["entry"]:
            r = e["resource"]
            if r["resourceType"] == "MedicationRequest":
                c = r["medicationCodeableConcept"]["coding"][0]
                assert c["system"] == codes.RXNORM
                rx.add(c["display"])
    assert len(rx & set(PGX_DRUGS)) >= 3
    assert sum(1 for n in summary.pgx_drug_patients.values() if n) >= 3


def test_summary_counts_match_files(hospital: tuple[Path, SynthSummary]) -> None:
    out, summary = hospital
    counts: Counter[str] = Counter(e["resource"]["resourceType"] for b in _bundles(out) for e in b["entry"])
    assert dict(counts) == summary.resources
    assert summary.bundles == len(list((out / "fhir").glob("*.json"))) == N_PATIENTS + 1
    assert summary.adt_messages == len(list((out / "adt").glob("*.hl7")))
    assert summary.vcfs == len(list((out / "vcf").glob("*.vcf"))) == N_PATIENTS
    assert json.loads((out / "summary.json").read_text())["resources"] == summary.resources
    rows = list(csv.DictReader((out / "truth" / "outcomes.csv").open()))
    assert len(rows) == summary.inpatient_stays
    assert sum(int(r["died_in_hospital"]) for r in rows) == summary.in_hospital_deaths
    deceased = sum(1 for b in _patient_bundles(out) for e in b["entry"] if "deceasedDateTime" in e["resource"])
    assert deceased == summary.in_hospital_deaths


def test_adt_messages_parse_into_segments(hospital: tuple[Path, SynthSummary]) -> None:
    out, summary = hospital
    events: Counter[str] = Counter()
    names = sorted(p.name for p in (out / "adt").glob("*.hl7"))
    for p in (out / "adt").glob("*.hl7"):
        text = p.read_bytes().decode("ascii")
        assert "\n" not in text
        segments = [s.split("|") for s in text.rstrip("\r").split("\r")]
        assert [s[0] for s in segments] == ["MSH", "EVN", "PID", "PV1"]
        msh, _, pid, pv1 = segments
        assert msh[1] == "^~\\&" and msh[10] == "T" and msh[11] == "2.5.1"
        event = msh[8].split("^")[1]
        events[event] += 1
        assert pv1[2] == "I" and len(pv1[3].split("^")) == 3 and pv1[19]
        assert "hygeia-synthetic" in pid[3]
    assert events["A01"] == summary.inpatient_stays
    assert events["A03"] == summary.inpatient_stays - summary.ongoing_stays
    assert names == sorted(names, key=lambda n: n.split("_")[0])  # time-ordered names


def test_vcfs_carry_the_planted_alleles(hospital: tuple[Path, SynthSummary], positions_vcf: Path) -> None:
    out, summary = hospital
    table = load_allele_table(parse_positions(POSITIONS_VCF, "fixture"))
    truth = json.loads((out / "truth" / "pgx.json").read_text())
    assert summary.unavailable_alleles == {"DPYD": ["c.557A>G"]}
    assert set(truth["patients"]) == {p.stem for p in (out / "vcf").glob("*.vcf")}
    planted_variant = False
    for pid, t in truth["patients"].items():
        rows = {}
        for line in (out / "vcf" / f"{pid}.vcf").read_text().splitlines():
            if line.startswith("#CHROM"):
                assert line.split("\t")[-1] == pid
            if not line.startswith("#"):
                c = line.split("\t")
                rows[c[2]] = ([c[3], *c[4].split(",")], c[9])
        assert len(rows) == POSITIONS_VCF.count("PASS")
        for gene, g in t["genes"].items():
            if g["source"] != "vcf":
                continue
            for h, allele in enumerate(g["haplotypes"]):
                for rsid, base in table.genes[gene].alleles[allele].items():
                    alleles, gt = rows[rsid]
                    assert alleles[int(gt.split("|")[h])] == base
                    planted_variant |= gt != "0|0"
        male_x = rows["rs5030868"][1]
        assert male_x == ("0" if t["sex"] == "male" else "0|0")
        assert (out / "vcf" / f"{pid}.outside.tsv").read_text().startswith("CYP2D6\t")
    assert planted_variant


def test_bad_arguments_and_foreign_directories_are_refused(tmp_path: Path, positions_vcf: Path) -> None:
    with pytest.raises(SynthError, match="at least 1"):
        generate(tmp_path / "x", 0, positions_vcf=positions_vcf)
    with pytest.raises(SynthError, match="positions VCF not found"):
        generate(tmp_path / "y", 2, positions_vcf=tmp_path / "missing.vcf")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    with pytest.raises(SynthError, match="not empty"):
        generate(foreign, 2, positions_vcf=positions_vcf)
    assert (foreign / "thesis.txt").read_text() == "keep me"


def test_regeneration_replaces_a_previous_run(tmp_path: Path, positions_vcf: Path) -> None:
    out = tmp_path / "out"
    generate(out, 6, 3, positions_vcf=positions_vcf)
    summary = generate(out, 2, 3, genomes=False)
    assert len(list((out / "fhir").glob("*.json"))) == summary.bundles == 3
    assert summary.vcfs == 0 and not list((out / "vcf").iterdir())
