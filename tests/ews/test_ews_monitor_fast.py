"""The monitor's fast paths give what the general paths give: the bulk Observation write stores the
same rows as ``Store.write``; the per-update level check equals the full NEWS2 score; signatures over
either canonical number format verify, and nothing else does."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import delete, select

from hygeia.ews.alerts import PatientState
from hygeia.ews.devices import (
    Accepted,
    Binding,
    DeviceReading,
    DeviceRegistry,
    Rejected,
    ReplayGuard,
    canonical_stdlib,
    sign,
    verify_message,
)
from hygeia.ews.findings import news2_observation, rising_trend
from hygeia.ews.monitor import reading_observation
from hygeia.ews.news2 import ACVPU, PARAMETERS, Reading, news2_level, score_news2
from hygeia.records.schema import observation_index, resource_history, resources
from hygeia.records.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _batch() -> list[dict[str, Any]]:
    readings: list[tuple[str, float | str | bool, str | None]] = [
        ("pulse", 88, "/min"), ("rr", 18, None), ("spo2", 95, "%"), ("temp_c", 100.4, "[degF]"), ("acvpu", "V", None),
        ("on_oxygen", True, None), ("fio2", 28, None), ("sbp", 101, None)]
    obs = [reading_observation(f"p{i % 3}", f"d{i % 3}", NOW - timedelta(seconds=i), DeviceReading(p, v, u))
           for i, (p, v, u) in enumerate(readings)]
    result = score_news2({"rr": Reading(18, NOW), "pulse": Reading(88, NOW, "Observation/x"), "acvpu": "V"}, now=NOW)
    obs.append(news2_observation("p0", result, "news2-test"))  # components: several index rows
    return obs


def _rows(store: Store) -> tuple[list[Any], list[Any], list[Any]]:
    def drop_stamp(content: str) -> dict[str, Any]:
        doc = json.loads(content)
        assert doc["meta"]["versionId"] and doc["meta"]["lastUpdated"]
        doc["meta"].pop("lastUpdated")
        return doc

    with store.engine.connect() as conn:
        res = [(r.resource_type, r.id, r.version_id, r.patient_id, r.content_hash, r.deleted, drop_stamp(r.content))
               for r in conn.execute(select(resources).order_by(resources.c.id))]
        hist = [(r.resource_type, r.id, r.version_id, r.deleted, drop_stamp(r.content))
                for r in conn.execute(select(resource_history).order_by(resource_history.c.id,
                                                                         resource_history.c.version_id))]
        index = [tuple(r) for r in conn.execute(select(observation_index).order_by(
            observation_index.c.resource_id, observation_index.c.seq))]
    return res, hist, index


def test_bulk_observation_write_stores_what_store_write_stores(store: Store) -> None:
    batch = _batch()
    store.write(batch)
    want = _rows(store)
    assert len(want[2]) > len(batch)  # the NEWS2 components are indexed too
    with store.engine.begin() as conn:
        for table in (observation_index, resource_history, resources):
            conn.execute(delete(table))
    with store.engine.begin() as conn:
        summary = store.write_observations(batch, conn)
    assert (summary.created, summary.updated, summary.unchanged) == (len(batch), 0, 0)
    assert _rows(store) == want
    # redelivery: unchanged, nothing written; a changed Observation gets version 2 (through Store.write)
    changed = {**batch[0], "valueQuantity": {**batch[0]["valueQuantity"], "value": 90.0}}
    with store.engine.begin() as conn:
        again = store.write_observations([*batch[1:], changed], conn)
    assert (again.created, again.updated, again.unchanged) == (0, 1, len(batch) - 1)
    assert len(_rows(store)[1]) == len(batch) + 1
    assert store.read("Observation", changed["id"])["valueQuantity"]["value"] == 90.0
    assert store.read("Observation", changed["id"])["meta"]["versionId"] == "2"
    with store.engine.begin() as conn, pytest.raises(ValueError, match="Patient/p1 is not an Observation"):
        store.write_observations([{"resourceType": "Patient", "id": "p1"}], conn)


def test_level_check_equals_the_full_score() -> None:
    rng = random.Random(4)
    for _ in range(3000):
        readings: dict[str, Reading] = {}
        for p in PARAMETERS:
            if rng.random() < 0.2:
                continue
            when = NOW - timedelta(hours=rng.choice([0, 1, 13])) if rng.random() < 0.8 else None
            value: Any = {
                "respiration_rate": rng.randint(4, 40), "spo2": rng.randint(80, 100),
                "systolic_bp": rng.randint(60, 240), "pulse": rng.randint(30, 160),
                "temperature": round(rng.uniform(33, 41), 1),
                "consciousness": rng.choice(ACVPU), "air_or_oxygen": rng.random() < 0.5,
            }[p]
            readings[p] = Reading(value, when)
        scale = rng.choice([1, 2])
        full = score_news2(readings, now=NOW, scale=scale, max_age=timedelta(hours=12))
        points: dict[str, int] = {}
        stale: list[str] = []
        assert news2_level(readings, now=NOW, scale=scale, max_age=timedelta(hours=12), points_of=points,
                           stale=stale) == (full.total, full.any_red_3, full.level), readings
        assert points == {p: s.score for p, s in full.scores.items()}, readings
        assert sorted(stale) == sorted(full.stale), readings


def test_patient_state_updates_score_as_the_full_score_does() -> None:
    """Updates one parameter at a time (points remembered per reading), time moving on (readings go stale)."""
    rng = random.Random(7)
    values: dict[str, Any] = {
        "respiration_rate": lambda: rng.randint(4, 40), "spo2": lambda: rng.randint(80, 100),
        "systolic_bp": lambda: rng.randint(60, 240), "pulse": lambda: rng.randint(30, 160),
        "temperature": lambda: round(rng.uniform(33, 41), 1), "consciousness": lambda: rng.choice(ACVPU),
        "air_or_oxygen": lambda: rng.random() < 0.5,
    }
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # signature -> what a stored NEWS2 would say
    for scale in (1, 2):
        state = PatientState("p1", scale=scale, staleness=timedelta(hours=2))
        now = NOW
        every: list[tuple[datetime, int]] = []  # the whole history: the trend rule on it is the reference
        for _ in range(600):
            now += timedelta(minutes=rng.choice([0, 1, 10, 45]))
            p = rng.choice(PARAMETERS)
            total, red, level, trend = state.advance({p: Reading(values[p](), now)}, now)
            every.append((now, total))
            assert trend == rising_trend(every)
            full = score_news2(state.latest, now=now, scale=scale, max_age=timedelta(hours=2))
            assert (total, red, level) == (full.total, full.any_red_3, full.level)
            assert state.score(now) == full
            # equal signatures <=> equal scores, missing and stale parameters (the monitor stores on change)
            said = (full.total, full.level, tuple((q, s.score) for q, s in full.scores.items()), full.missing,
                    tuple(sorted(full.stale)), full.scale)
            assert seen.setdefault(state.signature, said) == said
    assert len(set(seen.values())) == len(seen)


def _registry() -> DeviceRegistry:
    reg = DeviceRegistry()
    reg.register("d1", b"k" * 32)
    reg.register("d2", b"j" * 32)
    reg.bind(Binding("d1", "p1", NOW - timedelta(days=1)))
    return reg


def _payload(value: float) -> dict[str, Any]:
    return {"device_id": "d1", "device_time": NOW.isoformat(), "nonce": f"n{value}",
            "readings": [{"parameter": "fio2", "value": value}]}


@pytest.mark.parametrize("value", [0.00001, 21.5, 1e16])
def test_signatures_in_either_number_format_verify(value: float) -> None:
    import hashlib
    import hmac

    key = b"k" * 32
    ours = sign(_payload(value), key)
    stdlib = {**_payload(value), "sig": hmac.new(key, canonical_stdlib(_payload(value)), hashlib.sha256).hexdigest()}
    for msg in (ours, stdlib):
        out = verify_message("hygeia/devices/d1/vitals", orjson.dumps(msg), _registry(), ReplayGuard(), NOW)
        assert isinstance(out, Accepted) and out.patient_id == "p1"
    tampered = {**ours, "readings": [{"parameter": "fio2", "value": value * 2}]}
    other_key = sign(_payload(value), b"j" * 32)
    for msg in (tampered, other_key, {k: v for k, v in ours.items() if k != "sig"}):
        out = verify_message("hygeia/devices/d1/vitals", orjson.dumps(msg), _registry(), ReplayGuard(), NOW)
        assert isinstance(out, Rejected) and out.reason in ("bad-signature", "unsigned")


def test_binding_lookup_follows_new_bindings() -> None:
    reg = _registry()
    assert reg.patient_for("d1", NOW) == "p1" and reg.patient_for("d2", NOW) is None
    reg.bindings.append(Binding("d2", "p2", NOW - timedelta(hours=1), NOW + timedelta(hours=1)))  # as loaders do
    assert reg.patient_for("d2", NOW) == "p2" and reg.patient_for("d2", NOW + timedelta(hours=2)) is None
    reg.bindings = [Binding("d1", "p9", NOW - timedelta(days=1))]
    assert reg.patient_for("d1", NOW) == "p9"


def test_news2_is_stored_when_the_score_changes_and_every_update_is_still_checked(sqlite_store: Store) -> None:
    from hygeia.ews.monitor import Monitor, bind_device, register_device
    from hygeia.records.codes import NEWS2_TOTAL_SNOMED

    key = b"k" * 32
    register_device(sqlite_store, "d1", key)
    bind_device(sqlite_store, Binding("d1", "p1", NOW - timedelta(days=1)))
    mon = Monitor(sqlite_store)

    def msg(at: datetime, **values: Any) -> tuple[str, bytes]:
        payload = {"device_id": "d1", "device_time": at.isoformat(), "nonce": at.isoformat(),
                   "readings": [{"parameter": k, "value": v} for k, v in values.items()]}
        return "hygeia/devices/d1/vitals", orjson.dumps(sign(payload, key))

    def news2() -> list[int]:
        return sorted(r["valueInteger"] for r in sqlite_store.patient_resources("p1", ["Observation"])
                      if r["code"]["coding"][0]["code"] == NEWS2_TOTAL_SNOMED)

    t = NOW - timedelta(minutes=3)
    first = mon.handle([msg(t, rr=16, pulse=70)], NOW)
    same = mon.handle([msg(t + timedelta(seconds=10), pulse=72)], NOW)  # pulse 72 scores as 70 did
    assert news2() == [0] and same.outcomes[0].news2_id == first.outcomes[0].news2_id
    # within one batch: a transient emergency (RR 30, pulse 140) then back to normal still alerts
    out = mon.handle([msg(t + timedelta(seconds=20), rr=30, pulse=140, sbp=85),
                      msg(t + timedelta(seconds=30), rr=16, pulse=70, sbp=120)], NOW)
    assert len(out.alerts) == 1 and out.alerts[0]["level_name"] == "emergency"
    assert news2() == [0, 0]  # the batch's final score differs (SBP now measured), so it is stored
