"""Hygeia's small MQTT 3.1.1 client: packet codec (property-based), malformed input, and behaviour
against a real Mosquitto (persistent sessions, redelivery of unacknowledged messages, keep-alive),
and the monitor service on it."""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hygeia.ews.broker import LocalBroker
from hygeia.ews.devices import Binding, sign
from hygeia.ews.monitor import Monitor, bind_device, read_counters, register_device
from hygeia.ews.mqtt import (
    Connection,
    PacketReader,
    ProtocolError,
    parse_publish,
    publish_packet,
    remaining_length,
)
from hygeia.ews.schema import ews_counters
from hygeia.ews.service import MqttMonitor
from hygeia.records.store import Store

packets = st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300) | st.binary(min_size=16_384,
                                                                                        max_size=17_000)),
                   max_size=8)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets, st.lists(st.integers(0, 40_000), max_size=6))
def test_reader_returns_the_packets_whatever_the_chunking(items: list[tuple[int, bytes]], cuts: list[int]) -> None:
    stream = b"".join(bytes((first,)) + remaining_length(len(body)) + body for first, body in items)
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    reader = PacketReader()
    got: list[tuple[int, bytes]] = []
    for a, b in itertools.pairwise(points):
        reader.feed(stream[a:b])
        got.extend(reader.packets())
    assert got == items
    assert not reader.buffer


@settings(deadline=None)
@given(st.integers(0, 268_435_455))
def test_remaining_length_round_trip(n: int) -> None:
    encoded = remaining_length(n)
    assert 1 <= len(encoded) <= 4
    value = sum((b & 0x7F) << (7 * i) for i, b in enumerate(encoded))
    assert value == n and all(b & 0x80 for b in encoded[:-1]) and not encoded[-1] & 0x80


@settings(deadline=None)
@given(st.text(min_size=1, max_size=50), st.binary(max_size=200), st.integers(0, 1), st.integers(1, 65535))
def test_publish_round_trip(topic: str, payload: bytes, qos: int, pid: int) -> None:
    reader = PacketReader()
    reader.feed(publish_packet(topic, payload, qos, pid if qos else 0))
    [(first, body)] = reader.packets()
    msg = parse_publish(first, body)
    assert (msg.topic, msg.payload, msg.qos, msg.packet_id) == (topic, payload, qos, pid if qos else 0)


def test_malformed_packets_are_refused_with_a_reason() -> None:
    reader = PacketReader()
    reader.feed(b"\x30\xff\xff\xff\xff\x01")
    with pytest.raises(ProtocolError, match="longer than four bytes"):
        reader.packets()
    with pytest.raises(ProtocolError, match="QoS 2"):
        parse_publish(0x34, b"\x00\x01a\x00\x01")
    with pytest.raises(ProtocolError, match="shorter"):
        parse_publish(0x32, b"\x00\x05ab")
    with pytest.raises(ProtocolError, match="UTF-8"):
        parse_publish(0x30, b"\x00\x02\xff\xfe")
    with pytest.raises(ValueError, match="remaining length"):
        remaining_length(268_435_456)
    with pytest.raises(ValueError, match="QoS 0 or 1"):
        publish_packet("t", b"", 2, 1)


def test_partial_packet_waits_for_the_rest() -> None:
    reader = PacketReader()
    packet = publish_packet("a/b", b"x" * 200, 1, 7)
    reader.feed(packet[:2])  # the remaining length is two bytes long: incomplete
    assert reader.packets() == []
    reader.feed(packet[2:-1])
    assert reader.packets() == []
    reader.feed(packet[-1:])
    assert parse_publish(*reader.packets()[0]).packet_id == 7


def test_unacknowledged_messages_are_redelivered_on_the_persistent_session(broker: LocalBroker) -> None:
    sub = Connection("127.0.0.1", broker.port, "t-sub", clean_session=False)
    assert sub.subscribe("hygeia/devices/+/vitals", 1) == 1
    pub = Connection("127.0.0.1", broker.port, "t-pub")
    pids = [pub.publish(f"hygeia/devices/d{i % 3}/vitals", str(i).encode()) for i in range(300)]
    deadline = time.monotonic() + 10
    while not set(pids) <= pub.acked and time.monotonic() < deadline:
        pub.poll(0.2)
    assert set(pids) <= pub.acked, "the broker acknowledged every QoS 1 publish"
    # reading never leaves the socket non-blocking: a sendall from another thread (the monitor
    # acknowledges from its writer's thread) would then fail when the send buffer is full
    assert pub.sock.gettimeout() == 10.0
    got = []
    while len(got) < 300:
        batch = sub.receive(1000, 5, 0.05)
        assert batch, f"only {len(got)} of 300 delivered"
        got.extend(batch)
    assert [int(m.payload) for m in got] == list(range(300))  # in order
    sub.ack(m.packet_id for m in got[:200])
    sub.close()  # the last 100 were never acknowledged
    again = Connection("127.0.0.1", broker.port, "t-sub", clean_session=False)
    assert again.session_present
    redelivered = []
    while len(redelivered) < 100:
        batch = again.receive(1000, 5, 0.2)
        assert batch, f"only {len(redelivered)} of 100 redelivered"
        redelivered.extend(batch)
    assert sorted(int(m.payload) for m in redelivered) == list(range(200, 300))
    again.ack(m.packet_id for m in redelivered)
    assert again.receive(1000, 0.5, 0.1) == []
    again.close()
    pub.close()


def test_refused_connection_names_the_reason(broker: LocalBroker) -> None:
    with pytest.raises(ProtocolError, match="client identifier rejected"):
        Connection("127.0.0.1", broker.port, "", clean_session=False)  # 3.1.1 §3.1.3.1: needs clean session


def test_keepalive_pings_keep_an_idle_connection_open(broker: LocalBroker) -> None:
    sub = Connection("127.0.0.1", broker.port, "t-idle", keepalive=1)
    sub.subscribe("hygeia/devices/+/vitals", 1)
    # 8 s idle: without PINGREQs Mosquitto 2.0 drops a client with a 1 s keep-alive after ~5 s (its check
    # is coarser than the 1.5 keep-alives of the spec)
    for _ in range(32):
        assert sub.receive(10, 0.25, 0.0) == []
    pub = Connection("127.0.0.1", broker.port, "t-late")
    pub.publish("hygeia/devices/x/vitals", b"late")
    [msg] = sub.receive(10, 5, 0.0)
    assert msg.payload == b"late"
    sub.close()
    pub.close()


def _store_with_device(path: Path, device: str, patient: str, ward: str | None = None) -> tuple[Store, bytes]:
    """A fresh SQLite store with one registered device bound to a patient since an hour ago; its key."""
    store = Store(f"sqlite:///{path}")
    store.init()
    key = os.urandom(32)
    register_device(store, device, key)
    bind_device(store, Binding(device, patient, datetime.now(UTC) - timedelta(hours=1)), ward=ward)
    return store, key


def _wait_connected(service: MqttMonitor, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while service.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("writer_process", [False, True], ids=["one-process", "writer-process"])
def test_monitor_service_stores_signed_readings_and_counts_the_rest(broker: LocalBroker, tmp_path: Path,
                                                                     writer_process: bool) -> None:
    store, key = _store_with_device(tmp_path / "svc.db", "dev-a", "pat-a", ward="w1")
    alerts: list[dict[str, object]] = []
    service = MqttMonitor(Monitor(store, hooks=[alerts.append]), port=broker.port, client_id="t-monitor",
                          writer_process=writer_process)
    runner = threading.Thread(target=service.run, daemon=True)
    runner.start()
    try:
        _wait_connected(service)
        pub = Connection("127.0.0.1", broker.port, "t-device")
        sick = [("rr", 27), ("spo2", 89), ("pulse", 132), ("sbp", 88), ("acvpu", "V"), ("on_oxygen", True)]
        payload = {"device_id": "dev-a", "device_time": datetime.now(UTC).isoformat(), "nonce": uuid.uuid4().hex,
                   "readings": [{"parameter": p, "value": v} for p, v in sick]}
        pub.publish("hygeia/devices/dev-a/vitals", orjson.dumps(sign(payload, key)))
        pub.publish("hygeia/devices/dev-a/vitals", orjson.dumps(payload))  # unsigned
        pub.publish("hygeia/devices/dev-a/vitals", b"\xff not json")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and read_counters(store).get("readings-stored", 0) < 6:
            time.sleep(0.05)
        while time.monotonic() < deadline and sum(read_counters(store).values()) < 9:
            time.sleep(0.05)
        counts = read_counters(store)
        assert counts["accepted"] == 1 and counts["readings-stored"] == 6
        assert counts["rejected:unsigned"] == 1 and counts["rejected:malformed"] == 1
        assert [a["level_name"] for a in alerts] == ["emergency"]
        pub.close()
    finally:
        service.stop()
        runner.join(10)
    assert not runner.is_alive()


@pytest.mark.parametrize("writer_process", [False, True], ids=["one-process", "writer-process"])
def test_a_failed_commit_stops_the_monitor_and_nothing_is_acknowledged(broker: LocalBroker, tmp_path: Path,
                                                                        writer_process: bool) -> None:
    store, key = _store_with_device(tmp_path / "fail.db", "dev-f", "pat-f")
    errors: list[BaseException] = []

    def run(service: MqttMonitor) -> None:
        try:
            service.run()
        except Exception as exc:
            errors.append(exc)

    first = MqttMonitor(Monitor(store), port=broker.port, client_id="t-fail", writer_process=writer_process)
    runner = threading.Thread(target=run, args=(first,), daemon=True)
    runner.start()
    _wait_connected(first)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE ews_counters")  # every commit now fails
    pub = Connection("127.0.0.1", broker.port, "t-device-f")
    payload = {"device_id": "dev-f", "device_time": datetime.now(UTC).isoformat(), "nonce": uuid.uuid4().hex,
               "readings": [{"parameter": "pulse", "value": 88}]}
    pub.publish("hygeia/devices/dev-f/vitals", orjson.dumps(sign(payload, key)))
    runner.join(20)
    assert not runner.is_alive(), "the monitor stops when a commit fails"
    assert errors and "ews_counters" in str(errors[0])
    ews_counters.create(store.engine)  # repaired: the message was not acknowledged, so it comes again
    second = MqttMonitor(Monitor(store), port=broker.port, client_id="t-fail", writer_process=writer_process)
    again = threading.Thread(target=second.run, daemon=True)
    again.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and read_counters(store).get("readings-stored", 0) < 1:
            time.sleep(0.05)
        assert read_counters(store)["readings-stored"] == 1
    finally:
        second.stop()
        again.join(10)
        pub.close()
