"""All 74 Synthea bundles of the reference data ingest with zero rejects, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hygeia.records import IngestError, PatientRecord, Store, ingest_paths
from hygeia.records.ingest import bundle_resources


def test_all_synthea_bundles_ingest_with_zero_rejects(store: Store, reference: Callable[..., Path]) -> None:
    root = reference("clinical", "synthea")
    files = sorted(root.rglob("*.json"))
    assert len(files) == 74
    report = ingest_paths(store, [root], continue_on_error=True)
    assert report.rejects == []
    assert report.units == 74
    expected = sum(len(json.loads(f.read_text())["entry"]) for f in files)
    assert report.resources == expected
    assert store.counts()["Patient"] == 74
    # every patient's record can be read through the typed accessors
    for pid in store.patient_ids()[:10]:
        record = PatientRecord.load(store, pid)
        assert record.demographics().birth_date is not None
        assert len(record.encounters()) > 0
    again = ingest_paths(store, [root])
    assert again.created == 0 and store.counts()["Patient"] == 74


def test_full_vitals_bundles_give_canonical_vitals(sqlite_store: Store, reference: Callable[..., Path]) -> None:
    root = reference("clinical", "synthea", "full-vitals")
    ingest_paths(sqlite_store, [root])
    names: set[str] = set()
    for pid in sqlite_store.patient_ids():
        vitals = PatientRecord.load(sqlite_store, pid).vitals()
        names |= set(vitals["name"])
        temps = vitals[vitals["name"] == "temperature"]["value"]
        assert ((temps > 30) & (temps < 45)).all()
    assert {"heart_rate", "respiratory_rate", "systolic_bp", "diastolic_bp", "temperature"} <= names


@pytest.mark.parametrize("damage", ["truncate", "resource_type", "dangling", "date"])
def test_malformed_synthea_bundle_is_rejected_and_store_unchanged(
        sqlite_store: Store, reference: Callable[..., Path], tmp_path: Path, damage: str) -> None:
    source = sorted(reference("clinical", "synthea", "r4-sample").glob("*.json"))[0]
    bundle = json.loads(source.read_text())
    bad = copy.deepcopy(bundle)
    index = next(i for i, e in enumerate(bad["entry"]) if e["resource"]["resourceType"] == "Observation")
    entry = bad["entry"][index]["resource"]
    if damage == "resource_type":
        entry["resourceType"] = "Observashun"
    elif damage == "dangling":
        entry["subject"] = {"reference": "urn:uuid:11111111-2222-3333-4444-555555555555"}
    elif damage == "date":
        entry["effectiveDateTime"] = "2019-02-30T25:61:00Z"
    path = tmp_path / "bad.json"
    text = json.dumps(bad)
    path.write_text(text[: len(text) - 200] if damage == "truncate" else text)
    before = sqlite_store.counts()
    with pytest.raises(IngestError) as info:
        ingest_paths(sqlite_store, [path])
    message = str(info.value)
    assert message.startswith(str(path))
    if damage != "truncate":
        assert f"entry {index}" in message
    assert sqlite_store.counts() == before


def test_ndjson_with_line_5000_broken_is_rejected_whole(sqlite_store: Store, reference: Callable[..., Path],
                                                        tmp_path: Path) -> None:
    """Synthea resources written as Bulk Data NDJSON; line 5,000 cut short rejects the file."""
    lines: list[str] = []
    for source in sorted(reference("clinical", "synthea", "r4-sample").glob("*.json")):
        bundle = json.loads(source.read_text())
        for res in bundle_resources(bundle, str(source)):
            lines.append(json.dumps(res))
        if len(lines) > 6000:
            break
    path = tmp_path / "export.ndjson"
    broken = [*lines[:4999], lines[4999][: len(lines[4999]) // 2], *lines[5000:]]
    path.write_text("\n".join(broken) + "\n")
    with pytest.raises(IngestError, match=r"export\.ndjson: line 5000: invalid JSON"):
        ingest_paths(sqlite_store, [path])
    assert sqlite_store.counts() == {}
    path.write_text("\n".join(lines) + "\n")
    ingest_paths(sqlite_store, [path])
    unique = {(r["resourceType"], r["id"]) for r in map(json.loads, lines)}  # shared Organizations recur
    assert sum(sqlite_store.counts().values()) == len(unique)
