"""Device messages: registry (device -> patient for a period), HMAC-SHA256 signatures, replay guard.

Pure: no broker, no database, time is passed in. A device publishes to
``hygeia/devices/{device_id}/vitals`` a JSON object::

    {"device_id": "d1", "device_time": "2024-03-01T12:00:00+00:00", "nonce": "8f1c...",
     "readings": [{"parameter": "pulse", "value": 88, "unit": "/min"}, ...],
     "sig": "<hex HMAC-SHA256 of the canonical JSON of every other field, with the device's key>"}

Canonical JSON: keys sorted, separators ``,`` and ``:``, UTF-8, no ASCII escaping. Numbers are written
as orjson writes them (small numbers as ``0.00001``); a signature over Python's
``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` (``1e-05``) is accepted too,
so devices may use either. A message that is unsigned, wrongly signed, from an unknown or unbound
device, outside the clock window, or replayed is rejected with a reason (and counted by the caller),
never scored.
"""

from __future__ import annotations

import hmac
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import orjson

TOPIC_PREFIX = "hygeia/devices/"
TOPIC_SUFFIX = "/vitals"


@dataclass(frozen=True)
class Binding:
    """A device bound to a patient from ``start`` until ``end`` (``None``: still bound)."""

    device_id: str
    patient_id: str
    start: datetime
    end: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass
class DeviceRegistry:
    """Devices, their keys, and which patient each one measures when."""

    keys: dict[str, bytes] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    # device -> its bindings, rebuilt when ``bindings`` changes (appended to directly by loaders)
    _index: dict[str, list[Binding]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(-1, 0), init=False, repr=False, compare=False)

    def register(self, device_id: str, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError(f"device {device_id}: key must be at least 16 bytes")
        self.keys[device_id] = key

    def bind(self, binding: Binding) -> None:
        """Add a binding; refuses one that overlaps another binding of the same device."""
        if binding.device_id not in self.keys:
            raise ValueError(f"device {binding.device_id}: not registered")
        if binding.end is not None and binding.end <= binding.start:
            raise ValueError(f"device {binding.device_id}: binding ends before it starts")
        for b in self.bindings:
            if b.device_id != binding.device_id:
                continue
            if (b.end is None or binding.start < b.end) and (binding.end is None or b.start < binding.end):
                raise ValueError(
                    f"device {binding.device_id}: already bound to patient {b.patient_id} from "
                    f"{b.start.isoformat()}" + (f" to {b.end.isoformat()}" if b.end else "")
                )
        self.bindings.append(binding)

    def patient_for(self, device_id: str, at: datetime) -> str | None:
        if self._indexed != (id(self.bindings), len(self.bindings)):
            index: dict[str, list[Binding]] = {}
            for b in self.bindings:
                index.setdefault(b.device_id, []).append(b)
            self._index, self._indexed = index, (id(self.bindings), len(self.bindings))
        return next((b.patient_id for b in self._index.get(device_id, ()) if b.covers(at)), None)


def canonical(payload: dict[str, Any]) -> bytes:
    """The signed bytes: every field but ``sig``, keys sorted, compact, UTF-8 (orjson's number format)."""
    body = dict(payload)
    body.pop("sig", None)
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # e.g. an integer beyond 64 bits: Python's own JSON writes it
        return canonical_stdlib(payload)


def canonical_stdlib(payload: dict[str, Any]) -> bytes:
    """The same with Python's ``json`` (differs only in number formats such as ``1e-05``)."""
    body = {k: v for k, v in payload.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _signature(key: bytes, body: bytes) -> str:
    return hmac.digest(key, body, "sha256").hex()


def sign(payload: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The payload with its ``sig`` (for devices, simulators and tests)."""
    return {**payload, "sig": _signature(key, canonical(payload))}


def signature_valid(msg: dict[str, Any], key: bytes, sig: str) -> bool:
    """Constant-time check of ``sig`` over the canonical JSON (either number format, see the module doc)."""
    return (hmac.compare_digest(_signature(key, canonical(msg)), sig)
            or hmac.compare_digest(_signature(key, canonical_stdlib(msg)), sig))


@dataclass
class ReplayGuard:
    """Rejects device times outside ``window`` of now and nonces seen within the window."""

    window: timedelta = timedelta(minutes=5)
    seen: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _pruned: datetime | None = None

    def check(self, device_id: str, nonce: str, device_time: datetime, now: datetime) -> str | None:
        """``None`` if fresh (and remembers it), else the reason."""
        if abs(now - device_time) > self.window:
            return "clock-window"
        cutoff = now - 2 * self.window
        # Prune at most every window/10 (not per message: the live path checks thousands a second).
        if self._pruned is None or now - self._pruned >= self.window / 10 or now < self._pruned:
            self._pruned = now
            for k in [k for k, t in self.seen.items() if t < cutoff]:
                del self.seen[k]
        if (device_id, nonce) in self.seen:
            return "replayed"
        self.seen[(device_id, nonce)] = now
        return None


# NamedTuples, not frozen dataclasses: the live path builds several per message (3x cheaper to make).
class DeviceReading(NamedTuple):
    parameter: str
    value: float | str | bool
    unit: str | None


class Accepted(NamedTuple):
    device_id: str
    patient_id: str
    device_time: datetime
    readings: tuple[DeviceReading, ...]


class Rejected(NamedTuple):
    reason: str  # malformed, unsigned, unknown-device, bad-signature, topic-mismatch, clock-window, replayed, unbound
    detail: str = ""


def device_from_topic(topic: str) -> str | None:
    if topic.startswith(TOPIC_PREFIX) and topic.endswith(TOPIC_SUFFIX):
        device = topic[len(TOPIC_PREFIX) : -len(TOPIC_SUFFIX)]
        return device if device and "/" not in device else None
    return None


def verify_message(
    topic: str, raw: bytes, registry: DeviceRegistry, guard: ReplayGuard, now: datetime
) -> Accepted | Rejected:
    """Check one MQTT message: shape, device, signature (constant-time), topic, clock, replay, binding."""
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # also invalid UTF-8, NaN, integers beyond 64 bits
        return Rejected("malformed", f"not JSON ({exc})")
    if not isinstance(msg, dict):
        return Rejected("malformed", "payload is not a JSON object")
    sig = msg.get("sig")
    if not isinstance(sig, str) or not sig:
        return Rejected("unsigned")
    device_id = msg.get("device_id")
    if not isinstance(device_id, str) or device_id not in registry.keys:
        return Rejected("unknown-device", str(device_id))
    if not signature_valid(msg, registry.keys[device_id], sig):
        return Rejected("bad-signature", device_id)
    if device_from_topic(topic) != device_id:
        return Rejected("topic-mismatch", f"{topic} carries device {device_id}")
    try:
        device_time = datetime.fromisoformat(str(msg["device_time"]))
        if device_time.tzinfo is None:
            return Rejected("malformed", "device_time needs a UTC offset")
        nonce = str(msg["nonce"])
        readings = tuple(DeviceReading(str(r["parameter"]), r["value"], r.get("unit")) for r in msg["readings"])
    except (KeyError, TypeError, ValueError) as exc:
        return Rejected("malformed", f"{type(exc).__name__}: {exc}")
    reason = guard.check(device_id, nonce, device_time, now)
    if reason:
        return Rejected(reason, device_id)
    patient = registry.patient_for(device_id, device_time)
    if patient is None:
        return Rejected("unbound", f"device {device_id} has no patient at {device_time.isoformat()}")
    return Accepted(device_id, patient, device_time, readings)


@dataclass
class Gate:
    """Registry + replay guard + counters: the whole admission check for device messages."""

    registry: DeviceRegistry
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    counts: Counter[str] = field(default_factory=Counter)

    def admit(self, topic: str, raw: bytes, now: datetime) -> Accepted | Rejected:
        result = verify_message(topic, raw, self.registry, self.guard, now)
        self.counts["accepted" if isinstance(result, Accepted) else f"rejected:{result.reason}"] += 1
        return result
