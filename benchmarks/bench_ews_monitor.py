"""End to end through Mosquitto on loopback: device -> broker -> monitor -> store -> NEWS2 -> alert.

    python benchmarks/bench_ews_monitor.py [--readings 20000] [--rate 5000] [--devices 200] [--repeats 3]
                                           [--database URL]

A publisher process signs (HMAC-SHA256) and publishes QoS 1 readings, one per message, for ``devices``
bound patients; the monitor (``MqttMonitor`` + ``Monitor``, in this process) verifies, stores every
reading as a FHIR Observation, scores NEWS2 and raises alerts, committing in batches and acknowledging
after each commit. Each device turns sick once (one message of six readings that lifts NEWS2 to the
emergency level) so every patient raises one alert: the devices turn sick one after another over the
middle half of the run (independent patients), or with ``--burst`` all in the same round (every
patient deteriorating within the same few milliseconds: a worst case for the alert latency).

1. throughput: ``readings`` published as fast as the publisher can; sustained readings/s = readings /
   (last commit - first publish). Against the obvious alternative, committing (and acknowledging)
   every message on its own (``--batch-size 1``).
2. latency at a fixed offered rate (``--rate``): publish -> committed (every reading) and publish ->
   alert delivered (the sick readings) p50/p99.

Goal (issue 4): >= 5,000 readings/s on 2 cores, p99 < 250 ms. Medians over ``repeats`` runs.

Beside the wall-clock figures (which depend on what else the machine runs), each row gives the CPU
microseconds per reading of the monitor (its MQTT client and its writer process included; ``--one-process``
writes in the receiving process, as the library default does), of Mosquitto and of
the publisher, and the rate 2 free cores could sustain at those costs (2 s / their sum). The publisher
is a device simulator: one connection publishing QoS 1 with Hygeia's small MQTT client
(:mod:`hygeia.ews.mqtt`, about 10 µs of CPU per message where paho-mqtt took about 60: a paho
publisher was itself a bottleneck on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from hygeia.ews.broker import LocalBroker
from hygeia.ews.devices import Binding, sign
from hygeia.ews.monitor import Monitor, bind_device, register_device
from hygeia.ews.mqtt import Connection
from hygeia.ews.service import MqttMonitor
from hygeia.records.store import Store

NORMAL = [("pulse", 72), ("rr", 16), ("spo2", 97), ("sbp", 122), ("temp_c", 36.9), ("acvpu", "A"),
          ("on_oxygen", False)]
# one message per device lifts NEWS2 to >= 7 (emergency): every patient raises exactly one alert
SICK_SET = [("rr", 27), ("spo2", 89), ("pulse", 132), ("sbp", 88), ("acvpu", "V"), ("on_oxygen", True)]


def publisher(port: int, keys: dict[str, str], n: int, rate: float, ready: Any, go: Any, cpu: Any,
              burst: bool = False) -> None:
    conn = Connection("127.0.0.1", port, f"bench-pub-{uuid.uuid4().hex[:6]}")
    devices = sorted(keys)
    bkeys = {d: bytes.fromhex(k) for d, k in keys.items()}
    ready.set()
    go.wait()
    cpu0 = time.process_time()
    start = time.perf_counter()
    rounds = n // len(devices)
    # the round in which each device turns sick: all in the middle round (``burst``: every patient
    # deteriorates within the same few milliseconds) or spread over the middle half of the run
    sick_round = {d: rounds // 2 if burst else rounds // 4 + (j * max(1, rounds // 2)) // len(devices)
                  for j, d in enumerate(devices)}
    for i in range(n):
        if rate > 0:  # paced in steps of >= 1 ms (a sleep per message cost the publisher ~30 µs each)
            delay = start + i / rate - time.perf_counter()
            if delay > 0.001:
                time.sleep(delay)
        device = devices[i % len(devices)]
        k = i // len(devices)
        sick = k == sick_round[device]
        readings = SICK_SET if sick else [NORMAL[k % len(NORMAL)]]
        payload = {"device_id": device, "device_time": datetime.now(UTC).isoformat(), "nonce": uuid.uuid4().hex,
                   "sent_at": time.time(), "sick": sick,
                   "readings": [{"parameter": p, "value": v} for p, v in readings]}
        conn.publish(f"hygeia/devices/{device}/vitals", orjson.dumps(sign(payload, bkeys[device])), 1)
        if i % 64 == 0:
            conn.poll(0)  # take the broker's PUBACKs as they come
    deadline = time.monotonic() + 60
    while len(conn.acked) < min(n, 65535) and time.monotonic() < deadline:
        conn.poll(0.5)
    cpu.value = time.process_time() - cpu0
    conn.close()


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(n: int, rate: float, devices: int, batch_size: int, database: str | None, workdir: Path,
             batch_ms: float = 5.0, writer_process: bool = True, burst: bool = False) -> dict[str, Any]:
    url = database or f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
    store = Store(url)
    store.init()
    keys: dict[str, str] = {}
    since = datetime.now(UTC) - timedelta(hours=1)
    run_id = uuid.uuid4().hex[:6]
    for i in range(devices):
        device, patient = f"b{run_id}-{i}", f"bp{run_id}-{i}"
        key = os.urandom(32)
        register_device(store, device, key)
        bind_device(store, Binding(device, patient, since))
        keys[device] = key.hex()
    commits: list[tuple[float, list[bytes]]] = []
    alerts: list[tuple[float, str]] = []
    monitor = Monitor(store, hooks=[lambda doc: alerts.append((time.time(), doc["patient_id"]))])
    with LocalBroker(workdir / f"broker-{run_id}") as broker:
        service = MqttMonitor(monitor, port=broker.port, client_id=f"bench-mon-{run_id}", batch_size=batch_size,
                              batch_ms=batch_ms, writer_process=writer_process,
                              on_batch=lambda batch: commits.append((time.time(), [m.payload for m in batch])))
        thread = threading.Thread(target=service.run, daemon=True)
        thread.start()
        time.sleep(1.0)  # subscribed
        ctx = mp.get_context("spawn")
        ready, go = ctx.Event(), ctx.Event()
        pub_cpu = ctx.Value("d", float("nan"))
        pub = ctx.Process(target=publisher, args=(broker.port, keys, n, rate, ready, go, pub_cpu, burst))
        pub.start()
        ready.wait(60)
        broker_cpu0 = _proc_cpu(broker.proc.pid) if broker.proc else float("nan")
        writers = [p.pid for p in mp.active_children() if p.name == "hygeia-monitor-writer" and p.pid]
        monitor_cpu0 = time.process_time() + sum(_proc_cpu(pid) for pid in writers)
        go.set()
        deadline = time.time() + 600
        while time.time() < deadline:
            if sum(len(b) for _, b in commits) >= n:
                break
            time.sleep(0.05)
        monitor_cpu = time.process_time() + sum(_proc_cpu(pid) for pid in writers) - monitor_cpu0
        broker_cpu = (_proc_cpu(broker.proc.pid) if broker.proc else float("nan")) - broker_cpu0
        pub.join(60)
        service.stop()
        thread.join(10)
    store.dispose()
    sent: list[float] = []
    lat: list[float] = []
    first_sick: dict[str, float] = {}
    for t, payloads in commits:
        for raw in payloads:
            doc = json.loads(raw)
            sent.append(doc["sent_at"])
            lat.append(t - doc["sent_at"])
            if doc.get("sick"):
                first_sick.setdefault(doc["device_id"].replace("b", "bp", 1), doc["sent_at"])
    alert_lat = [t - first_sick[p] for t, p in alerts if p in first_sick]
    received = len(sent)
    span = max(t for t, _ in commits) - min(sent)
    q = statistics.quantiles
    return {
        "readings": received,
        "rate": received / span,
        "p50": q(lat, n=100)[49] * 1000, "p99": q(lat, n=100)[98] * 1000,
        "alert_p50": q(alert_lat, n=100)[49] * 1000 if len(alert_lat) > 2 else float("nan"),
        "alert_p99": q(alert_lat, n=100)[98] * 1000 if len(alert_lat) > 2 else float("nan"),
        "alerts": len(alert_lat),
        # CPU microseconds per reading, per process (load-independent-ish: what 2 free cores must supply)
        "cpu_monitor": monitor_cpu / received * 1e6,
        "cpu_broker": broker_cpu / received * 1e6,
        "cpu_publisher": pub_cpu.value / n * 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readings", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=5000.0, help="offered rate for the latency run (readings/s)")
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--only-latency", action="store_true", help="run only the fixed-rate latency configuration")
    ap.add_argument("--burst", action="store_true",
                    help="every device turns sick in the same round (default: spread over the middle half)")
    ap.add_argument("--one-process", action="store_true",
                    help="the monitor writes in its receiving process (default: a writer process, as `hygeia monitor`)")
    ap.add_argument("--batch-ms", type=float, default=5.0, help="monitor batch window (ms after the first message)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runs = {
            f"batched commits (1000 / {args.batch_ms:g} ms), max rate": (args.readings, 0.0, 1000),
            "commit per message (alternative), max rate": (max(500, args.readings // 20), 0.0, 1),
            f"batched commits, offered {args.rate:,.0f}/s": (args.readings, args.rate, 1000),
        }
        if args.only_latency:
            runs = {k: v for k, v in runs.items() if v[1] > 0}
        print(f"{'configuration':<46}{'readings':>9}{'readings/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'alert p50':>10}{'alert p99':>10}{'alerts':>7}  | CPU us/reading: {'monitor':>7}{'broker':>7}"
              f"{'pub':>6}  -> 2-core capacity/s")
        medians: dict[str, float] = {}
        for label, (n, rate, batch) in runs.items():
            results = [run_once(n, rate, args.devices, batch, args.database, work, args.batch_ms, not args.one_process,
                                args.burst)
                       for _ in range(args.repeats)]
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            medians[label] = med["rate"]
            print(f"{label:<46}{int(med['readings']):>9,}{med['rate']:>12,.0f}{med['p50']:>9.1f}{med['p99']:>9.1f}"
                  f"{med['alert_p50']:>10.1f}{med['alert_p99']:>10.1f}{int(med['alerts']):>7}  | "
                  f"{'':>16}{med['cpu_monitor']:>7.0f}{med['cpu_broker']:>7.0f}{med['cpu_publisher']:>6.0f}"
                  f"  -> {2e6 / (med['cpu_monitor'] + med['cpu_broker'] + med['cpu_publisher']):>9,.0f}")
        labels = list(runs)
        if len(labels) == 3:
            print(f"ratio batched / per-message commit (readings/s): {medians[labels[0]] / medians[labels[1]]:.1f}x")
        print("goal: >= 5,000 readings/s on 2 cores; p99 publish->alert < 250 ms "
              f"(this machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
