"""Ingestion: all-or-nothing, idempotent, and errors that name file, entry, path and reason."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hygeia.records import IngestError, Store, ingest_bundle, ingest_paths
from hygeia.records.ingest import bundle_resources
from tests.records.bundles import patient, small_bundle, transaction, vital


def _snapshot(store: Store) -> dict[str, int]:
    return store.counts()


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_transaction_bundle_resolves_urn_uuid_references(store: Store, tmp_path: Path) -> None:
    report = ingest_paths(store, [_write(tmp_path / "b.json", small_bundle("p1", 3))])
    assert report.created == 4 and report.rejected == 0
    obs = store.read("Observation", "p1-hr-0")
    assert obs["subject"]["reference"] == "Patient/p1"


def test_reingest_creates_no_duplicates(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "b.json", small_bundle("p1", 3))
    ingest_paths(store, [path])
    again = ingest_paths(store, [path])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert store.counts() == {"Patient": 1, "Observation": 3}


def test_resources_without_ids_get_stable_ids(store: Store) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": {"resourceType": "Organization", "name": "Test Hospital"}}]}
    ingest_bundle(store, bundle)
    ingest_bundle(store, copy.deepcopy(bundle))
    assert store.counts() == {"Organization": 1}


def _bad_cases() -> dict[str, tuple[Any, str]]:
    good = small_bundle("p1", 2)
    wrong_type = copy.deepcopy(good)
    wrong_type["entry"][1]["resource"]["resourceType"] = "Observaton"
    dangling = copy.deepcopy(good)
    dangling["entry"][1]["resource"]["subject"] = {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}
    dangling_literal = copy.deepcopy(good)
    dangling_literal["entry"][2]["resource"]["subject"] = {"reference": "Patient/does-not-exist"}
    bad_date = copy.deepcopy(good)
    bad_date["entry"][2]["resource"]["effectiveDateTime"] = "2024-13-45T99:00:00Z"
    bad_value = copy.deepcopy(good)
    bad_value["entry"][1]["resource"]["valueQuantity"]["value"] = "seventy"
    return {
        "wrong resourceType": (wrong_type, "entry 1: resourceType: unknown FHIR R4 resourceType 'Observaton'"),
        "dangling urn": (dangling, "entry 1: Observation.reference: dangling reference"),
        "dangling literal": (dangling_literal, "entry 2: reference: dangling reference 'Patient/does-not-exist'"),
        "invalid date": (bad_date, "entry 2: Observation.effectiveDateTime"),
        "invalid value": (bad_value, "entry 1: Observation.valueQuantity.value"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_bundle_is_rejected_whole_with_a_precise_message(store: Store, tmp_path: Path, case: str) -> None:
    bundle, expected = _bad_cases()[case]
    path = _write(tmp_path / "bad.json", bundle)
    before = _snapshot(store)
    with pytest.raises(IngestError) as info:
        ingest_paths(store, [path])
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert _snapshot(store) == before


def test_truncated_json_is_rejected(store: Store, tmp_path: Path) -> None:
    text = json.dumps(small_bundle("p1", 2))
    path = tmp_path / "truncated.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(IngestError, match=r"invalid JSON .*truncated"):
        ingest_paths(store, [path])
    assert _snapshot(store) == {}


def test_continue_on_error_ingests_good_bundles_and_reports_rejects(store: Store, tmp_path: Path) -> None:
    good = _write(tmp_path / "a-good.json", small_bundle("p1", 2))
    bad_bundle = small_bundle("p2", 2)
    bad_bundle["entry"][1]["resource"]["status"] = "not-a-status"
    bad = _write(tmp_path / "b-bad.json", bad_bundle)
    report = ingest_paths(store, [good, bad], continue_on_error=True)
    assert report.rejected == 1 and report.units == 2
    assert report.rejects[0]["file"] == str(bad)
    assert report.rejects[0]["where"] == "entry 1"
    assert report.rejects[0]["path"].startswith("Observation.status")
    assert store.patient_ids() == ["p1"]


def _ndjson(path: Path, lines: list[str], compress: bool) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    if compress:
        path = path.with_suffix(".ndjson.gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_ndjson_plain_and_gzip(store: Store, tmp_path: Path, compress: bool) -> None:
    lines = [orjson.dumps(patient("p1")).decode()]
    lines += [orjson.dumps(vital(f"o{i}", "p1", "8867-4", 60 + i % 40, "/min", "2024-01-01T00:00:00Z")).decode()
              for i in range(50)]
    report = ingest_paths(store, [_ndjson(tmp_path / "data.ndjson", lines, compress)])
    assert report.created == 51


def test_ndjson_broken_line_5000_rejects_the_file(sqlite_store: Store, tmp_path: Path) -> None:
    lines = [orjson.dumps(patient("p1")).decode()]
    lines += [orjson.dumps(vital(f"o{i}", "p1", "8867-4", 70, "/min", "2024-01-01T00:00:00Z")).decode()
              for i in range(1, 6000)]
    lines[4999] = lines[4999][:40]  # line 5,000 cut short
    path = _ndjson(tmp_path / "Observation.ndjson", lines, False)
    with pytest.raises(IngestError, match=r"Observation\.ndjson: line 5000: invalid JSON"):
        ingest_paths(sqlite_store, [path])
    assert sqlite_store.counts() == {}


def test_ndjson_forward_reference_within_file_is_fine(store: Store, tmp_path: Path) -> None:
    lines = [orjson.dumps(vital("o1", "p1", "8867-4", 70, "/min", "2024-01-01T00:00:00Z")).decode(),
             orjson.dumps(patient("p1")).decode()]
    assert ingest_paths(store, [_ndjson(tmp_path / "x.ndjson", lines, False)]).created == 2


def test_directory_ingests_shared_resources_first(store: Store, tmp_path: Path) -> None:
    org = {"resourceType": "Organization", "id": "hosp", "name": "Test Hospital"}
    p = patient("p1")
    p["managingOrganization"] = {"reference": "Organization/hosp"}
    _write(tmp_path / "Alice.json", transaction([p]))
    _write(tmp_path / "hospitalInformation.json", transaction([org]))
    report = ingest_paths(store, [tmp_path])
    assert report.rejected == 0 and store.counts() == {"Organization": 1, "Patient": 1}


def test_unsupported_method_and_bundle_type() -> None:
    with pytest.raises(IngestError, match="method 'DELETE' is not supported"):
        bundle_resources({"resourceType": "Bundle", "type": "transaction",
                          "entry": [{"resource": patient(), "request": {"method": "DELETE", "url": "Patient/p1"}}]},
                         "x.json")
    with pytest.raises(IngestError, match="unsupported bundle type"):
        bundle_resources({"resourceType": "Bundle", "type": "history", "entry": []}, "x.json")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["status", "code", "subject", "effectiveDateTime", "valueQuantity", "id", "category"]),
       value=_json_values)
@example(key="status", value=-(2**63) - 1)  # found by CI: beyond 64 bits, JSON cannot store it
@example(key="valueQuantity", value={"value": 2**70, "unit": "/min"})
def test_any_mutation_is_stored_whole_or_rejected_cleanly(sqlite_store: Store, key: str, value: Any) -> None:
    bundle = small_bundle("px", 1)
    bundle["entry"][1]["resource"][key] = value
    before = sqlite_store.counts()
    try:
        ingest_bundle(sqlite_store, bundle, "mutated.json")
    except IngestError as exc:
        assert str(exc).startswith("mutated.json: entry 1")
        assert sqlite_store.counts() == before
    else:  # written whole: the patient and its observation are both there
        assert sqlite_store.read("Patient", "px")["id"] == "px"
        assert sqlite_store.counts()["Observation"] >= 1


def _adt(event: str, when: str, pid: str, visit: str, bed: str) -> str:
    return "\r".join([
        f"MSH|^~\\&|SRC|HOSP|HYGEIA|HYGEIA|{when}||ADT^{event}|{event}{when}|P|2.5.1",
        f"EVN|{event}|{when}",
        f"PID|1||{pid}^^^HOSP^MR||Testperson^Ada||19500203|F",
        f"PV1|1|I|AMU^B1^{bed}||||||||||||||||{visit}|||||||||||||||||||||||||{when}",
    ]) + "\r"


def test_adt_updates_known_patient_and_encounter_and_replays_idempotently(store: Store, tmp_path: Path) -> None:
    enc = {"resourceType": "Encounter", "id": "e1", "status": "in-progress",
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
           "subject": {"reference": "Patient/p1"}, "period": {"start": "2024-03-01T08:00:00+00:00"}}
    store.write([patient("p1"), enc])
    (tmp_path / "1.hl7").write_text(_adt("A02", "20240302100000", "p1", "e1", "4"))
    (tmp_path / "2.hl7").write_text(_adt("A03", "20240303120000", "p1", "e1", "4"))
    first = ingest_paths(store, [tmp_path])
    assert first.created == 0
    assert store.counts() == {"Patient": 1, "Encounter": 1}
    stored = store.read("Encounter", "e1")
    assert stored["status"] == "finished" and stored["period"]["end"].startswith("2024-03-03T12:00:00")
    assert [loc["location"]["identifier"]["value"].endswith("/4") for loc in stored["location"]] == [True]
    again = ingest_paths(store, [tmp_path])
    assert (again.created, again.updated) == (0, 0)


def test_adt_for_unknown_patient_creates_patient_and_encounter(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.hl7").write_text(_adt("A01", "20240301080000", "MRN9", "V9", "2"))
    report = ingest_paths(store, [tmp_path / "a.hl7"])
    assert report.by_type == {"Patient": 1, "Encounter": 1}
    bad = tmp_path / "bad.hl7"
    bad.write_text("PID|1||x\r")
    with pytest.raises(IngestError, match=r"bad\.hl7"):
        ingest_paths(store, [bad])
