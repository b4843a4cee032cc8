"""Durability: 10,000 signed readings through a real Mosquitto while the monitor process is SIGKILLed and
restarted twice and the broker restarted once — every reading is stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from hygeia.ews.broker import LocalBroker
from hygeia.ews.devices import Binding, sign
from hygeia.ews.monitor import bind_device, read_counters, register_device
from hygeia.records.schema import resource_history, resources
from hygeia.records.store import Store

pytestmark = pytest.mark.slow
TOTAL = 10_000
DEVICES = 4
PARAMS = ("pulse", "rr", "spo2", "sbp", "temp_c")
VALUES = {"pulse": 80, "rr": 16, "spo2": 97, "sbp": 120, "temp_c": 37.0}


def _stored(store: Store) -> tuple[int, int]:
    """(device Observations stored, versions written for them)."""
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(resources).where(
            resources.c.resource_type == "Observation", resources.c.id.like("dev-%"))).scalar_one()
        v = conn.execute(select(func.count()).select_from(resource_history).where(
            resource_history.c.resource_type == "Observation", resource_history.c.id.like("dev-%"))).scalar_one()
    return int(n), int(v)


def _wait(cond: Callable[[], bool], timeout: float, what: str, extra: Callable[[], object] = str) -> None:
    began = time.monotonic()
    deadline = began + timeout
    while time.monotonic() < deadline:
        if cond():
            print(f"{datetime.now(UTC):%H:%M:%S} {what}: {time.monotonic() - began:.1f} s")
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {extra()}")


def test_every_reading_stored_exactly_once_through_kills_and_a_broker_restart(
    broker: LocalBroker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    store = Store(url)
    store.init()
    start = datetime.now(UTC) - timedelta(hours=1)
    keys = {f"dev{i}": os.urandom(32) for i in range(DEVICES)}
    for i, (device, key) in enumerate(keys.items()):
        store.write([{"resourceType": "Patient", "id": f"fp{i}"}])
        register_device(store, device, key)
        bind_device(store, Binding(device, f"fp{i}", start), ward="ward-1")

    def monitor() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "hygeia.ews.service", "--database", url,
                                 "--port", str(broker.port), "--batch-ms", "20"],
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "monitor.log", "ab"))

    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fault-publisher", clean_session=False)
    pub.max_inflight_messages_set(1000)
    pub.reconnect_delay_set(1, 2)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    infos: list[mqtt.MQTTMessageInfo] = []
    t0 = datetime.now(UTC)

    def publish(first: int, last: int) -> None:
        _wait(pub.is_connected, 20, "the publisher to connect")
        for i in range(first, last):
            device = f"dev{i % DEVICES}"
            param = PARAMS[(i // DEVICES) % len(PARAMS)]
            payload = {"device_id": device, "device_time": (t0 + timedelta(milliseconds=i)).isoformat(),
                       "nonce": uuid.uuid4().hex, "readings": [{"parameter": param, "value": VALUES[param]}]}
            infos.append(pub.publish(f"hygeia/devices/{device}/vitals", json.dumps(sign(payload, keys[device])),
                                     qos=1))

    def all_published() -> bool:
        return all(m.is_published() for m in infos)

    def subscribed() -> bool:  # an unsigned probe, counted as rejected once the monitor's session exists
        pub.publish("hygeia/devices/probe/vitals", b'{"probe": true}', qos=1)
        time.sleep(0.2)
        return read_counters(store).get("rejected:unsigned", 0) > 0

    proc = monitor()
    try:
        _wait(pub.is_connected, 20, "the publisher to connect")
        _wait(subscribed, 60, "the monitor to subscribe")
        publish(0, 2500)
        _wait(lambda: _stored(store)[0] >= 300, 60, "the monitor to store readings")
        proc.send_signal(signal.SIGKILL)  # crash 1, mid-stream
        proc.wait()
        publish(2500, 5000)  # queued by the broker while no monitor runs
        proc = monitor()
        publish(5000, 7500)
        _wait(all_published, 30, "the broker to acknowledge every publish")
        broker.restart()  # graceful: queued and in-flight messages persist
        publish(7500, 8750)
        _wait(lambda: _stored(store)[0] >= 8750, 60,
              "the same monitor to reconnect and catch up after the broker restart", lambda: _stored(store))
        proc.send_signal(signal.SIGKILL)  # crash 2
        proc.wait()
        publish(8750, TOTAL)
        proc = monitor()
        _wait(all_published, 30, "the broker to acknowledge every publish")
        _wait(lambda: _stored(store)[0] >= TOTAL, 60, "every reading to be stored", lambda: _stored(store))
        time.sleep(1.0)  # any late duplicate would show now
        stored, versions = _stored(store)
        assert stored == TOTAL, f"stored {stored} of {TOTAL}"
        assert versions == TOTAL, f"{versions - TOTAL} readings were written more than once"
        counts = read_counters(store)
        assert counts.get("rejected:bad-signature", 0) == 0 and counts.get("rejected:unbound", 0) == 0
    finally:
        pub.loop_stop()
        pub.disconnect()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        store.dispose()
