"""The monitor's MQTT transport alone: Hygeia's small client against paho-mqtt (the obvious choice).

    python benchmarks/bench_ews_mqtt.py [--messages 20000] [--repeats 3]

Through a local Mosquitto: (1) publish ``messages`` QoS 1 messages (300-byte payloads, 200 device
topics) and wait for every PUBACK; (2) a subscriber on a persistent session receives them all and
acknowledges them in batches of up to 1,000 (as the monitor does after each commit). Prints CPU
microseconds per message of the publishing and of the receiving process (medians of ``repeats``) and
the ratio paho / Hygeia.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from hygeia.ews.broker import LocalBroker
from hygeia.ews.mqtt import Connection

TOPIC = "hygeia/devices/+/vitals"
PAYLOAD = b'{"readings":[{"parameter":"pulse","value":72}],"pad":"' + b"x" * 250 + b'"}'


def hygeia_run(port: int, n: int) -> tuple[float, float]:
    sub = Connection("127.0.0.1", port, "bench-sub", clean_session=False)
    sub.subscribe(TOPIC, 1)
    sub.close()
    pub = Connection("127.0.0.1", port, "bench-pub")
    c0 = time.process_time()
    for i in range(n):
        pub.publish(f"hygeia/devices/d{i % 200}/vitals", PAYLOAD, 1)
        if i % 64 == 0:
            pub.poll(0)
    while len(pub.acked) < min(n, 65535):
        pub.poll(1)
    publish = time.process_time() - c0
    pub.close()
    c0 = time.process_time()
    sub = Connection("127.0.0.1", port, "bench-sub", clean_session=False)
    got = 0
    while got < n:
        batch = sub.receive(1000, 10, 0.02)
        if not batch:
            raise RuntimeError(f"hygeia client: {got} of {n} messages delivered")
        sub.ack(m.packet_id for m in batch)
        got += len(batch)
    receive = time.process_time() - c0
    sub.close()
    return publish / n * 1e6, receive / n * 1e6


def paho_run(port: int, n: int) -> tuple[float, float]:
    def client(cid: str, clean: bool) -> mqtt.Client:
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=clean,
                           protocol=mqtt.MQTTv311)

    sub = client("bench-sub-paho", False)
    sub.connect("127.0.0.1", port)
    sub.subscribe(TOPIC, 1)
    sub.loop(1)
    sub.loop(0.5)
    sub.disconnect()
    pub = client("bench-pub-paho", True)
    pub.max_inflight_messages_set(0)  # unlimited: paho re-scans its queue on every PUBACK when limited
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    c0 = time.process_time()
    infos = [pub.publish(f"hygeia/devices/d{i % 200}/vitals", PAYLOAD, 1) for i in range(n)]
    for info in infos:
        info.wait_for_publish(60)
    publish = time.process_time() - c0
    pub.loop_stop()
    pub.disconnect()
    inbox: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
    sub = client("bench-sub-paho", False)
    sub.manual_ack_set(True)
    sub.max_inflight_messages_set(1000)
    sub.on_message = lambda _c, _u, m: inbox.put((m.mid, m.qos))
    c0 = time.process_time()
    sub.connect("127.0.0.1", port)
    sub.loop_start()
    batch: list[tuple[int, int]] = []
    for got in range(1, n + 1):
        batch.append(inbox.get(timeout=30))
        if len(batch) >= 1000 or got == n or inbox.empty():
            for mid, qos in batch:
                sub.ack(mid, qos)
            batch = []
    receive = time.process_time() - c0
    sub.loop_stop()
    sub.disconnect()
    return publish / n * 1e6, receive / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"paho-mqtt 2": [], "hygeia.ews.mqtt": []}
    for _ in range(args.repeats):
        for name, fn in (("paho-mqtt 2", paho_run), ("hygeia.ews.mqtt", hygeia_run)):
            with LocalBroker(Path(tempfile.mkdtemp(prefix="bench-mqtt-"))) as broker:
                results[name].append(fn(broker.port, args.messages))
    print(f"{args.messages:,} QoS 1 messages through Mosquitto, medians of {args.repeats} "
          f"(CPU µs per message)")
    print(f"{'client':<18}{'publish':>10}{'receive+ack':>13}")
    med = {k: (statistics.median(p for p, _ in v), statistics.median(r for _, r in v)) for k, v in results.items()}
    for name, (p, r) in med.items():
        print(f"{name:<18}{p:>10.1f}{r:>13.1f}")
    (pp, pr), (hp, hr) = med["paho-mqtt 2"], med["hygeia.ews.mqtt"]
    print(f"{'ratio paho/hygeia':<18}{pp / hp:>9.1f}x{pr / hr:>12.1f}x")


if __name__ == "__main__":
    main()
