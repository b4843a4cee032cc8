"""``hygeia deid fhir|dicom|kanon`` on small synthetic inputs, including malformed ones."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid
from typer.testing import CliRunner

from hygeia.cli import app

runner = CliRunner()
KEY = "a-long-enough-secret-key"

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "name": [{"family": "Hargreaves", "given": ["Margaret"]}],
    "telecom": [{"system": "phone", "value": "617-555-0142"}],
    "birthDate": "1950-03-04",
    "identifier": [{"system": "urn:mrn", "value": "MRN12345"}],
    "address": [{"line": ["12 Elm St"], "city": "Springfield", "state": "MA", "postalCode": "01103"}],
}
OBS = {
    "resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2020-05-06T10:00:00Z", "code": {"text": "heart rate"},
    "note": [{"text": "Seen by Dr. Hargreaves, wife Margaret present."}],
}  # fmt: skip
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [{"fullUrl": "Patient/p1", "resource": PATIENT}, {"fullUrl": "Observation/o1", "resource": OBS}],
}


def invoke(args: list[str], monkeypatch: pytest.MonkeyPatch, key: str | None = KEY) -> tuple[int, str]:
    if key is None:
        monkeypatch.delenv("HYGEIA_DEID_KEY", raising=False)
    else:
        monkeypatch.setenv("HYGEIA_DEID_KEY", key)
    result = runner.invoke(app, ["deid", *args])
    return result.exit_code, result.output


def test_fhir_bundle_ndjson_and_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "b1.json").write_bytes(orjson.dumps(BUNDLE))
    with gzip.open(src / "bulk.ndjson.gz", "wb") as fh:
        fh.write(orjson.dumps(PATIENT) + b"\n\n" + orjson.dumps(OBS) + b"\n")
    code, out = invoke(["fhir", str(src / "b1.json"), str(tmp_path / "b1.out.json")], monkeypatch)
    assert code == 0, out
    text = (tmp_path / "b1.out.json").read_text()
    for secret in ("Hargreaves", "Margaret", "617-555-0142", "MRN12345", "Elm St", "1950-03-04", '"p1"'):
        assert secret not in text
    bundle = orjson.loads(text)
    patient, obs = (e["resource"] for e in bundle["entry"])
    assert obs["subject"]["reference"] == f"Patient/{patient['id']}"  # links survive
    assert patient["birthDate"] == "1950" and patient["address"][0]["postalCode"] == "011"
    code, out = invoke(["fhir", str(src / "bulk.ndjson.gz"), str(tmp_path / "bulk.out.ndjson.gz")], monkeypatch)
    assert code == 0, out
    lines = gzip.decompress((tmp_path / "bulk.out.ndjson.gz").read_bytes()).splitlines()
    assert [orjson.loads(x)["id"] for x in lines] == [patient["id"], obs["id"]]  # same key, same pseudonyms
    code, out = invoke(["fhir", str(src), str(tmp_path / "outdir")], monkeypatch)
    assert code == 0, out
    assert sorted(p.name for p in (tmp_path / "outdir").iterdir()) == ["b1.json", "bulk.ndjson.gz"]
    code, out = invoke(["fhir", str(src), str(tmp_path / "outdir")], monkeypatch)
    assert code == 1 and "already exists" in out


def test_fhir_key_from_file_or_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_bytes(orjson.dumps(BUNDLE))
    code, out = invoke(["fhir", str(bundle), str(tmp_path / "o.json")], monkeypatch, key=None)
    assert code == 1 and "HYGEIA_DEID_KEY" in out and not (tmp_path / "o.json").exists()
    (tmp_path / "short.key").write_text("short")
    code, out = invoke(
        ["fhir", str(bundle), str(tmp_path / "o.json"), "--key-file", str(tmp_path / "short.key")],
        monkeypatch,
        key=None,
    )
    assert code == 1 and "short.key" in out
    (tmp_path / "k.key").write_text(KEY + "\n")
    code, out = invoke(
        ["fhir", str(bundle), str(tmp_path / "o.json"), "--key-file", str(tmp_path / "k.key")], monkeypatch, key=None
    )
    assert code == 0, out
    code, _ = invoke(["fhir", str(bundle), str(tmp_path / "o2.json")], monkeypatch)
    assert (tmp_path / "o.json").read_bytes() == (tmp_path / "o2.json").read_bytes()  # key file = env key


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([PATIENT, b"{oops"], ":2: not valid JSON"),
        ([PATIENT, OBS, {"id": "x"}], ":3: field 'resourceType'"),
        ([[1, 2]], ":1: expected a JSON object"),
        ([{"resourceType": "Bundle", "entry": [{"resource": {"id": 1}}]}], ":1: entry[0].resource: field"),
        ([{"resourceType": "Bundle", "entry": {"a": 1}}], ":1: field 'entry' must be a list"),
    ],
)
def test_fhir_malformed_ndjson_names_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[object], message: str
) -> None:
    src = tmp_path / "bulk.ndjson"
    src.write_bytes(b"\n".join(x if isinstance(x, bytes) else orjson.dumps(x) for x in lines) + b"\n")
    code, out = invoke(["fhir", str(src), str(tmp_path / "out.ndjson")], monkeypatch)
    assert code == 1 and f"{src}{message}" in out.replace("\n", ""), out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bulk.ndjson"]


def test_fhir_malformed_bundle_in_directory_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.json").write_bytes(orjson.dumps(BUNDLE))
    (src / "b.json").write_bytes(b'{"resourceType": "Bundle", "entry": [1]}')
    code, out = invoke(["fhir", str(src), str(tmp_path / "out")], monkeypatch)
    assert code == 1 and "b.json: entry[0] is not a JSON object" in out.replace("\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


PROFILE = """tag,name,basic_profile,in_std_composite_iod
"(0010,0010)",Patient's Name,Z,Y
"(0010,0020)",Patient ID,Z,Y
"(0008,0018)",SOP Instance UID,U,Y
"(0020,000D)",Study Instance UID,U,Y
"(0008,0080)",Institution Name,X/Z/D,Y
"(0010,1000)",Other Patient IDs,X,N
"""


def dicom_file(path: Path, study: str, modality: str = "CT") -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.2")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.Modality = study, modality
    ds.PatientName, ds.PatientID, ds.InstitutionName, ds.OtherPatientIDs = "Doe^Jane", "MRN7", "St Elsewhere", "X1"
    ds.add_new(0x00091001, "LO", "private secret")
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def test_dicom_directory_and_burned_in_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = tmp_path / "profile.csv"
    profile.write_text(PROFILE)
    src = tmp_path / "in"
    dicom_file(src / "s1" / "a.dcm", "1.2.3.4")
    dicom_file(src / "s1" / "b.dcm", "1.2.3.4", modality="US")
    code, out = invoke(["dicom", str(src), str(tmp_path / "out"), "--profile", str(profile)], monkeypatch)
    assert code == 0, out
    assert "1 file(s) may carry burned-in annotation" in out and "s1/b.dcm: modality US" in out
    a, b = (pydicom.dcmread(tmp_path / "out" / "s1" / n) for n in ("a.dcm", "b.dcm"))
    assert a.PatientName == "" and a.PatientID == "" and a.InstitutionName == "" and "OtherPatientIDs" not in a
    assert 0x00091001 not in a and a.PatientIdentityRemoved == "YES"
    assert a.StudyInstanceUID == b.StudyInstanceUID != "1.2.3.4" and a.StudyInstanceUID.startswith("2.25.")
    report = orjson.loads((tmp_path / "out" / "report.json").read_bytes())
    assert [r["burned_in_suspected"] for r in report] == [False, True]


def test_dicom_bad_inputs_write_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = tmp_path / "profile.csv"
    profile.write_text(PROFILE)
    src = tmp_path / "in"
    dicom_file(src / "a.dcm", "1.2.3")
    (src / "notes.txt").write_text("not dicom")
    code, out = invoke(["dicom", str(src), str(tmp_path / "out"), "--profile", str(profile)], monkeypatch)
    assert code == 1 and "notes.txt: not a readable DICOM file" in out.replace("\n", "")
    assert not (tmp_path / "out").exists() and not any(p.name.startswith(".deid") for p in tmp_path.iterdir())
    (src / "notes.txt").unlink()
    profile.write_text(PROFILE + '"(0010,0030)",Birth Date,Q,Y\n')
    code, out = invoke(["dicom", str(src), str(tmp_path / "out"), "--profile", str(profile)], monkeypatch)
    assert code == 1 and "profile.csv:8: unknown action 'Q'" in out.replace("\n", "")
    code, out = invoke(["dicom", str(src), str(tmp_path / "out"), "--profile", str(tmp_path / "none.csv")], monkeypatch)
    assert code == 1 and "profile table not found" in out


def kanon_inputs(tmp_path: Path) -> tuple[Path, Path]:
    hier = tmp_path / "h"
    hier.mkdir(parents=True)
    (hier / "age.csv").write_text("".join(f"{a};{a // 10 * 10}-{a // 10 * 10 + 9};*\n" for a in range(20, 60)))
    (hier / "t_hierarchy_sex.csv").write_text("F;*\nM;*\n")
    rows = [
        f"{20 + (i * 7) % 40};{'F' if i % 3 else 'M'};{['flu', 'hiv', 'asthma'][i % 3 if i % 2 else 0]}"
        for i in range(60)
    ]
    table = tmp_path / "t.csv"
    table.write_text("age;sex;disease\n" + "\n".join(rows) + "\n")
    return table, hier


def test_kanon_writes_generalised_table_and_prints_measures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table, hier = kanon_inputs(tmp_path)
    out = tmp_path / "o.csv"
    code, text = invoke(["kanon", str(table), "--hierarchies", str(hier), "--k", "5", "--out", str(out)], monkeypatch)
    assert code == 0, text
    assert "k = " in text and "re-identification risk" in text and "information loss" in text
    rows = [line.split(";") for line in out.read_text().splitlines()]
    assert rows[0] == ["age", "sex", "disease"] and len(rows) == 61
    counts: dict[tuple[str, str], int] = {}
    for r in rows[1:]:
        counts[(r[0], r[1])] = counts.get((r[0], r[1]), 0) + 1
    assert min(counts.values()) >= 5
    assert [r[2] for r in rows[1:]] == [line.split(";")[2] for line in table.read_text().splitlines()[1:]]
    code, text = invoke(
        [
            "kanon",
            str(table),
            "--hierarchies",
            str(hier),
            "--k",
            "5",
            "--l",
            "2",
            "--sensitive",
            "disease",
            "--out",
            str(tmp_path / "l.csv"),
        ],
        monkeypatch,
    )
    assert code == 0 and "l = " in text, text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("\n25;", "\n25;F;x;extra\n26;", 1), "t.csv:"),
        (lambda t: t.replace("\n27;", "\n127;", 1), "column 'age': value '127' is not in"),
        (lambda t: t.replace("age;sex;", "years;gender;", 1), "no hierarchy"),
    ],
)
def test_kanon_malformed_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: object, message: str) -> None:
    table, hier = kanon_inputs(tmp_path)
    table.write_text(edit(table.read_text()))  # type: ignore[operator]
    out = tmp_path / "o.csv"
    code, text = invoke(["kanon", str(table), "--hierarchies", str(hier), "--k", "5", "--out", str(out)], monkeypatch)
    assert code == 1 and message in text.replace("\n", ""), text
    assert not out.exists()


def test_kanon_bad_hierarchy_and_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table, hier = kanon_inputs(tmp_path)
    out = tmp_path / "o.csv"
    (hier / "age.csv").write_text("20;20-29;*\n21;20-29\n")
    code, text = invoke(["kanon", str(table), "--hierarchies", str(hier), "--k", "5", "--out", str(out)], monkeypatch)
    assert code == 1 and "age.csv:2: 2 columns" in text.replace("\n", "")
    table, hier = kanon_inputs(tmp_path / "x")
    code, text = invoke(
        ["kanon", str(table), "--hierarchies", str(hier), "--k", "5", "--l", "2", "--out", str(out)], monkeypatch
    )
    assert code == 1 and "--sensitive" in text
    code, text = invoke(["kanon", str(table), "--hierarchies", str(hier), "--k", "61", "--out", str(out)], monkeypatch)
    assert code == 1 and "no transformation reaches k=61" in text.replace("\n", "")
    assert not out.exists()


def test_text_key_file_matches_environment_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b'{"id": 1, "text": "Admitted 03/01/2020 by Dr. Hargreaves", "patient": "p1"}\n')
    (tmp_path / "k.key").write_text(KEY)
    args = ["text", "-i", str(notes), "--mode", "surrogate"]
    code, out = invoke(
        [*args, "-o", str(tmp_path / "a.jsonl"), "--key-file", str(tmp_path / "k.key")], monkeypatch, None
    )
    assert code == 0, out
    code, out = invoke([*args, "-o", str(tmp_path / "b.jsonl")], monkeypatch)
    assert code == 0, out
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert b"03/01/2020" not in (tmp_path / "a.jsonl").read_bytes()


FIELDS = [
    "name",
    "telecom",
    "address",
    "identifier",
    "subject",
    "birthDate",
    "effectiveDateTime",
    "entry",
    "resource",
    "note",
    "text",
    "reference",
    "id",
    "value",
    "fullUrl",
    "request",
    "url",
    "div",
    "contact",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=12,
)
RESOURCE = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Observation", "Bundle"])}, optional={k: JSON for k in FIELDS}
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(RESOURCE | JSON | st.binary(max_size=12), min_size=1, max_size=4))
def test_fhir_never_crashes_on_odd_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[object]) -> None:
    src = tmp_path / "fuzz.ndjson"
    out = tmp_path / "fuzz.out.ndjson"
    out.unlink(missing_ok=True)
    src.write_bytes(b"\n".join(x if isinstance(x, bytes) else orjson.dumps(x) for x in lines) + b"\n")
    monkeypatch.setenv("HYGEIA_DEID_KEY", KEY)
    result = runner.invoke(app, ["deid", "fhir", str(src), str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert str(src) in result.output.replace("\n", "") and not out.exists()


CELL = st.sampled_from(["20", "35", "59", "F", "M", "flu", "", "x;y", '"', "127", "é"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=12), st.integers(1, 4))
def test_kanon_never_crashes_on_odd_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[str]], k: int
) -> None:
    hier = tmp_path / "fuzz" / "h"  # tmp_path is shared by hypothesis' examples: build the hierarchies once
    if not hier.exists():
        kanon_inputs(tmp_path / "fuzz")
    table = tmp_path / "odd.csv"
    table.write_text("age;sex;disease\n" + "\n".join(";".join(r) for r in rows) + "\n")
    out = tmp_path / "odd.out.csv"
    out.unlink(missing_ok=True)
    monkeypatch.setenv("HYGEIA_DEID_KEY", KEY)
    result = runner.invoke(
        app, ["deid", "kanon", str(table), "--hierarchies", str(hier), "--k", str(k), "--out", str(out)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1)
    assert out.exists() == (result.exit_code == 0)
