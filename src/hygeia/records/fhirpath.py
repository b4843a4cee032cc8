"""Small, fast accessors for FHIR JSON (dicts): who a resource is about, when, and its coded values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# Where each resource type points at its patient (first match wins).
_PATIENT_FIELDS = ("subject", "patient", "beneficiary", "individual")


def parse_fhir_datetime(value: str) -> datetime:
    """A FHIR date/dateTime/instant as an aware UTC datetime (partial dates → start of period).

    Raises ValueError naming the value when it is not a FHIR date.
    """
    text = value.strip()
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=UTC)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a FHIR date/dateTime: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def reference_id(reference: Any, resource_type: str = "Patient") -> str | None:
    """The id in a reference like ``{"reference": "Patient/123"}``, if it is of ``resource_type``."""
    if not isinstance(reference, dict):
        return None
    ref = reference.get("reference")
    if not isinstance(ref, str):
        return None
    prefix = resource_type + "/"
    if ref.startswith(prefix):
        return ref[len(prefix):].split("/_history", 1)[0]
    marker = "/" + prefix
    if marker in ref:  # absolute URL
        return ref.rsplit(marker, 1)[1].split("/_history", 1)[0]
    return None


def patient_of(resource: dict[str, Any]) -> str | None:
    """The id of the patient a resource belongs to, or None for shared resources."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) else None
    for field in _PATIENT_FIELDS:
        value = resource.get(field)
        pid = reference_id(value)
        if pid:
            return pid
    return None


def effective_time(resource: dict[str, Any]) -> datetime | None:
    """When an observation-like resource applies: effective[x], else issued."""
    for key in ("effectiveDateTime", "effectiveInstant", "issued"):
        value = resource.get(key)
        if isinstance(value, str):
            return parse_fhir_datetime(value)
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return parse_fhir_datetime(period["start"])
    return None


def _value(element: dict[str, Any]) -> tuple[float | None, str | None, str | None]:
    qty = element.get("valueQuantity")
    if isinstance(qty, dict) and qty.get("value") is not None:
        unit = qty.get("code") or qty.get("unit")
        return float(qty["value"]), None, unit
    cc = element.get("valueCodeableConcept")
    if isinstance(cc, dict):
        codings = cc.get("coding") or []
        text = codings[0].get("code") if codings else cc.get("text")
        return None, text, None
    for key, conv in (("valueString", str), ("valueBoolean", lambda v: "true" if v else "false"),
                      ("valueDateTime", str)):
        if key in element:
            return None, conv(element[key]), None
    if "valueInteger" in element:
        return float(element["valueInteger"]), None, None
    return None, None, None


def observation_rows(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Index rows of an Observation: one per coding of its code and of each component's code."""
    rid = resource["id"]
    patient = patient_of(resource)
    when = effective_time(resource)
    status = resource.get("status")
    category = None
    for cat in resource.get("category") or []:
        for c in cat.get("coding") or []:
            category = c.get("code")
            break
        if category:
            break
    rows: list[dict[str, Any]] = []
    parts = [resource, *(resource.get("component") or [])]
    for part in parts:
        num, text, unit = _value(part)
        for c in (part.get("code") or {}).get("coding") or []:
            if not c.get("code"):
                continue
            rows.append({"resource_id": rid, "seq": len(rows), "patient_id": patient,
                         "system": c.get("system") or "", "code": str(c["code"])[:64], "category": category,
                         "effective": when, "value_num": num, "value_str": text[:255] if text else None,
                         "unit": unit[:64] if unit else None, "status": status})
    return rows
