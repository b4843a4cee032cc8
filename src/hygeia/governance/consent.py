"""Consent decisions from FHIR R4 Consent resources (pure: no I/O).

Two kinds are honoured (FHIR R4 Consent, http://hl7.org/fhir/R4/consent.html; scope codes from
http://terminology.hl7.org/CodeSystem/consentscope; purposes from v3-ActReason):

* **research** (scope ``research``): ``provision.type`` ``deny`` opts the patient out of research use,
  ``permit`` opts in. Hygeia's default is *opt-out*: a patient without an applicable research Consent
  is included (configurable per call with ``default``).
* **sharing restriction** (scope ``patient-privacy``): ``deny`` restricts sharing for the purposes in
  ``provision.purpose`` (all purposes other than treatment when none are listed).

Only ``status = active`` Consents within their ``provision.period`` count; when several apply the most
recent (``dateTime``) decides. Nested provisions are not evaluated (documented limitation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hygeia.records.fhirpath import parse_fhir_datetime

SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
RESEARCH = "HRESCH"  # v3-ActReason: healthcare research
TREATMENT = "TREAT"


@dataclass(frozen=True)
class Decision:
    permitted: bool
    reason: str
    consent_id: str | None = None


def _codes(concept: Any) -> set[str]:
    if not isinstance(concept, dict):
        return set()
    return {str(c["code"]) for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("code")}


def _in_period(provision: dict[str, Any], at: datetime) -> bool:
    period = provision.get("period")
    if not isinstance(period, dict):
        return True
    try:
        if isinstance(period.get("start"), str) and at < parse_fhir_datetime(period["start"]):
            return False
        if isinstance(period.get("end"), str) and at >= parse_fhir_datetime(period["end"]):
            return False
    except ValueError:
        return False
    return True


def _when(consent: dict[str, Any]) -> datetime:
    try:
        return parse_fhir_datetime(str(consent.get("dateTime") or "1900"))
    except ValueError:
        return datetime(1900, 1, 1, tzinfo=UTC)


def _applies(consent: dict[str, Any], purpose: str, at: datetime) -> bool:
    if consent.get("resourceType") != "Consent" or consent.get("status") != "active":
        return False
    provision = consent.get("provision") if isinstance(consent.get("provision"), dict) else {}
    assert isinstance(provision, dict)
    if not _in_period(provision, at):
        return False
    scope = _codes(consent.get("scope"))
    purposes = {p.get("code") for p in provision.get("purpose") or [] if isinstance(p, dict)}
    if "research" in scope:
        return purpose == RESEARCH
    if "patient-privacy" in scope:
        return purpose in purposes if purposes else purpose != TREATMENT
    return False


def decide(consents: Iterable[dict[str, Any]], purpose: str, *, at: datetime | None = None,
           default: bool = True) -> Decision:
    """May this patient's data be used for ``purpose`` (``HRESCH`` research, or another v3-ActReason)?"""
    when = at or datetime.now(UTC)
    applicable = sorted((c for c in consents if _applies(c, purpose, when)), key=_when)
    if not applicable:
        return Decision(default, "no applicable Consent: " + ("included (opt-out model)" if default else "excluded"))
    latest = applicable[-1]
    provision = latest.get("provision") or {}
    permitted = provision.get("type", "permit") != "deny"
    kind = "research" if "research" in _codes(latest.get("scope")) else "sharing"
    verdict = "permits" if permitted else "denies"
    return Decision(permitted, f"Consent/{latest.get('id')} ({kind}) {verdict} {purpose}", latest.get("id"))


def research_consent(patient_id: str, *, opt_out: bool, when: str = "2024-01-01T00:00:00Z",
                     cid: str | None = None) -> dict[str, Any]:
    """A research opt-out (or opt-in) Consent for ``patient_id`` — for tests and the CLI."""
    return {
        "resourceType": "Consent", "id": cid or f"research-{patient_id}", "status": "active",
        "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": "research"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "57016-8"}]}],
        "patient": {"reference": f"Patient/{patient_id}"}, "dateTime": when,
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                   "code": "OPTOUT" if opt_out else "OPTIN"}]},
        "provision": {"type": "deny" if opt_out else "permit",
                      "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                   "code": RESEARCH}]},
    }


__all__ = ["RESEARCH", "TREATMENT", "Decision", "decide", "research_consent"]
