"""FHIR de-identification profile (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)) with keyed pseudonyms.

What happens to a resource (R4 JSON as dicts; any resource type, walked generically):

- names of people (``HumanName``: ``name`` lists with family/given/text, ``valueHumanName``),
  ``telecom``, ``photo`` and ``Patient.contact`` (relatives) are removed;
- ``address`` keeps only state, country and the 3-digit ZIP — ``000`` for the 3-digit ZIPs whose
  area held 20,000 people or fewer (``RESTRICTED_ZIP3``);
- ``identifier`` values become keyed HMAC-SHA256 pseudonyms (same input, same pseudonym);
- resource ids, ``fullUrl`` and every ``reference`` are rewritten with the same keyed map, so links
  between resources survive (``Patient/x`` and ``urn:uuid:x`` map to the same new id);
- ``birthDate`` keeps the year only; a patient over 89 gets the year of a 90-year-old (Safe
  Harbor aggregates ages over 89 into "90 or older");
- every other date and date-time (year-month precision or finer) is shifted by the patient's keyed
  offset (``date_shift_days``), so intervals survive; time and zone are kept;
- free text (narrative ``text.div``, ``note[].text``, ``valueString``, ``CodeableConcept.text``,
  ``description``, ``comment``, ``Reference.display``) goes through the text de-identifier;
- names of organisations and locations (they place a patient) become keyed pseudonyms.

Use ``deidentify_resources`` over a list of resources or a Bundle's entries, ``deidentify_ndjson``
over a stream of NDJSON lines (bulk export). Pure functions: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from hygeia.governance.deid.text import DeidConfig, date_shift_days, deidentify

# Safe Harbor: the initial three digits of a ZIP code may be kept only where the area formed by all
# ZIP codes with those three digits holds more than 20,000 people; otherwise they become 000.
# The 17 three-digit ZIPs with 20,000 or fewer people (2000 Census), as listed by HHS OCR,
# "Guidance Regarding Methods for De-identification of PHI in Accordance with the HIPAA Privacy
# Rule" (26 Nov 2012), section 3.3.
RESTRICTED_ZIP3 = frozenset(
    [
        "036",
        "059",
        "063",
        "102",
        "203",
        "556",
        "692",
        "790",
        "821",
        "823",
        "830",
        "831",
        "878",
        "879",
        "884",
        "890",
        "893",
    ]
)

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2})(T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?$")
_FREE_TEXT_KEYS = frozenset(["valueString", "description", "comment", "div", "conclusion", "patientInstruction"])
_DROP_KEYS = frozenset(["telecom", "photo", "valueHumanName", "valueContactPoint", "authorString"])
_NOT_DATES = frozenset(["id", "reference", "fullUrl", "url", "system", "code", "value", "version"])
_PATIENT_REFS = ("subject", "patient", "beneficiary", "individual")
_TAG = re.compile(r"(>)([^<]+)(<)")


@dataclass(frozen=True)
class FhirDeidConfig:
    """``key``: the secret for pseudonyms and date shifts; ``as_of``: the date ages are computed at."""

    key: bytes
    as_of: date = field(default_factory=date.today)
    max_shift_days: int = 365
    text: DeidConfig = field(default_factory=DeidConfig)


def _digest(key: bytes, kind: str, value: str) -> bytes:
    return hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()


def pseudonym_id(key: bytes, original: str) -> str:
    """Keyed pseudonym of a resource id, as a UUID (valid FHIR id and urn:uuid)."""
    return str(uuid.UUID(bytes=_digest(key, "id", original)[:16], version=4))


def pseudonym_identifier(key: bytes, system: str, value: str) -> str:
    return _digest(key, "identifier", f"{system}|{value}").hex()[:24]


def _rewrite_reference(ref: str, key: bytes) -> str:
    if ref.startswith("urn:uuid:"):
        return "urn:uuid:" + pseudonym_id(key, ref[9:])
    if ref.startswith("#"):
        return ref
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2:  # [base/]Type/id[/_history/v]
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        return f"{parts[-2]}/{pseudonym_id(key, parts[-1])}"
    return pseudonym_id(key, ref)


def shift_fhir_date(value: str, days: int) -> str:
    """Shift a FHIR date/dateTime of month precision or finer by ``days``, keeping its precision."""
    m = _DATE.match(value)
    if not m:
        return value
    year, month, day, rest = m.group(1), m.group(2), m.group(3), m.group(4) or ""
    if day is None:  # year-month: shift the 15th of the month
        d = date(int(year), int(month), 15) + timedelta(days)
        return f"{d.year:04d}-{d.month:02d}"
    d = date(int(year), int(month), int(day)) + timedelta(days)
    return d.isoformat() + rest


def _birth_year(value: str, as_of: date) -> str:
    year = int(value[:4])
    born = datetime.strptime(value, "%Y-%m-%d").date() if len(value) >= 10 else date(year, 1, 1)
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return str(as_of.year - 90) if age > 89 else f"{year:04d}"


def _address(addr: Any, restricted: frozenset[str] = RESTRICTED_ZIP3) -> dict[str, Any]:
    if not isinstance(addr, dict):
        return {}
    out: dict[str, Any] = {k: addr[k] for k in ("use", "type", "state", "country") if k in addr}
    digits = re.sub(r"\D", "", str(addr.get("postalCode", "")))
    if len(digits) >= 5 and str(addr.get("country", "US")).upper() in ("US", "USA", "UNITED STATES"):
        out["postalCode"] = "000" if digits[:3] in restricted else digits[:3]
    return out


def _is_human_names(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, dict) and ({"family", "given", "text", "prefix"} & set(v)) for v in items)


def patient_key_of(resource: dict[str, Any]) -> str:
    """The original patient id a resource belongs to (its own id for a Patient)."""
    if resource.get("resourceType") == "Patient":
        return str(resource.get("id", ""))
    for name in _PATIENT_REFS:
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"].split("/")[-1].removeprefix("urn:uuid:")
    return str(resource.get("id", ""))


class _Walker:
    def __init__(self, config: FhirDeidConfig, patient: str) -> None:
        self.cfg = config
        self.patient = patient
        self.days = date_shift_days(config.key, "patient:" + patient, config.max_shift_days)

    def text(self, s: str) -> str:
        return deidentify(s, config=self.cfg.text).text

    def div(self, s: str) -> str:
        return _TAG.sub(lambda m: m.group(1) + self.text(m.group(2)) + m.group(3), s)

    def value(self, key: str, v: Any, rtype: str) -> Any:
        if isinstance(v, dict):
            return self.obj(v, rtype, key)
        if isinstance(v, list):
            return [self.value(key, x, rtype) for x in v]
        if isinstance(v, str):
            if key == "reference":
                return _rewrite_reference(v, self.cfg.key)
            if key == "div":
                return self.div(v)
            if key in _FREE_TEXT_KEYS or key == "text":
                return self.text(v)
            if key not in _NOT_DATES and _DATE.match(v):
                return shift_fhir_date(v, self.days)
        return v

    def obj(self, o: dict[str, Any], rtype: str, parent: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        is_ref = isinstance(o.get("reference"), str)
        for k, v in o.items():
            if k in _DROP_KEYS or (k == "contact" and rtype == "Patient" and parent == ""):
                continue
            if k == "name" and _is_human_names(v):
                continue
            if k == "name" and parent == "" and rtype in ("Organization", "Location") and isinstance(v, str):
                out[k] = f"{rtype} {_digest(self.cfg.key, 'name', v).hex()[:8]}"
            elif k in ("address", "valueAddress"):
                out[k] = [_address(a) for a in v] if isinstance(v, list) else _address(v)
            elif k == "identifier":
                out[k] = [self.identifier(i) for i in (v if isinstance(v, list) else [v]) if isinstance(i, dict)]
                if not isinstance(v, list):
                    out[k] = out[k][0] if out[k] else {}
            elif k == "birthDate" and isinstance(v, str) and re.match(r"^\d{4}", v):
                out[k] = _birth_year(v, self.cfg.as_of)
            elif k == "id" and parent == "" and isinstance(v, str):
                out[k] = pseudonym_id(self.cfg.key, v)
            elif k == "display" and is_ref:
                out[k] = self.text(v) if isinstance(v, str) else v
            elif k == "display" or k == "system" or k == "code" or k == "url":
                out[k] = v  # terminology and extension URLs are not PHI
            elif k == "text" and isinstance(v, dict):
                out[k] = {kk: (self.div(vv) if kk == "div" and isinstance(vv, str) else vv) for kk, vv in v.items()}
            else:
                out[k] = self.value(k, v, rtype)
        return out

    def identifier(self, ident: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {k: ident[k] for k in ("use", "type") if k in ident}
        out["system"] = "urn:hygeia:pseudonym"
        out["value"] = pseudonym_identifier(self.cfg.key, str(ident.get("system", "")), str(ident.get("value", "")))
        return out


def deidentify_resource(resource: dict[str, Any], config: FhirDeidConfig, patient: str | None = None) -> dict[str, Any]:
    """De-identify one resource; ``patient`` (original patient id) keys the date shift."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise ValueError("not a FHIR resource: expected a JSON object with a string 'resourceType'")
    rtype = resource["resourceType"]
    walker = _Walker(config, patient if patient is not None else patient_key_of(resource))
    if rtype == "Bundle":
        out = walker.obj({k: v for k, v in resource.items() if k != "entry"}, rtype)
        out["entry"] = [_entry(e, config) for e in resource.get("entry", []) if isinstance(e, dict)]
        return out
    return walker.obj(resource, rtype)


def _entry(entry: dict[str, Any], config: FhirDeidConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in entry.items():
        if k == "fullUrl" and isinstance(v, str):
            out[k] = _rewrite_reference(v, config.key)
        elif k == "resource" and isinstance(v, dict):
            out[k] = deidentify_resource(v, config)
        elif k == "request" and isinstance(v, dict):
            out[k] = {
                kk: (_rewrite_reference(vv, config.key) if kk == "url" and "/" in vv else vv) for kk, vv in v.items()
            }
        else:
            out[k] = v
    return out


def deidentify_resources(resources: Iterable[dict[str, Any]], config: FhirDeidConfig) -> list[dict[str, Any]]:
    """De-identify a list of resources (a bundle's worth), references rewritten consistently."""
    return [deidentify_resource(r, config) for r in resources]


def deidentify_ndjson(lines: Iterable[str | bytes], config: FhirDeidConfig) -> Iterator[str]:
    """De-identify an NDJSON stream (FHIR bulk export): one resource per line in, one line out.

    A line that is not a FHIR resource raises ``ValueError`` naming its line number.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            resource = orjson.loads(line)
            out = deidentify_resource(resource, config)
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"line {number}: {exc}") from None
        yield orjson.dumps(out).decode()
