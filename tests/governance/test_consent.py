"""Consent decisions from FHIR Consent resources (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hygeia.governance.consent import RESEARCH, TREATMENT, decide, research_consent


def _privacy(cid: str, purposes: list[str] | None = None, status: str = "active") -> dict[str, Any]:
    provision: dict[str, Any] = {"type": "deny"}
    if purposes:
        provision["purpose"] = [{"code": p} for p in purposes]
    return {"resourceType": "Consent", "id": cid, "status": status, "dateTime": "2024-05-01",
            "scope": {"coding": [{"code": "patient-privacy"}]}, "provision": provision}


def test_default_is_opt_out_model() -> None:
    assert decide([], RESEARCH).permitted
    assert not decide([], RESEARCH, default=False).permitted


def test_research_opt_out_and_latest_wins() -> None:
    out = research_consent("p1", opt_out=True, when="2024-01-01", cid="a")
    assert not decide([out], RESEARCH).permitted
    back_in = research_consent("p1", opt_out=False, when="2024-06-01", cid="b")
    decision = decide([back_in, out], RESEARCH)
    assert decision.permitted and decision.consent_id == "b"
    assert decide([out], TREATMENT).permitted  # research opt-out does not touch care


def test_inactive_and_out_of_period_consents_do_not_count() -> None:
    out = research_consent("p1", opt_out=True)
    assert decide([{**out, "status": "inactive"}], RESEARCH).permitted
    bounded = {**out, "provision": {**out["provision"], "period": {"start": "2024-01-01", "end": "2024-02-01"}}}
    assert not decide([bounded], RESEARCH, at=datetime(2024, 1, 15, tzinfo=UTC)).permitted
    assert decide([bounded], RESEARCH, at=datetime(2024, 3, 1, tzinfo=UTC)).permitted


def test_sharing_restriction() -> None:
    assert not decide([_privacy("x")], RESEARCH).permitted
    assert decide([_privacy("x")], TREATMENT).permitted  # no purposes listed: everything but treatment
    assert decide([_privacy("y", ["HMARKT"])], RESEARCH).permitted
    assert not decide([_privacy("y", ["HRESCH"])], RESEARCH).permitted


def test_malformed_consents_are_ignored_not_fatal() -> None:
    junk: list[Any] = [{"resourceType": "Consent"}, {"resourceType": "Patient"},
                       {"resourceType": "Consent", "status": "active", "scope": "research", "provision": []},
                       {**research_consent("p", opt_out=True), "dateTime": "not-a-date"}]
    assert not decide(junk, RESEARCH).permitted  # the malformed-date opt-out still counts as an opt-out
    assert decide(junk[:3], RESEARCH).permitted
