"""Device registry, signed messages, replay guard, patient state and alert policy (pure parts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hygeia.ews.alerts import NURSE_IN_CHARGE, RAPID_RESPONSE, WARD_NURSE, AlertEngine, PatientState
from hygeia.ews.devices import Accepted, Binding, DeviceRegistry, Gate, Rejected, sign
from hygeia.ews.news2 import Reading, ResponseLevel

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
TOPIC = "hygeia/devices/d1/vitals"


def registry() -> DeviceRegistry:
    reg = DeviceRegistry()
    reg.register("d1", KEY)
    reg.register("d2", b"z" * 32)
    reg.bind(Binding("d1", "p1", T0 - timedelta(days=1), T0 + timedelta(days=1)))
    return reg


def message(nonce: str = "n1", at: datetime = T0, key: bytes = KEY, device: str = "d1") -> bytes:
    payload = {
        "device_id": device,
        "device_time": at.isoformat(),
        "nonce": nonce,
        "readings": [{"parameter": "pulse", "value": 88, "unit": "/min"}],
    }
    return json.dumps(sign(payload, key)).encode()


def test_bindings_refuse_overlap_and_resolve_by_time() -> None:
    reg = registry()
    assert reg.patient_for("d1", T0) == "p1"
    assert reg.patient_for("d1", T0 + timedelta(days=2)) is None
    with pytest.raises(ValueError, match="already bound"):
        reg.bind(Binding("d1", "p2", T0, None))
    reg.bind(Binding("d1", "p2", T0 + timedelta(days=1)))  # back-to-back is fine
    assert reg.patient_for("d1", T0 + timedelta(days=3)) == "p2"
    with pytest.raises(ValueError, match="not registered"):
        reg.bind(Binding("dx", "p1", T0))
    with pytest.raises(ValueError, match="16 bytes"):
        reg.register("d3", b"short")


def test_gate_accepts_good_and_rejects_bad_messages() -> None:
    gate = Gate(registry())
    ok = gate.admit(TOPIC, message(), T0 + timedelta(seconds=2))
    assert isinstance(ok, Accepted) and ok.patient_id == "p1" and ok.readings[0].value == 88
    unsigned = json.loads(message("n2"))
    del unsigned["sig"]
    tampered = json.loads(message("n3"))
    tampered["readings"][0]["value"] = 40
    cases = {
        "replayed": (TOPIC, message()),
        "unsigned": (TOPIC, json.dumps(unsigned).encode()),
        "bad-signature": (TOPIC, json.dumps(tampered).encode()),
        "unknown-device": ("hygeia/devices/d9/vitals", message("n4", device="d9")),
        "topic-mismatch": ("hygeia/devices/d2/vitals", message("n5")),
        "clock-window": (TOPIC, message("n6", at=T0 - timedelta(hours=1))),
        "malformed": (TOPIC, b"\xff not json"),
    }
    for reason, (topic, raw) in cases.items():
        result = gate.admit(topic, raw, T0 + timedelta(seconds=3))
        assert isinstance(result, Rejected) and result.reason == reason, (reason, result)
    wrong_key = gate.admit(TOPIC, message("n7", key=b"q" * 32), T0)
    assert isinstance(wrong_key, Rejected) and wrong_key.reason == "bad-signature"
    assert gate.counts["accepted"] == 1 and gate.counts["rejected:bad-signature"] == 2
    unbound = Gate(registry()).admit("hygeia/devices/d2/vitals", message("n8", key=b"z" * 32, device="d2"), T0)
    assert isinstance(unbound, Rejected) and unbound.reason == "unbound"


def test_nonce_memory_is_pruned_after_the_window() -> None:
    gate = Gate(registry())
    assert isinstance(gate.admit(TOPIC, message("a", at=T0), T0), Accepted)
    later = T0 + timedelta(minutes=30)
    assert isinstance(gate.admit(TOPIC, message("b", at=later), later), Accepted)
    assert ("d1", "a") not in gate.guard.seen


def test_patient_state_latest_values_staleness_and_trend() -> None:
    st = PatientState("p1", staleness=timedelta(hours=1))
    normal = {"rr": 16, "spo2": 97, "on_oxygen": False, "sbp": 120, "pulse": 70, "acvpu": "A", "temp_c": 37.0}
    result, trend = st.update({k: Reading(v, T0) for k, v in normal.items()}, T0)
    assert result.total == 0 and result.complete and trend is None
    result, _ = st.update({"pulse": Reading(60, T0 - timedelta(minutes=5))}, T0)  # older: ignored
    assert result.scores["pulse"].value == 70
    t1 = T0 + timedelta(minutes=30)
    result, trend = st.update({"rr": Reading(22, t1), "pulse": Reading(115, t1)}, t1)
    assert result.total == 4 and trend is not None and trend.rise == 4
    t2 = T0 + timedelta(minutes=90)
    result, _ = st.update({"pulse": Reading(118, t2)}, t2)
    assert "spo2" in result.stale and not result.complete


def test_alerts_rise_route_dedupe_resend_ack() -> None:
    eng = AlertEngine()
    assert eng.on_score("p1", ResponseLevel.ROUTINE, 0, T0) == []
    [a1] = eng.on_score("p1", ResponseLevel.WARD, 2, T0)
    assert a1.recipients == (WARD_NURSE,)
    assert eng.on_score("p1", ResponseLevel.WARD, 3, T0 + timedelta(minutes=1)) == []  # no rise
    [a2] = eng.on_score("p1", ResponseLevel.URGENT, 5, T0 + timedelta(minutes=2))
    assert a2.recipients == (NURSE_IN_CHARGE, RAPID_RESPONSE)
    assert eng.alerts[a1.id].superseded_by == a2.id
    # falls then rises again while the urgent alert is still open: deduplicated
    eng.on_score("p1", ResponseLevel.WARD, 2, T0 + timedelta(minutes=3))
    assert eng.on_score("p1", ResponseLevel.URGENT, 5, T0 + timedelta(minutes=4)) == []
    assert eng.due(T0 + timedelta(minutes=10)) == []
    [again] = eng.due(T0 + timedelta(minutes=17))  # urgent: re-sent after 15 min
    assert again.id == a2.id and again.sends == 2
    eng.acknowledge(a2.id, "nurse.jones", T0 + timedelta(minutes=20))
    assert eng.due(T0 + timedelta(hours=2)) == []
    [a3] = eng.on_score("p1", ResponseLevel.EMERGENCY, 8, T0 + timedelta(minutes=30))
    assert a3.level == ResponseLevel.EMERGENCY
    with pytest.raises(KeyError):
        eng.acknowledge("alert-999", "x", T0)
