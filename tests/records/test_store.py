"""The store on SQLite and PostgreSQL: versions, history, index, search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hygeia.records import NotFound, PatientRecord, Store, ingest_bundle
from tests.records.bundles import patient, small_bundle, vital


def test_write_creates_version_one_and_history(store: Store) -> None:
    summary = store.write([patient("a")])
    assert (summary.created, summary.updated, summary.unchanged) == (1, 0, 0)
    stored = store.read("Patient", "a")
    assert stored["meta"]["versionId"] == "1"
    assert "lastUpdated" in stored["meta"]
    assert store.history("Patient", "a") == [1]


def test_unchanged_content_keeps_version_and_change_adds_one(store: Store) -> None:
    store.write([patient("a")])
    again = store.write([patient("a")])
    assert again.unchanged == 1 and again.created == 0
    changed = store.write([patient("a", family="Renamed")])
    assert changed.updated == 1
    assert store.read("Patient", "a")["meta"]["versionId"] == "2"
    assert store.vread("Patient", "a", 1)["name"][0]["family"] == "Testperson"
    assert store.vread("Patient", "a", 2)["name"][0]["family"] == "Renamed"
    assert store.history("Patient", "a") == [1, 2]


def test_read_missing_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.read("Patient", "nobody")
    with pytest.raises(NotFound):
        store.vread("Patient", "nobody", 1)


def test_delete_hides_resource_and_keeps_history(store: Store) -> None:
    store.write([patient("a"), vital("o1", "a", "8867-4", 80, "/min", "2024-01-01T00:00:00Z")])
    store.delete("Observation", "o1")
    with pytest.raises(NotFound):
        store.read("Observation", "o1")
    assert store.history("Observation", "o1") == [1, 2]
    assert store.observations("a") == []


def test_observation_index_and_search(store: Store) -> None:
    ingest_bundle(store, small_bundle("p1", n_obs=5))
    ingest_bundle(store, small_bundle("p2", n_obs=2))
    total, page = store.search("Observation", patient="p1", code="http://loinc.org|8867-4", count=2)
    assert total == 5 and len(page) == 2
    total, _ = store.search("Observation", code="8867-4")
    assert total == 7
    total, _ = store.search("Observation", patient="p1", date_from=datetime(2024, 1, 1, 2, tzinfo=UTC),
                            date_to=datetime(2024, 1, 1, 4, tzinfo=UTC))
    assert total == 2
    assert store.patient_ids() == ["p1", "p2"]
    assert store.counts() == {"Patient": 2, "Observation": 7}


def test_patient_record_vitals_in_canonical_units(store: Store) -> None:
    resources = [patient("a"),
                 vital("t1", "a", "8310-5", 98.6, "[degF]", "2024-01-01T00:00:00Z"),
                 vital("t2", "a", "8310-5", 38.0, "Cel", "2024-01-01T01:00:00Z"),
                 vital("hr", "a", "8867-4", 90, "/min", "2024-01-01T01:30:00+02:00")]
    store.write(resources)
    record = PatientRecord.load(store, "a")
    vitals = record.vitals()
    temps = vitals[vitals["name"] == "temperature"]["value"].tolist()
    assert temps == pytest.approx([37.0, 38.0])
    assert set(vitals["unit"]) == {"Cel", "/min"}
    # times are UTC: 01:30+02:00 is 23:30 UTC the day before, so the heart rate sorts first
    assert vitals.iloc[0]["name"] == "heart_rate"
    assert record.demographics().name == "Ada Testperson"
    assert record.demographics().age(datetime(2024, 2, 3, tzinfo=UTC).date()) == 74


def test_patient_record_unknown_patient(store: Store) -> None:
    with pytest.raises(NotFound):
        PatientRecord.load(store, "missing")


def test_memory_record_equals_store_record(store: Store) -> None:
    from hygeia.records.ingest import bundle_resources

    bundle = small_bundle("m1", n_obs=6)
    ingest_bundle(store, bundle)
    stored = PatientRecord.load(store, "m1").vitals()
    memory = PatientRecord.from_resources(bundle_resources(bundle, "b")).vitals()
    assert stored.drop(columns=["time"]).equals(memory.drop(columns=["time"]))
    assert list(stored["time"]) == list(memory["time"])


def test_latest_vitals_is_the_tail_of_vitals(store: Store) -> None:
    resources = [patient("a")]
    for i in range(12):
        resources.append(vital(f"h{i}", "a", "8867-4", 60 + i, "/min", f"2024-01-01T{i:02d}:00:00Z"))
        resources.append(vital(f"t{i}", "a", "8310-5", 98.0 + i / 10, "[degF]", f"2024-01-01T{i:02d}:30:00Z"))
    resources.append(vital("s-inv", "a", "76215-3", 101, "mm[Hg]", "2024-01-01T05:00:00Z"))
    resources.append(vital("s-ni", "a", "8480-6", 110, "mm[Hg]", "2024-01-01T06:00:00Z"))
    store.write(resources)
    record = PatientRecord.load(store, "a")
    full = record.vitals()
    expected = full.groupby("name", sort=False).tail(1).sort_values("name").reset_index(drop=True)
    latest = record.latest_vitals().sort_values("name").reset_index(drop=True)
    assert latest[["name", "value", "resource_id"]].equals(expected[["name", "value", "resource_id"]])
    assert latest.set_index("name").loc["systolic_bp", "resource_id"] == "s-ni"
