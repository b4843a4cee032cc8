"""HL7 v2 ADT messages → FHIR R4 Patient and Encounter (with location history).

Reads the segments MSH, EVN, PID, PV1 and (optionally) PV2 of the events A01 (admit), A02
(transfer), A03 (discharge), A04 (register) and A08 (update patient information). Separators and
escape characters are taken from MSH-1/MSH-2 (HL7 v2.5.1, chapter 2 "Control", sections 2.5 and
2.7). The Encounter keeps every bed/ward the patient occupied as ``Encounter.location`` entries with
a period: a transfer closes the current location and opens the next, a discharge closes the
encounter (status ``finished``, ``period.end``). Hospital operations read bed occupancy from this.

Timestamps without a UTC offset are taken as UTC (FHIR needs a zone once a time is given).
The core is pure: text in, dataclasses and dicts out.
"""

from __future__ import annotations

import hashlib
import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from hygeia.records.codes import ACT_CODE, coding

EVENTS = {"A01": "admit", "A02": "transfer", "A03": "discharge", "A04": "register", "A08": "update"}
SEGMENTS = ("MSH", "EVN", "PID", "PV1", "PV2")
LOCATION_SYSTEM = "https://hygeia.example.org/fhir/sid/hl7v2-location"
IDENTIFIER_BASE = "https://hygeia.example.org/fhir/sid/hl7v2-patient-id"
VISIT_SYSTEM = "https://hygeia.example.org/fhir/sid/hl7v2-visit-number"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
# HL7 table 0004 patient class → v3 ActCode encounter class.
PATIENT_CLASS = {"I": "IMP", "O": "AMB", "E": "EMER", "P": "PRENC", "R": "AMB", "B": "IMP"}
CLASS_DISPLAY = {
    "IMP": "inpatient encounter",
    "AMB": "ambulatory",
    "EMER": "emergency",
    "PRENC": "pre-admission",
}
SEX = {"F": "female", "M": "male", "O": "other", "A": "other", "U": "unknown", "N": "unknown"}
MLLP_CHARS = "\x0b\x1c"
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$")


class Hl7ParseError(ValueError):
    """A malformed or unsupported message; ``where`` names the segment and field (e.g. ``PV1-3``)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


@dataclass(frozen=True)
class Encoding:
    """The separators of one message (MSH-1 and MSH-2)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    def unescape(self, text: str) -> str:
        """Resolve escapes (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\Xhh\\ \\.br\\); unknown ones are dropped."""
        e = self.escape
        if not e or e not in text:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            end = text.find(e, i + 1) if ch == e else -1
            if end < 0:
                out.append(ch)
                i += 1
                continue
            seq = text[i + 1 : end]
            simple = {
                "F": self.field,
                "S": self.component,
                "T": self.subcomponent,
                "R": self.repetition,
                "E": self.escape,
                ".br": "\n",
            }
            if seq in simple:
                out.append(simple[seq])
            elif seq.startswith("X") and len(seq) % 2 == 1 and re.fullmatch(r"[0-9A-Fa-f]*", seq[1:]):
                out.append(bytes.fromhex(seq[1:]).decode("latin-1"))
            i = end + 1
        return "".join(out)

    def escape_text(self, text: str) -> str:
        """The inverse of :meth:`unescape` for plain text (used to build messages)."""
        table = {
            self.escape: "E",
            self.field: "F",
            self.component: "S",
            self.subcomponent: "T",
            self.repetition: "R",
        }
        out = []
        for ch in text:
            if ch in table:
                out.append(f"{self.escape}{table[ch]}{self.escape}")
            elif ch == "\n":
                out.append(f"{self.escape}.br{self.escape}")
            elif ch == "\r" or ord(ch) < 32:
                out.append(f"{self.escape}X{ord(ch):02X}{self.escape}")
            else:
                out.append(ch)
        return "".join(out)


@dataclass(frozen=True)
class PersonLocation:
    """HL7 PL (PV1-3, PV1-6): point of care (ward), room, bed, facility."""

    ward: str
    room: str = ""
    bed: str = ""
    facility: str = ""

    @property
    def key(self) -> str:
        return "/".join((self.facility, self.ward, self.room, self.bed))

    @property
    def display(self) -> str:
        parts = [self.ward or "unknown ward"]
        if self.room:
            parts.append(f"room {self.room}")
        if self.bed:
            parts.append(f"bed {self.bed}")
        return ", ".join(parts)


@dataclass(frozen=True)
class AdtMessage:
    """The parts of an ADT message that Hygeia uses."""

    event: str  # A01, A02, A03, A04 or A08
    control_id: str  # MSH-10
    sent: datetime | None  # MSH-7
    event_time: datetime | None  # EVN-6 (event occurred), else EVN-2 (recorded), else MSH-7
    patient_id: str  # PID-3, first repetition, ID
    assigning_authority: str  # PID-3.4
    family: str
    given: tuple[str, ...]
    birth_date: date | None
    sex: str  # PID-8 as given (F, M, O, U, A, N or "")
    patient_class: str  # PV1-2
    location: PersonLocation | None  # PV1-3
    prior_location: PersonLocation | None  # PV1-6
    visit_number: str  # PV1-19
    admit_time: datetime | None  # PV1-44
    discharge_time: datetime | None  # PV1-45
    admit_reason: str  # PV2-3 text


def split_messages(text: str) -> list[str]:
    """Split a file/stream into messages (each starts with ``MSH``); MLLP framing is ignored."""
    clean = text.replace("\x1c\r", "\r")
    for ch in MLLP_CHARS:
        clean = clean.replace(ch, "\r")
    messages: list[list[str]] = []
    for line in re.split(r"\r\n|\r|\n", clean):
        if not line.strip():
            continue
        if line.startswith("MSH"):
            messages.append([line])
        elif messages:
            messages[-1].append(line)
        else:
            raise Hl7ParseError("MSH", f"text before the first MSH segment: {line[:40]!r}")
    return ["\r".join(m) for m in messages]


def _ts(text: str, where: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    m = _TS.match(text)
    if not m:
        raise Hl7ParseError(where, f"invalid timestamp {text!r} (expected YYYY[MM[DD[HH[MM[SS]]]]][+/-ZZZZ])")
    year, month, day, hour, minute, second, frac, offset = m.groups()
    tz = UTC
    if offset:
        sign = 1 if offset[0] == "+" else -1
        hh, mm = int(offset[1:3]), int(offset[3:5])
        if hh > 23 or mm > 59:
            raise Hl7ParseError(where, f"invalid UTC offset in {text!r}")
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    try:
        micro = int((frac or "0").ljust(6, "0")[:6])
        return datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError as exc:
        raise Hl7ParseError(where, f"invalid timestamp {text!r}: {exc}") from None


class _Segment:
    def __init__(self, name: str, fields: list[str], enc: Encoding) -> None:
        self.name, self.fields, self.enc = name, fields, enc

    def raw(self, n: int) -> str:
        """Field ``n`` (1-based, MSH counts MSH-1 as the field separator) as raw text."""
        index = n - 1 if self.name == "MSH" else n
        return self.fields[index] if index < len(self.fields) else ""

    def components(self, n: int, repetition: int = 0) -> list[str]:
        reps = self.raw(n).split(self.enc.repetition) if self.enc.repetition else [self.raw(n)]
        rep = reps[repetition] if repetition < len(reps) else ""
        return [self.enc.unescape(c.split(self.enc.subcomponent)[0]) for c in rep.split(self.enc.component)]

    def component(self, n: int, c: int = 1) -> str:
        comps = self.components(n)
        return comps[c - 1].strip() if c - 1 < len(comps) else ""


def _encoding(msh: str) -> Encoding:
    if len(msh) < 8 or not msh.startswith("MSH"):
        raise Hl7ParseError("MSH", "message must start with an MSH segment")
    field = msh[3]
    if field.isalnum() or field in " \r\n":
        raise Hl7ParseError("MSH-1", f"invalid field separator {field!r}")
    chars = msh[4:].split(field, 1)[0]
    if len(chars) < 4 or len(set(chars[:4])) < 4 or field in chars[:4] or any(c.isalnum() for c in chars[:4]):
        raise Hl7ParseError("MSH-2", f"invalid encoding characters {chars!r} (expected 4 distinct, e.g. ^~\\&)")
    return Encoding(field, chars[0], chars[1], chars[2], chars[3])


def _location(seg: _Segment, n: int) -> PersonLocation | None:
    comps = seg.components(n) + [""] * 4
    ward, room, bed, facility = (c.strip() for c in comps[:4])
    if not (ward or room or bed):
        return None
    return PersonLocation(ward, room, bed, facility)


def parse_message(text: str) -> AdtMessage:
    """Parse one ADT message. Raises :class:`Hl7ParseError` (a ``ValueError``) naming the field."""
    if not isinstance(text, str):
        raise Hl7ParseError("MSH", "message must be text")
    for ch in MLLP_CHARS:
        text = text.replace(ch, "")
    lines = [ln for ln in re.split(r"\r\n|\r|\n", text.strip()) if ln.strip()]
    if not lines:
        raise Hl7ParseError("MSH", "empty message")
    enc = _encoding(lines[0])
    segments: dict[str, _Segment] = {}
    for line in lines:
        name = line[:3]
        if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", name) or (len(line) > 3 and line[3] != enc.field):
            raise Hl7ParseError(name or "segment", f"not a segment: {line[:40]!r}")
        if name == "MSH" and "MSH" in segments:
            raise Hl7ParseError("MSH", "more than one MSH segment: split the messages first")
        if name in SEGMENTS and name not in segments:
            segments[name] = _Segment(name, line.split(enc.field), enc)
    msh = segments["MSH"]
    msg_type, trigger = msh.component(9, 1), msh.component(9, 2)
    if msg_type != "ADT":
        raise Hl7ParseError("MSH-9", f"not an ADT message: {msh.raw(9)!r}")
    evn = segments.get("EVN")
    event = trigger or (evn.component(1) if evn else "")
    if event not in EVENTS:
        raise Hl7ParseError("MSH-9", f"unsupported event {event!r} (supported: {', '.join(EVENTS)})")
    sent = _ts(msh.component(7), "MSH-7")
    event_time = None
    if evn:
        event_time = _ts(evn.component(6), "EVN-6") or _ts(evn.component(2), "EVN-2")
    pid = segments.get("PID")
    if pid is None:
        raise Hl7ParseError("PID", "missing PID segment")
    patient_id = pid.component(3, 1)
    if not patient_id:
        raise Hl7ParseError("PID-3", "missing patient identifier")
    birth = _ts(pid.component(7), "PID-7")
    pv1 = segments.get("PV1")
    if pv1 is None and event != "A08":
        raise Hl7ParseError("PV1", f"missing PV1 segment (required for {event})")
    location = _location(pv1, 3) if pv1 else None
    if event in ("A01", "A02", "A04") and location is None:
        raise Hl7ParseError("PV1-3", f"missing assigned patient location (required for {event})")
    pv2 = segments.get("PV2")
    given = tuple(g for g in (pid.component(5, 2), pid.component(5, 3)) if g)
    return AdtMessage(
        event=event,
        control_id=msh.component(10),
        sent=sent,
        event_time=event_time or sent,
        patient_id=patient_id,
        assigning_authority=pid.component(3, 4),
        family=pid.component(5, 1),
        given=given,
        birth_date=birth.date() if birth else None,
        sex=pid.component(8).upper(),
        patient_class=pv1.component(2).upper() if pv1 else "",
        location=location,
        prior_location=_location(pv1, 6) if pv1 else None,
        visit_number=pv1.component(19) if pv1 else "",
        admit_time=_ts(pv1.component(44), "PV1-44") if pv1 else None,
        discharge_time=_ts(pv1.component(45), "PV1-45") if pv1 else None,
        admit_reason=(pv2.component(3, 2) or pv2.component(3, 1)) if pv2 else "",
    )


def _fhir_id(prefix: str, *parts: str) -> str:
    raw = "-".join(parts)
    safe = re.sub(r"[^A-Za-z0-9\-.]", "-", raw)
    if len(prefix) + len(safe) > 64 or safe != raw:
        safe = f"{safe[:30]}-{hashlib.sha256(raw.encode()).hexdigest()[:16]}"
    return f"{prefix}{safe}"[:64]


def _fhir_dt(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _location_entry(loc: PersonLocation, start: datetime | None, status: str) -> dict[str, Any]:
    physical = ("bd", "Bed") if loc.bed else ("ro", "Room") if loc.room else ("wa", "Ward")
    entry: dict[str, Any] = {
        "location": {"identifier": {"system": LOCATION_SYSTEM, "value": loc.key}, "display": loc.display},
        "status": status,
        "physicalType": {"coding": [coding(PHYSICAL_TYPE, *physical)]},
    }
    if start:
        entry["period"] = {"start": _fhir_dt(start)}
    return entry


def _close_active(encounter: dict[str, Any], when: datetime | None) -> None:
    for entry in encounter.get("location", []):
        if entry.get("status") in ("active", "planned", "reserved"):
            entry["status"] = "completed"
            if when:
                entry.setdefault("period", {})["end"] = _fhir_dt(when)


def _already_applied(encounter: dict[str, Any], message: AdtMessage) -> bool:
    """True for an A01/A04/A02 whose location change the encounter already records (same start)."""
    if message.event in ("A01", "A04"):
        moment = message.admit_time or message.event_time
    elif message.event == "A02":
        moment = message.event_time
    else:
        return False
    if moment is None:
        return False
    for entry in encounter.get("location", []):
        start = (entry.get("period") or {}).get("start")
        if isinstance(start, str) and datetime.fromisoformat(start.replace("Z", "+00:00")) == moment:
            return True
    return False


def _active_key(encounter: dict[str, Any]) -> str | None:
    for entry in reversed(encounter.get("location", [])):
        if entry.get("status") == "active":
            return str(entry["location"].get("identifier", {}).get("value"))
    return None


def patient_resource(message: AdtMessage) -> dict[str, Any]:
    """The FHIR Patient that PID describes."""
    authority = message.assigning_authority or "unknown"
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _fhir_id("hl7-p-", authority, message.patient_id),
        "identifier": [{"system": f"{IDENTIFIER_BASE}/{quote(authority, safe='')}", "value": message.patient_id}],
        "gender": SEX.get(message.sex, "unknown"),
    }
    if message.family or message.given:
        name: dict[str, Any] = {}
        if message.family:
            name["family"] = message.family
        if message.given:
            name["given"] = list(message.given)
        patient["name"] = [name]
    if message.birth_date:
        patient["birthDate"] = message.birth_date.isoformat()
    return patient


def apply_adt(message: AdtMessage, encounter: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply one ADT event to the patient's current Encounter (or start one): → (Patient, Encounter).

    The input encounter is not modified. A01/A04 open the PV1-3 location; A02 closes the active
    location at the event time and opens PV1-3; A03 closes it and finishes the encounter (end =
    PV1-45, else the event time); A08 updates demographics and class, and adds PV1-3 only when the
    encounter has no location yet.
    """
    patient = patient_resource(message)
    when = message.event_time
    if encounter is None:
        key = message.visit_number or (message.admit_time or when or datetime(1970, 1, 1, tzinfo=UTC)).strftime(
            "%Y%m%d%H%M%S"
        )
        enc: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": _fhir_id("hl7-enc-", message.patient_id, key),
            "status": "in-progress",
            "location": [],
        }
        if message.visit_number:
            enc["identifier"] = [{"system": VISIT_SYSTEM, "value": message.visit_number}]
    else:
        if encounter.get("resourceType") != "Encounter":
            raise ValueError("apply_adt: the current encounter must be a FHIR Encounter dict")
        enc = deepcopy(encounter)
        enc.setdefault("location", [])
    enc["subject"] = {"reference": f"Patient/{patient['id']}"}
    cls = PATIENT_CLASS.get(message.patient_class)
    if cls:
        enc["class"] = coding(ACT_CODE, cls, CLASS_DISPLAY[cls])
    elif "class" not in enc:
        enc["class"] = coding(NULL_FLAVOR, "UNK", "unknown")
    if message.admit_reason:
        enc["reasonCode"] = [{"text": message.admit_reason}]

    if _already_applied(enc, message):
        pass  # a replayed admit/transfer: the encounter already has a location from that moment
    elif message.event in ("A01", "A04"):
        start = message.admit_time or when
        enc["status"] = "in-progress" if message.event == "A01" else "arrived"
        if start:
            enc.setdefault("period", {})["start"] = _fhir_dt(start)
        if message.location and _active_key(enc) != message.location.key:
            _close_active(enc, start)
            enc["location"].append(_location_entry(message.location, start, "active"))
    elif message.event == "A02":
        if enc["status"] in ("planned", "arrived"):
            enc["status"] = "in-progress"
        if not enc["location"] and message.prior_location:
            prior = _location_entry(message.prior_location, None, "active")
            enc["location"].append(prior)
        if message.location and _active_key(enc) != message.location.key:
            _close_active(enc, when)
            enc["location"].append(_location_entry(message.location, when, "active"))
    elif message.event == "A03":
        end = message.discharge_time or when
        if not enc["location"] and message.location:
            enc["location"].append(_location_entry(message.location, message.admit_time, "active"))
        _close_active(enc, end)
        enc["status"] = "finished"
        if end:
            enc.setdefault("period", {})["end"] = _fhir_dt(end)
    else:  # A08
        if not enc["location"] and message.location:
            enc["location"].append(_location_entry(message.location, message.admit_time or when, "active"))
        if message.admit_time and "start" not in enc.get("period", {}):
            enc.setdefault("period", {})["start"] = _fhir_dt(message.admit_time)
    if not enc["location"]:
        del enc["location"]
    return patient, enc
