"""A small MQTT 3.1.1 client for the monitor's hot path: QoS 1 subscribe with batched acknowledgements,
and QoS 1 publish for device simulators.

Why not paho-mqtt here: paho parses and dispatches every message through its network thread and
sends each PUBACK as its own packet from that thread (about 50 µs of CPU per message, measured with
``benchmarks/bench_ews_monitor.py``), a quarter of the monitor's whole budget at 5,000 readings/s
on 2 cores. This client reads whatever the socket holds in one ``recv``, parses all complete
packets, and acknowledges a committed batch with one ``sendall`` — in the thread that stores
the batch, so there is no hand-over between threads at all.

Protocol: OASIS MQTT Version 3.1.1 (2014), sections 2 (fixed header, remaining length), 3.1
(CONNECT), 3.2 (CONNACK), 3.3 (PUBLISH), 3.4 (PUBACK), 3.8/3.9 (SUBSCRIBE/SUBACK), 3.12/3.13
(PINGREQ/PINGRESP), 3.14 (DISCONNECT). Supported: QoS 0 and 1, persistent sessions, keep-alive,
username/password. Not supported (refused with :class:`ProtocolError` if the broker sends them):
QoS 2 (the monitor subscribes with QoS 1, so the broker never delivers QoS 2 to it).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 1, 2, 3, 4, 8, 9, 12, 13, 14
CONNACK_REASONS = {1: "unacceptable protocol version", 2: "client identifier rejected", 3: "server unavailable",
                   4: "bad user name or password", 5: "not authorised"}
MAX_REMAINING = 268_435_455  # the largest remaining length four bytes can encode (3.1.1 §2.2.3)


class ProtocolError(ConnectionError):
    """The broker sent something this client cannot accept (names what and why); reconnect to recover."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    packet_id: int  # 0 for QoS 0
    dup: bool = False
    retain: bool = False


def remaining_length(n: int) -> bytes:
    """The variable-length encoding of a packet's remaining length (§2.2.3)."""
    if not 0 <= n <= MAX_REMAINING:
        raise ValueError(f"remaining length {n} is outside 0-{MAX_REMAINING}")
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    if len(raw) > 65535:
        raise ValueError("an MQTT string is at most 65,535 bytes")
    return len(raw).to_bytes(2, "big") + raw


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + remaining_length(len(body)) + body


def connect_packet(client_id: str, *, clean_session: bool, keepalive: int, username: str | None = None,
                   password: str | None = None) -> bytes:
    flags = (0x02 if clean_session else 0) | (0x80 if username is not None else 0) | (
        0x40 if password is not None else 0)
    body = _string("MQTT") + bytes((4, flags)) + keepalive.to_bytes(2, "big") + _string(client_id)
    if username is not None:
        body += _string(username)
    if password is not None:
        body += _string(password)
    return _packet(CONNECT << 4, body)


def subscribe_packet(packet_id: int, topic: str, qos: int) -> bytes:
    return _packet((SUBSCRIBE << 4) | 0x02, packet_id.to_bytes(2, "big") + _string(topic) + bytes((qos,)))


def publish_packet(topic: str, payload: bytes, qos: int = 0, packet_id: int = 0, *, dup: bool = False,
                   retain: bool = False) -> bytes:
    if qos not in (0, 1):
        raise ValueError(f"qos {qos}: this client publishes with QoS 0 or 1")
    first = (PUBLISH << 4) | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = _string(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload
    return _packet(first, body)


def puback_packet(packet_id: int) -> bytes:
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def parse_publish(first: int, body: bytes | memoryview) -> Message:
    """A PUBLISH packet's fields; ProtocolError names what is wrong."""
    qos = (first >> 1) & 0x03
    if qos > 1:
        raise ProtocolError(f"PUBLISH with QoS {qos}: this client subscribes with QoS 1 at most")
    if len(body) < 2:
        raise ProtocolError("PUBLISH shorter than its topic length")
    end = 2 + int.from_bytes(body[:2], "big")
    if qos:
        end += 2
    if len(body) < end:
        raise ProtocolError("PUBLISH shorter than its topic and packet identifier")
    try:
        topic = bytes(body[2 : end - 2 if qos else end]).decode()
    except UnicodeDecodeError:
        raise ProtocolError("PUBLISH topic is not UTF-8") from None
    packet_id = int.from_bytes(body[end - 2 : end], "big") if qos else 0
    return Message(topic, bytes(body[end:]), qos, packet_id, bool(first & 0x08), bool(first & 0x01))


class PacketReader:
    """Splits a byte stream into MQTT packets: ``feed(data)`` then ``packets()``."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def packets(self) -> list[tuple[int, bytes]]:
        """(first header byte, body) of every complete packet held; a partial one stays buffered."""
        buf = self.buffer
        out: list[tuple[int, bytes]] = []
        pos, size = 0, len(buf)
        while size - pos >= 2:
            length, shift, i, complete = 0, 0, pos + 1, False
            while i < size:
                digit = buf[i]
                i += 1
                length |= (digit & 0x7F) << shift
                if not digit & 0x80:
                    complete = True
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("remaining length longer than four bytes")
            if not complete or size - i < length:
                break  # a partial packet: wait for more bytes
            out.append((buf[pos], bytes(buf[i : i + length])))
            pos = i + length
        if pos:
            del buf[:pos]
        return out


class Connection:
    """One connection to an MQTT broker (blocking socket; one thread reads, any thread may send).

    ``Connection(host, port, client_id, clean_session=False)`` sends CONNECT and waits for CONNACK
    (``session_present`` says whether the broker kept the session). Raises ``OSError`` when the
    broker cannot be reached and :class:`ProtocolError` when it refuses the connection.
    """

    def __init__(self, host: str, port: int, client_id: str, *, clean_session: bool = True, keepalive: int = 15,
                 timeout: float = 10.0, username: str | None = None, password: str | None = None) -> None:
        self.keepalive = keepalive
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = PacketReader()
        self.messages: deque[Message] = deque()
        self.acked: set[int] = set()  # packet ids of our QoS 1 publishes the broker has acknowledged
        self._other: deque[tuple[int, bytes]] = deque()  # CONNACK / SUBACK awaiting their caller
        self._last_sent = self._last_received = time.monotonic()
        self._ping_sent: float | None = None
        self._next_id = 0
        self._send_lock = threading.Lock()
        self.send(connect_packet(client_id, clean_session=clean_session, keepalive=keepalive, username=username,
                                 password=password))
        _, body = self._expect(CONNACK, timeout)
        if len(body) != 2:
            raise ProtocolError(f"CONNACK of {len(body)} bytes (expected 2)")
        if body[1]:
            raise ProtocolError(f"broker refused the connection: {CONNACK_REASONS.get(body[1], body[1])}")
        self.session_present = bool(body[0] & 0x01)

    # -- sending -----------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        with self._send_lock:  # whole packets: a writer thread acknowledges while the reader pings
            self.sock.sendall(data)
        self._last_sent = time.monotonic()

    def next_packet_id(self) -> int:
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> int:
        """Subscribe and wait for SUBACK; returns the QoS granted (ProtocolError if refused)."""
        pid = self.next_packet_id()
        self.send(subscribe_packet(pid, topic, qos))
        _, body = self._expect(SUBACK, timeout)
        if len(body) != 3 or int.from_bytes(body[:2], "big") != pid:
            raise ProtocolError("SUBACK does not match the SUBSCRIBE sent")
        if body[2] == 0x80:
            raise ProtocolError(f"broker refused the subscription to {topic!r}")
        return body[2]

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> int:
        """Send one PUBLISH; returns its packet id (0 for QoS 0). Acknowledgements land in ``acked``."""
        pid = self.next_packet_id() if qos else 0
        self.send(publish_packet(topic, payload, qos, pid))
        return pid

    def ack(self, packet_ids: Iterable[int]) -> None:
        """Acknowledge delivered QoS 1 messages, all in one write."""
        data = b"".join(puback_packet(p) for p in packet_ids)
        if data:
            self.send(data)

    def close(self, *, graceful: bool = True, timeout: float = 2.0) -> None:
        """DISCONNECT, then wait (up to ``timeout``) for the broker to close its side before closing
        ours: closing a socket that still holds unread data resets the connection, and the broker
        may then drop acknowledgements it has received but not yet processed."""
        try:
            if graceful:
                self.sock.sendall(bytes((DISCONNECT << 4, 0)))
                self.sock.shutdown(socket.SHUT_WR)
                deadline = time.monotonic() + timeout
                self.sock.settimeout(timeout)
                while time.monotonic() < deadline and self.sock.recv(1 << 20):
                    pass
        except OSError:
            pass
        self.sock.close()

    # -- receiving ---------------------------------------------------------------------------------
    def _read(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for bytes and sort the packets they complete. False on timeout.

        Waits with ``select``: the socket keeps its own (blocking, ``timeout`` s) mode for the
        writers in other threads, whose ``sendall`` must not meet a non-blocking socket."""
        if not select.select([self.sock], [], [], max(timeout, 0.0))[0]:
            return False
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("the broker closed the connection")
        self._last_received = time.monotonic()
        self.reader.feed(data)
        for first, body in self.reader.packets():
            kind = first >> 4
            if kind == PUBLISH:
                self.messages.append(parse_publish(first, body))
            elif kind == PUBACK:
                self.acked.add(int.from_bytes(body[:2], "big"))
            elif kind == PINGRESP:
                self._ping_sent = None
            elif kind in (CONNACK, SUBACK):
                self._other.append((first, body))
            else:
                raise ProtocolError(f"unexpected packet type {kind} from the broker")
        return True

    def _expect(self, kind: int, timeout: float) -> tuple[int, bytes]:
        deadline = time.monotonic() + timeout
        while True:
            while self._other:
                first, body = self._other.popleft()
                if first >> 4 == kind:
                    return first, body
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = "CONNACK" if kind == CONNACK else "SUBACK"
                raise TimeoutError(f"no {what} from the broker within {timeout:g} s")
            self._read(remaining)

    def poll(self, timeout: float = 0.0) -> None:
        """Read what arrives within ``timeout`` (acknowledgements, messages) and keep the connection alive."""
        self._read(timeout)
        self.keep_alive()

    def receive(self, limit: int, first_wait: float, batch_wait: float) -> list[Message]:
        """Up to ``limit`` messages: waits up to ``first_wait`` s for the first, then up to
        ``batch_wait`` s more for others (returns early when ``limit`` is reached)."""
        deadline = time.monotonic() + first_wait
        while not self.messages:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.keep_alive()
                return []
            self._read(remaining)
        deadline = time.monotonic() + batch_wait
        while len(self.messages) < limit:
            remaining = deadline - time.monotonic()
            if not self._read(remaining if remaining > 0 else 0.0) and remaining <= 0:
                break
        n = min(limit, len(self.messages))
        batch = [self.messages.popleft() for _ in range(n)]
        self.keep_alive()
        return batch

    def keep_alive(self) -> None:
        """PINGREQ when nothing was sent for half the keep-alive; ConnectionError if the broker stays silent."""
        now = time.monotonic()
        if self._ping_sent is not None and self._last_received > self._ping_sent:
            self._ping_sent = None  # the broker spoke since the ping (its PINGRESP may sit behind a backlog)
        if self._ping_sent is not None and now - self._ping_sent > self.keepalive:
            raise ConnectionError(f"nothing from the broker within {self.keepalive} s of a PINGREQ")
        if self._ping_sent is None and now - self._last_sent > self.keepalive / 2:
            self.send(bytes((PINGREQ << 4, 0)))
            self._ping_sent = now
