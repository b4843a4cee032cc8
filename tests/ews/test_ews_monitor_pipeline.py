"""The monitoring pipeline against a real store (SQLite and PostgreSQL): device messages and record
Observations -> stored Observations, NEWS2, persisted alerts, re-sends, acknowledgements, counters."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hygeia.ews.devices import Binding, DeviceReading, sign
from hygeia.ews.monitor import (
    Monitor,
    ReadingError,
    acknowledge_alert,
    bind_device,
    process_observations,
    read_counters,
    reading_observation,
    register_device,
)
from hygeia.records import codes
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store

KEY = b"k" * 32
NOW = datetime.now(UTC).replace(microsecond=0)
NORMAL = {"rr": 16, "spo2": 97, "on_oxygen": False, "sbp": 120, "pulse": 70, "acvpu": "A", "temp_c": 37.0}
SICK = {"rr": 26, "spo2": 90, "on_oxygen": True, "sbp": 95, "pulse": 125, "acvpu": "A", "temp_c": 38.5}


def _msg(values: dict[str, Any], at: datetime, device: str = "d1", key: bytes = KEY) -> tuple[str, bytes]:
    payload = {"device_id": device, "device_time": at.isoformat(), "nonce": uuid.uuid4().hex,
               "readings": [{"parameter": k, "value": v, "unit": None} for k, v in values.items()]}
    return f"hygeia/devices/{device}/vitals", json.dumps(sign(payload, key)).encode()


def _setup(store: Store) -> None:
    store.write([{"resourceType": "Patient", "id": "p1", "gender": "female"}])
    register_device(store, "d1", KEY)
    bind_device(store, Binding("d1", "p1", NOW - timedelta(days=1)), ward="ward-7")


def _count_device_obs(store: Store) -> int:
    return sum(1 for r in store.patient_resources("p1", ["Observation"]) if r["id"].startswith("dev-"))


def test_device_messages_are_stored_scored_and_alerted(store: Store) -> None:
    _setup(store)
    seen: list[dict[str, Any]] = []
    mon = Monitor(store, hooks=[seen.append])
    out = mon.handle([_msg(NORMAL, NOW - timedelta(minutes=2))], NOW)
    assert out.accepted == 1 and out.readings == 7 and out.alerts == []
    assert _count_device_obs(store) == 7
    # LOINC-coded vitals in canonical units, readable through the spine
    vitals = PatientRecord.load(store, "p1").vitals()
    assert set(vitals["name"]) >= {"heart_rate", "respiratory_rate", "spo2", "systolic_bp", "temperature",
                                   "consciousness"}
    sick_msg = _msg(SICK, NOW - timedelta(minutes=1))
    out = mon.handle([sick_msg], NOW)
    assert len(out.alerts) == 1 and seen == out.alerts
    alert = out.alerts[0]
    assert alert["level_name"] == "emergency" and alert["ward"] == "ward-7"
    assert alert["recipients"] == ["nurse_in_charge", "rapid_response"]
    assert "decision support" in alert["notice"].lower()
    # the NEWS2 Observation is stored with the SNOMED code
    news2 = [r for r in store.patient_resources("p1", ["Observation"])
             if r["code"]["coding"][0]["code"] == codes.NEWS2_TOTAL_SNOMED]
    assert news2 and max(r["valueInteger"] for r in news2) >= 7
    # redelivery (same message, a new process) writes nothing twice and raises nothing new
    again = Monitor(store).handle([sick_msg], NOW)
    assert again.accepted == 1 and again.alerts == [] and _count_device_obs(store) == 14
    # the rejected are counted, never stored
    bad = [_msg(NORMAL, NOW, key=b"x" * 32), ("hygeia/devices/d1/vitals", b"not json"),
           _msg(NORMAL, NOW, device="ghost")]
    out = mon.handle(bad, NOW)
    assert out.rejected == 3 and _count_device_obs(store) == 14
    counts = read_counters(store)
    assert counts["rejected:bad-signature"] == 1 and counts["rejected:malformed"] == 1
    assert counts["rejected:unknown-device"] == 1 and counts["accepted"] == 3
    assert counts["readings-stored"] == 21


def test_resend_until_acknowledged_and_trend(store: Store) -> None:
    _setup(store)
    mon = Monitor(store)
    mon.handle([_msg(NORMAL, NOW - timedelta(minutes=3))], NOW - timedelta(minutes=2))
    out = mon.handle([_msg(SICK, NOW - timedelta(minutes=1))], NOW)
    alert_id = out.alerts[0]["id"]
    trends = [r for r in store.patient_resources("p1") if "rising" in json.dumps(r).lower()]
    assert trends, "a rise of >= 2 within 4 h is its own finding"
    assert mon.tick(NOW + timedelta(minutes=1)) == []
    resent = mon.tick(NOW + timedelta(minutes=6))
    assert [a["id"] for a in resent] == [alert_id] and resent[0]["sends"] == 2
    acked = acknowledge_alert(store, alert_id, "nurse.jones", NOW + timedelta(minutes=7))
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "nurse.jones"
    assert mon.tick(NOW + timedelta(minutes=30)) == []  # the monitor sees the acknowledgement from the store
    with pytest.raises(KeyError):
        acknowledge_alert(store, "alert-none", "x")
    # a restarted monitor neither re-raises at the same level nor loses the patient's level
    fresh = Monitor(store)
    assert fresh.handle([_msg(SICK, NOW)], NOW + timedelta(minutes=31)).alerts == []


def test_record_path_feeds_the_same_scoring(sqlite_store: Store) -> None:
    t = NOW - timedelta(minutes=10)
    obs = [reading_observation("p2", "ehr", t, DeviceReading(k, v, None)) for k, v in SICK.items()]
    for o in obs:
        o["id"] = o["id"].replace("dev-", "ehr-")
    outcome = process_observations(sqlite_store, "p2", obs, now=NOW)
    assert outcome.result is not None and outcome.result.total >= 7 and outcome.result.complete
    assert len(outcome.alerts) == 1
    with pytest.raises(ValueError, match="not patient"):
        process_observations(sqlite_store, "p3", obs, now=NOW)


@pytest.mark.parametrize(("parameter", "value", "unit"), [
    ("pulse", "fast", None), ("spo2", 140, "%"), ("temperature", 98.6, "Cel"), ("acvpu", "Q", None),
    ("mood", 3, None), ("fio2", True, None),
])
def test_bad_readings_are_refused_with_the_parameter(parameter: str, value: object, unit: str | None) -> None:
    with pytest.raises(ReadingError):
        reading_observation("p1", "d1", NOW, DeviceReading(parameter, value, unit))  # type: ignore[arg-type]


def test_fahrenheit_is_converted() -> None:
    obs = reading_observation("p1", "d1", NOW, DeviceReading("temp_c", 100.4, "[degF]"))
    assert obs["valueQuantity"]["code"] == "Cel" and abs(obs["valueQuantity"]["value"] - 38.0) < 1e-9
