"""The MQTT side of ``hygeia monitor``: subscribe, batch, commit, then acknowledge.

Subscribes to ``hygeia/devices/+/vitals`` with QoS 1 on a persistent session (MQTT 3.1.1,
``clean_session=False``, a fixed client id) with Hygeia's own small client (:mod:`hygeia.ews.mqtt`,
which acknowledges a whole batch in one write). Messages are
collected into batches (up to ``batch_size`` messages or ``batch_ms`` milliseconds after the first),
each batch is verified, stored and scored in one transaction (:meth:`Monitor.handle`), and only then
are its messages acknowledged (PUBACK). A crash before the commit leaves the messages unacknowledged,
so the broker redelivers them; redelivery writes nothing twice (deterministic Observation ids).

Messages received on an earlier connection are not acknowledged on a later one (their packet ids
belong to the old connection): the broker redelivers them and they are acknowledged then.

Broker settings this needs (Mosquitto): ``persistence true`` (sessions and queued messages survive a
broker restart), ``max_queued_messages`` large enough for the longest monitor outage (default 1000,
``0`` = no limit), and ``max_inflight_messages`` well above the batch size (default 20 limits the rate).

Run: ``hygeia monitor`` or ``python -m hygeia.ews.service --database URL --host H --port P``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import multiprocessing as mp
import queue
import signal
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection as MpConnection
from typing import Any

from hygeia.ews.monitor import AlertHook, Monitor, PreparedBatch, checkpoint_wal, write_prepared
from hygeia.ews.mqtt import Connection, Message, ProtocolError
from hygeia.records.store import Store

log = logging.getLogger("hygeia.monitor")
SUBSCRIPTION = "hygeia/devices/+/vitals"


def webhook_hook(url: str, timeout: float = 5.0) -> AlertHook:
    """POST each alert's JSON to ``url`` from a background thread (delivery never blocks commits)."""
    pending: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=10_000)

    def worker() -> None:
        while True:
            doc = pending.get()
            body = json.dumps(doc).encode()
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    resp.read()
            except OSError as exc:
                log.warning("webhook %s failed for alert %s: %s", url, doc.get("id"), exc)

    threading.Thread(target=worker, name="hygeia-webhook", daemon=True).start()

    def hook(doc: dict[str, Any]) -> None:
        try:
            pending.put_nowait(doc)
        except queue.Full:
            log.warning("webhook queue full: alert %s not posted", doc.get("id"))

    return hook


def checkpoint_loop(store: Store, stop: threading.Event, every_s: float = 0.5) -> None:
    """SQLite WAL checkpoints every ``every_s`` until ``stop`` (a thread beside the monitor's commits)."""
    while not stop.wait(every_s):
        try:
            checkpoint_wal(store)
        except Exception as exc:  # a busy or locked database: the next round tries again
            log.warning("WAL checkpoint failed: %s", exc)


def _writer_main(url: str, background_checkpoints: bool, pipe: MpConnection) -> None:
    """The writer process: write each prepared batch it is sent (in order) and answer ``ok`` or the error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    store = Store(url)
    stop = threading.Event()
    if background_checkpoints:
        threading.Thread(target=checkpoint_loop, args=(store, stop), name="hygeia-wal-checkpoint", daemon=True).start()
    try:
        while data := pipe.recv_bytes():
            try:
                write_prepared(store, PreparedBatch.from_wire(data), background_checkpoints=background_checkpoints)
            except Exception as exc:  # reported to the parent, which stops: nothing after it is acknowledged
                pipe.send_bytes(f"{type(exc).__name__}: {exc}"[:2000].encode())
                return
            pipe.send_bytes(b"ok")
    except (EOFError, OSError):
        pass  # the parent went away
    finally:
        stop.set()
        store.dispose()


class WriterProcess:
    """Writes prepared batches in a process of its own, in order, at most ``depth`` ahead.

    Serialising the FHIR rows and SQLite's own work then run on another core than the receiving and
    scoring (threads would share one core: the GIL). ``on_written(token, error)`` is called from a
    thread of this process after each batch is committed (``error`` None) or has failed (then the
    writer stops and every later batch is refused).
    """

    def __init__(self, url: str, *, background_checkpoints: bool,
                 on_written: Callable[[Any, BaseException | None], None], depth: int = 2) -> None:
        ctx = mp.get_context("spawn")  # no fork of a threaded process
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=_writer_main, args=(url, background_checkpoints, child),
                                name="hygeia-monitor-writer", daemon=True)
        self.proc.start()
        child.close()
        self.on_written = on_written
        self.failed: BaseException | None = None
        self._inflight: deque[Any] = deque()
        self._slots = threading.Semaphore(depth)
        self._results = threading.Thread(target=self._read_results, name="hygeia-writer-results", daemon=True)
        self._results.start()

    def submit(self, prepared: PreparedBatch, token: Any) -> None:
        """Queue a batch (waits while ``depth`` batches are being written); RuntimeError once failed."""
        self._slots.acquire()
        if self.failed is not None:
            self._slots.release()
            raise RuntimeError(f"the monitor's writer failed: {self.failed}")
        self._inflight.append(token)
        self.pipe.send_bytes(prepared.to_wire())

    def _read_results(self) -> None:
        while True:
            try:
                reply = self.pipe.recv_bytes()
            except (EOFError, OSError):
                reply = b"the writer process ended"
            if not self._inflight and reply == b"the writer process ended":
                return  # closed after its last batch
            token = self._inflight.popleft() if self._inflight else None
            if reply == b"ok":
                self.on_written(token, None)
                self._slots.release()
                continue
            self.failed = RuntimeError(reply.decode(errors="replace"))
            self.on_written(token, self.failed)
            self._slots.release()
            return

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then end the process."""
        with contextlib.suppress(OSError):
            self.pipe.send_bytes(b"")
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.kill()
        self._results.join(timeout)
        self.pipe.close()


class MqttMonitor:
    """Runs a :class:`Monitor` behind an MQTT subscription until :meth:`stop`.

    The receiving thread reads the messages the socket holds and verifies and scores them as one
    batch (:meth:`Monitor.prepare`); the batch is then written in one transaction and, only after
    the commit, acknowledged with one write (:mod:`hygeia.ews.mqtt`). With ``writer_process`` the
    writing happens in a :class:`WriterProcess` (batch N is written while N+1 is scored: two cores);
    without, in the same thread. When the broker goes away the monitor reconnects (every
    ``reconnect_s``) to the same persistent session; messages delivered on the lost connection and
    not yet acknowledged are redelivered by the broker. A failed commit stops the monitor and
    :meth:`run` raises it.
    """

    def __init__(self, monitor: Monitor, host: str = "127.0.0.1", port: int = 1883, *,
                 client_id: str = "hygeia-monitor", batch_size: int = 1000, batch_ms: float = 5.0,
                 tick_s: float = 1.0, keepalive: int = 15, reconnect_s: float = 0.5, writer_process: bool = False,
                 on_batch: Callable[[list[Message]], None] | None = None) -> None:
        self.monitor = monitor
        self.host, self.port, self.client_id, self.keepalive = host, port, client_id, keepalive
        self.batch_size, self.batch_wait, self.tick_s = batch_size, batch_ms / 1000.0, tick_s
        self.reconnect_s = reconnect_s
        self.writer_process = writer_process
        self.on_batch = on_batch
        self.connections = 0
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _connect(self) -> Connection | None:
        while not self._stop.is_set():
            try:
                conn = Connection(self.host, self.port, self.client_id, clean_session=False, keepalive=self.keepalive)
                conn.subscribe(SUBSCRIPTION, qos=1)
            except (OSError, ProtocolError) as exc:
                log.warning("cannot reach the broker at %s:%d (%s); retrying", self.host, self.port, exc)
                self._stop.wait(self.reconnect_s)
                continue
            self.connections += 1
            log.info("connected to %s:%d (session present: %s)", self.host, self.port, conn.session_present)
            return conn
        return None

    def run(self) -> None:
        # The pipeline allocates many short-lived dicts per message: collect the young generation less
        # often and keep the warm state built so far out of the collector's scans (~15-25 % CPU).
        gen0, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(max(gen0, 50_000), gen1, gen2)
        gc.freeze()
        last_tick = time.monotonic()
        sqlite = self.monitor.store.engine.dialect.name == "sqlite"
        failure: list[BaseException] = []
        writer = checkpointer = None
        if self.writer_process:
            writer = WriterProcess(self.monitor.store.url, background_checkpoints=sqlite,
                                   on_written=lambda token, error: self._written(token, error, failure))
        elif sqlite:  # WAL checkpoints off the hot thread
            self.monitor.background_checkpoints = True
            checkpointer = threading.Thread(target=checkpoint_loop, args=(self.monitor.store, self._stop),
                                            name="hygeia-wal-checkpoint", daemon=True)
            checkpointer.start()
        conn = self._connect()
        try:
            while conn is not None and not self._stop.is_set():
                try:
                    batch = conn.receive(self.batch_size, 0.1, self.batch_wait)
                    if batch and writer is not None:
                        prepared = self.monitor.prepare([(m.topic, m.payload) for m in batch], datetime.now(UTC))
                        writer.submit(prepared, (conn, batch, prepared))  # acknowledged by _written
                    elif batch:
                        self.monitor.handle([(m.topic, m.payload) for m in batch], datetime.now(UTC))
                        conn.ack(m.packet_id for m in batch if m.qos)  # committed: now (and only now) acknowledge
                        if self.on_batch:
                            self.on_batch(batch)
                except (OSError, ProtocolError) as exc:  # the batch in hand (if any) was not acknowledged
                    log.warning("lost the broker connection (%s); reconnecting", exc)
                    conn.close(graceful=False)
                    conn = self._connect()
                    continue
                if time.monotonic() - last_tick >= self.tick_s:
                    last_tick = time.monotonic()
                    self.monitor.tick()
                    self.monitor.refresh_registry()
        except RuntimeError:
            if not failure:
                raise
        finally:
            self._stop.set()
            if writer is not None:
                writer.close()
            if checkpointer is not None:
                checkpointer.join(5)
                self.monitor.background_checkpoints = False
            if conn is not None:
                conn.close()
        if failure:
            raise failure[0]

    def _written(self, token: tuple[Connection, list[Message], PreparedBatch] | None, error: BaseException | None,
                 failure: list[BaseException]) -> None:
        """A batch was committed by the writer process (or failed): acknowledge it, deliver its alerts."""
        if error is not None:
            log.error("commit failed (%s): stopping; unacknowledged messages will be redelivered", error)
            failure.append(error)
            self._stop.set()
            return
        if token is None:
            return
        conn, batch, prepared = token
        # committed: now (and only now) acknowledge; if that connection is gone, the broker redelivers,
        # and redelivery stores nothing twice
        with contextlib.suppress(OSError):
            conn.ack(m.packet_id for m in batch if m.qos)
        self.monitor.delivered(prepared)
        if self.on_batch:
            self.on_batch(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hygeia.ews.service",
                                     description="Hygeia monitor: MQTT vital signs -> NEWS2 -> alerts.")
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of the Hygeia store")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--client-id", default="hygeia-monitor")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-ms", type=float, default=5.0)
    parser.add_argument("--webhook", default=None)
    parser.add_argument("--one-process", action="store_true", help="write in the receiving process (one core)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    store = Store(args.database)
    store.init()
    hooks = [webhook_hook(args.webhook)] if args.webhook else []
    service = MqttMonitor(Monitor(store, hooks=hooks), args.host, args.port, client_id=args.client_id,
                          batch_size=args.batch_size, batch_ms=args.batch_ms, writer_process=not args.one_process)
    signal.signal(signal.SIGTERM, lambda *_: service.stop())
    signal.signal(signal.SIGINT, lambda *_: service.stop())
    service.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
